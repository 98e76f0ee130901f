"""The night's collections: what EnKash received since the last export, and what the ERP and EnKash
disagree on. Part of the night's summary (``NightSummary.collections``), kept in the run ledger.

- ``received``: the PAYMENT lines of the night's payments file, INR; ``reversed``: its REVERSAL lines;
- ``collection_rate``: received / (received + still open after the night): of the money owed during
  the period, the share that came in;
- ``erp_credit_sales``: what the ERP invoiced in the 90 days up to the night (base + taxes, by invoice
  date), the denominator of the night's DSO, whose numerator is what EnKash still shows open after its
  receipts;
- ``mismatches``: invoices whose payment state the ERP and EnKash disagree on
  (:mod:`ar_sync.payment_reconciliation`); the first :data:`MAX_LISTED` here, all of them in
  ``payment_mismatches.csv``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Final

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from ar_sync.payments import EntryType

if TYPE_CHECKING:
    from ar_sync.payment_export import PaymentExport

#: Mismatches and reversals listed in the summary; the files hold every one.
MAX_LISTED: Final = 200


class PaymentReversal(BaseModel):
    """Money EnKash took back or refunded on an invoice since the last export."""

    model_config = ConfigDict(extra="forbid")

    payment_ref: str = Field(description="The line's id in the payments file.")
    invoice_number: str | None = Field(description="The ERP invoice number (EnKash externalId).")
    enkash_invoice_id: str = Field(description="EnKash's invoice id.")
    amount: float = Field(description="Amount reversed, INR (positive).")
    total_received: float = Field(description="What EnKash shows received after it, INR.")


class PaymentMismatch(BaseModel):
    """An invoice whose payment state the ERP and EnKash disagree on (nothing was changed)."""

    model_config = ConfigDict(extra="forbid")

    invoice_number: str
    customer_ref: str | None
    enkash_invoice_id: str | None
    kind: str = Field(description="paid_in_erp_open_in_enkash, paid_in_enkash_open_in_erp or amounts_differ.")
    erp_status: str | None = Field(description="What the ERP says: unpaid, partially_paid or paid.")
    erp_amount_paid: float | None = Field(description="The ERP's amount_paid, INR, when given.")
    enkash_status: str | None
    enkash_received: float = Field(description="What EnKash had received as of the earlier exports, INR.")
    enkash_balance: float
    what_to_do: str


class Collections(BaseModel):
    """What the night collected and what does not agree (``summary.json`` ``collections``)."""

    model_config = ConfigDict(extra="forbid")

    period_start: date | None = Field(
        default=None, description="The night of the previous export: payments since it (None: the first)."
    )
    export_state: str = Field(
        description="exported, rewritten (a rerun: same file), kept / superseded (a later night holds "
        "the file), or preview (a dry run)."
    )
    payments_file: str | None = Field(default=None, description="The night's payments.csv, when written.")
    invoices_paid: int = Field(default=0, description="Invoices with money received in the period.")
    received: float = Field(default=0.0, description="Money received in the period, INR.")
    reversed: float = Field(default=0.0, description="Money reversed or refunded in the period, INR.")
    reversals: list[PaymentReversal] = Field(default_factory=list)
    collection_rate: float | None = Field(
        default=None, description="received / (received + open after the night); None if nothing was owed."
    )
    erp_credit_sales: float | None = Field(
        default=None, description="ERP invoice totals dated in the 90 days up to the night, INR (DSO's base)."
    )
    mismatch_count: int = Field(
        default=0, description="Invoices whose payment state the ERP and EnKash dispute."
    )
    mismatches: list[PaymentMismatch] = Field(default_factory=list, description="The first 200 of them.")
    mismatches_file: str | None = Field(default=None, description="payment_mismatches.csv, with all of them.")

    def with_rate(self, open_amount: float) -> Collections:
        """These collections with their collection rate against what is still open after the night."""
        owed = self.received + open_amount
        rate = round(self.received / owed, 4) if owed > 0 else None
        return self.model_copy(update={"collection_rate": rate})


def collections_of(
    export: PaymentExport,
    mismatches: pl.DataFrame,
    *,
    erp_credit_sales: float | None,
    mismatches_file: str | None = None,
) -> Collections:
    """The night's collections from its payment export and the ERP/EnKash mismatches."""
    lines = export.lines
    payments = lines.filter(pl.col("entry_type") == EntryType.PAYMENT)
    reversals = lines.filter(pl.col("entry_type") == EntryType.REVERSAL)
    csv = next((p for p in export.files if p.suffix == ".csv"), None)
    return Collections(
        period_start=date.fromisoformat(export.previous_night) if export.previous_night else None,
        export_state=str(export.state),
        payments_file=str(csv) if csv else None,
        invoices_paid=payments.height,
        received=round(int(payments["amount_paise"].sum()) / 100, 2),
        reversed=round(-int(reversals["amount_paise"].sum()) / 100, 2),
        reversals=[
            PaymentReversal(
                payment_ref=r["payment_ref"],
                invoice_number=r["invoice_number"],
                enkash_invoice_id=r["invoice_id"],
                amount=-r["amount_paise"] / 100,
                total_received=r["total_paise"] / 100,
            )
            for r in reversals.head(MAX_LISTED).iter_rows(named=True)
        ],
        erp_credit_sales=None if erp_credit_sales is None else round(erp_credit_sales, 2),
        mismatch_count=mismatches.height,
        mismatches=[PaymentMismatch(**r) for r in mismatches.head(MAX_LISTED).iter_rows(named=True)],
        mismatches_file=mismatches_file,
    )


def erp_credit_sales(
    erp_invoices: pl.DataFrame | pl.LazyFrame,
    enkash_invoices: pl.DataFrame,
    as_of: date,
    period_days: int = 90,
) -> float:
    """What the ERP invoiced in the ``period_days`` up to ``as_of``: base + taxes, by invoice date.

    An ERP row without an ``invoice_date`` is dated by the invoice EnKash holds for it, if any.
    """
    start = as_of - timedelta(days=period_days)
    amounts = [pl.col(c).cast(pl.Float64).fill_null(0.0) for c in ("base_amount", "cgst", "sgst", "igst")]
    total = pl.sum_horizontal(amounts).sum().alias("total")

    def in_period(day: pl.Expr) -> pl.Expr:
        return (day > start) & (day <= as_of)

    erp = erp_invoices.lazy()
    undated = erp.filter(pl.col("invoice_date").is_null())
    # Only the rows without a date are looked up in EnKash (usually none): a join of every ERP row with
    # every EnKash invoice was the payments stage's peak of memory at a million invoices.
    dated = (
        enkash_invoices.lazy()
        .select(pl.col("externalId").alias("invoice_number"), pl.col("invoiceDate").dt.date().alias("day"))
        .join(undated.select("invoice_number"), on="invoice_number", how="semi")
        .unique("invoice_number", keep="first")
    )
    parts = [
        erp.filter(in_period(pl.col("invoice_date"))).select(total),
        undated.join(dated, on="invoice_number", how="left").filter(in_period(pl.col("day"))).select(total),
    ]
    return float(pl.concat(parts).select(pl.col("total").sum()).collect(engine="streaming").item() or 0.0)


def collections_markdown(collections: Collections | None) -> str:
    """The collections part of the night's markdown artifact (empty when the stage did not run)."""
    if collections is None:
        return ""
    since = collections.period_start.isoformat() if collections.period_start else "the first export"
    rate = "n/a" if collections.collection_rate is None else f"{collections.collection_rate:.1%}"
    lines = [
        "## Collections",
        "",
        f"**Received since {since}:** INR {collections.received:,.2f} on {collections.invoices_paid} "
        f"invoices  ",
        f"**Collection rate:** {rate}  ",
        f"**Payments file:** {collections.payments_file or 'not written (' + collections.export_state + ')'}",
        "",
    ]
    if collections.reversed:
        lines += [
            f"**Reversed on EnKash:** INR {collections.reversed:,.2f} on {len(collections.reversals)} "
            "invoices (REVERSAL lines in the payments file): reverse them in the ERP.",
            "",
        ]
    if collections.mismatch_count:
        lines += [
            f"**ERP and EnKash disagree** on {collections.mismatch_count} invoices "
            f"({collections.mismatches_file or 'payment_mismatches.csv'}); nothing was changed:",
            "",
            "| Invoice | Disagreement | ERP | EnKash |",
            "|---|---|---|---|",
            *(
                f"| {_cell(m.invoice_number)} | {m.kind.replace('_', ' ')} | {m.erp_status or ''} "
                f"| {m.enkash_status or ''} |"
                for m in collections.mismatches[:20]
            ),
            "",
        ]
    return "\n".join(lines) + "\n"


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|")
