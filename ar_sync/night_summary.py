"""NightSummary: what one night did for one seller and what is owed, the model summary.json is dumped from.

Collections (money received, the payments file, ERP/EnKash disagreements) come from the night's
payments stage, kept in the run ledger.

Counts come from the run ledger's record of the night (every attempt of it, so a retried night reports
its totals); amounts owed come from EnKash's own invoices read after the night. "Sent" counts what this
night's calls did; "already present" counts what EnKash held before the night touched it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ar_sync.collection_summary import Collections
from ar_sync.rejections import RejectionSummary


class InvoiceTwin(BaseModel):
    """A second copy of an invoice that the cycle may not remove by itself."""

    model_config = ConfigDict(extra="forbid")

    invoice_number: str = Field(description="The ERP invoice number (EnKash externalId).")
    invoice_id: str = Field(description="EnKash id of the extra copy.")
    keeper_id: str | None = Field(description="EnKash id of the copy the cycle keeps.")
    reason: str = Field(description="Why the copy is not deleted automatically.")


class CustomerTwin(BaseModel):
    """An ERP customer_ref that EnKash holds on more than one customer."""

    model_config = ConfigDict(extra="forbid")

    customer_ref: str = Field(description="The ERP customer_ref (EnKash uniqueRefNo).")
    customer_ids: list[str] = Field(description="EnKash customer ids holding it; the first is used.")


class UnclearedField(BaseModel):
    """A field emptied in the ERP that EnKash still holds: the cycle could not clear it."""

    model_config = ConfigDict(extra="forbid")

    record: str = Field(description="The customer_ref or invoice number.")
    field: str = Field(description="The ERP column that was emptied.")
    reason: str = Field(description="Why it was not cleared, and what to do.")


class RejectionReason(BaseModel):
    """One of the most frequent reasons input rows were rejected."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        description="Entity, column and rule, e.g. 'invoices base_amount: decimal comma ...'."
    )
    records: int = Field(description="Rejected records with this reason.")


class RejectedInput(BaseModel):
    """What input validation rejected tonight (``ar_sync.rejections.rejection_summary``) and where the
    report is: handed from the input stage to the summary."""

    model_config = ConfigDict(extra="forbid")

    customers: int = 0
    invoices: int = 0
    top_reasons: list[RejectionReason] = Field(default_factory=list)
    file: str | None = None

    @classmethod
    def of(cls, found: RejectionSummary, file: str | None) -> RejectedInput:
        """From ``rejections.rejection_summary`` of the loaded files, and the report's path."""
        return cls(
            customers=found.rejected.get("customers", 0),
            invoices=found.rejected.get("invoices", 0),
            top_reasons=[RejectionReason(reason=reason, records=n) for reason, n in found.top_reasons],
            file=file,
        )


class StageFailure(BaseModel):
    """A stage of the night that failed while the stages that do not depend on it went on."""

    model_config = ConfigDict(extra="forbid")

    stage: str = Field(description="The stage's flow, e.g. 'dispatch-invoices'.")
    error: str = Field(description="What failed: the error's type and message.")
    skipped: list[str] = Field(
        default_factory=list, description="The stages after it that depend on it, not run tonight."
    )


class OverdueCustomer(BaseModel):
    """One of the customers owing most past due."""

    model_config = ConfigDict(extra="forbid")

    customer_ref: str | None
    customer_name: str | None
    overdue_amount: float
    invoices: int
    oldest_days_past_due: int


class NightSummary(BaseModel):
    """What one night did for one seller, and what is owed after it (``summary.json``)."""

    model_config = ConfigDict(extra="forbid")

    seller_id: str = Field(description="EnKash company id of the seller.")
    as_of: date = Field(description="The night: the business date aging is counted from.")
    dry_run: bool = Field(default=False, description="True when nothing was sent (a preview).")

    customers_created: int = Field(default=0, description="Customers this night created.")
    customers_already_present: int = Field(default=0, description="ERP customers EnKash already held.")
    customers_updated: int = Field(default=0, description="Customers this night updated.")
    customers_failed: int = Field(default=0, description="Customers EnKash refused to create or update.")
    customers_rejected: int = Field(default=0, description="Customer rows rejected by input validation.")

    invoices_uploaded: int = Field(default=0, description="Invoices this night uploaded.")
    invoices_already_present: int = Field(default=0, description="ERP invoices EnKash already held.")
    invoices_failed: int = Field(
        default=0, description="Invoices EnKash refused (or whose customer it lacks)."
    )
    invoices_rejected: int = Field(default=0, description="Invoice rows rejected by input validation.")
    top_rejection_reasons: list[RejectionReason] = Field(
        default_factory=list, description="The most frequent reasons rows were rejected."
    )
    rejected_rows_file: str | None = Field(
        default=None, description="Where rejected_rows.csv is (one line per rejected record)."
    )

    invoices_cancelled: int = Field(
        default=0,
        description="Open invoices this night cancelled: gone from the export, or moved to another "
        "customer after dispatch (deleted if never dispatched, else taken out of collection).",
    )
    invoices_cancel_failed: int = Field(default=0, description="Cancellations EnKash refused.")
    customers_deactivated: int = Field(
        default=0, description="Customers this night deactivated (gone from the export)."
    )
    customers_reactivated: int = Field(
        default=0, description="Customers this project had deactivated, back in the export: activated."
    )
    customer_fields_cleared: int = Field(
        default=0, description="Customer fields emptied in the ERP that this night cleared in EnKash."
    )
    invoice_fields_cleared: int = Field(
        default=0, description="Invoice fields emptied in the ERP that this night cleared in EnKash."
    )
    fields_not_cleared: int = Field(
        default=0, description="Fields emptied in the ERP that EnKash could not clear (see uncleared_fields)."
    )
    invoices_updated: int = Field(default=0, description="Invoices this night patched.")
    invoices_dispatched: int = Field(default=0, description="Invoices this night dispatched for collection.")
    invoices_already_dispatched: int = Field(
        default=0, description="ERP invoices EnKash showed dispatched before this night."
    )
    dispatch_failed: int = Field(default=0, description="Dispatches EnKash refused.")
    invoice_twins_deleted: int = Field(
        default=0, description="Undispatched extra copies of an invoice this night deleted."
    )

    reminders_set: int = Field(
        default=0, description="Customers this night brought on the reminder schedule."
    )
    reminders_already_on_schedule: int = Field(
        default=0, description="Customers already on the schedule before this night."
    )
    reminders_failed: int = Field(default=0, description="Customers whose schedule could not be set.")
    reminder_duplicates_deleted: int = Field(
        default=0, description="Extra copies of a schedule stage this night deleted."
    )

    stages_failed: list[StageFailure] = Field(
        default_factory=list,
        description="Stages that failed tonight while the others ran (the run ends Failed): what they "
        "did not send, the next run sends.",
    )

    invoice_twins: list[InvoiceTwin] = Field(
        default_factory=list, description="Extra invoice copies the cycle may not delete: act on them."
    )
    customer_twins: list[CustomerTwin] = Field(
        default_factory=list, description="customer_refs EnKash holds more than once: act on them."
    )
    uncleared_fields: list[UnclearedField] = Field(
        default_factory=list, description="Fields emptied in the ERP that EnKash still holds: act on them."
    )

    open_invoices: int = Field(default=0, description="Invoices EnKash shows open (one per invoice number).")
    open_amount: float = Field(default=0.0, description="Balance still owed on them, INR.")
    twins_open_amount: float = Field(
        default=0.0, description="Balance on extra invoice copies, not counted in open_amount, INR."
    )
    aging: dict[str, float] = Field(default_factory=dict, description="Open balance per aging bucket, INR.")
    dso: float | None = Field(default=None, description="Days Sales Outstanding over 90 days.")
    top_overdue: list[OverdueCustomer] = Field(default_factory=list, description="Customers owing most.")

    planned: dict[str, int] | None = Field(
        default=None, description="In a dry run: rows each stage would have sent."
    )

    collections: Collections | None = Field(
        default=None,
        description="Payments EnKash received since the last export (the night's payments file), the "
        "collection rate, and invoices the ERP and EnKash disagree on; None when the stage did not run.",
    )

    def attention(self) -> list[str]:
        """What a person must act on after this night (empty when nothing), one sentence each."""
        notes: list[str] = []
        for failure in self.stages_failed:
            skipped = f" ({', '.join(failure.skipped)} did not run)" if failure.skipped else ""
            notes.append(
                f"{failure.stage} failed: {failure.error}{skipped}. The stages that do not depend on it "
                "ran. Run the night again once EnKash answers: it sends only what is still missing, and "
                "nothing twice."
            )
        if self.invoice_twins:
            examples = ", ".join(
                f"{t.invoice_number} ({t.invoice_id}, kept {t.keeper_id})" for t in self.invoice_twins[:5]
            )
            notes.append(
                f"{len(self.invoice_twins)} extra invoice copies in EnKash could not be removed safely "
                f"(e.g. {examples}): each sale has two payment links or a paid copy. Cancel the extra copy "
                "on the EnKash portal (refund if both were paid); the next night checks again."
            )
        if self.customer_twins:
            examples = ", ".join(
                f"{t.customer_ref} ({', '.join(t.customer_ids)})" for t in self.customer_twins[:5]
            )
            notes.append(
                f"{len(self.customer_twins)} customer_refs are held by more than one EnKash customer "
                f"(e.g. {examples}); the cycle uses the first id. Merge or delete the others on the portal."
            )
        if self.uncleared_fields:
            examples = ", ".join(f"{u.record} {u.field}" for u in self.uncleared_fields[:5])
            notes.append(
                f"{len(self.uncleared_fields)} fields emptied in the ERP could not be cleared in EnKash "
                f"(e.g. {examples}: {self.uncleared_fields[0].reason}). Clear them on the EnKash portal; "
                "the cycle does not send the refused call again."
            )
        if self.invoices_cancel_failed:
            notes.append(
                f"{self.invoices_cancel_failed} invoices that left the export could not be cancelled in "
                "EnKash (reasons in bulk_results.parquet, stage invoices_cancel): cancel them on the EnKash "
                "portal, or put them back in the export if they are still owed."
            )
        return notes

    def to_json(self) -> str:
        """The ``summary.json`` text: keys sorted, amounts as numbers, dates ISO."""
        return self.model_dump_json(indent=2) + "\n"

    def counts(self) -> dict[str, Any]:
        """The headline counts (every int field), for printing."""
        return {name: value for name, value in self if isinstance(value, int) and not isinstance(value, bool)}


class NeedsAttentionError(RuntimeError):
    """The night did its work, and left something only a person can fix (the message says what)."""


class StagesFailedError(RuntimeError):
    """A stage of the night failed; the stages that do not depend on it ran and the summary is
    published (it names the failure). The message says which stage, why, and what to do."""
