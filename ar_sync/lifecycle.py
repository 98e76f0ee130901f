"""Invoices and customers that leave the ERP export: what the night cancels, deactivates and reactivates.

The ERP is the truth. Pure polars over the export's keys and the night's picture of EnKash, no I/O:

- an open invoice this project put in EnKash (it carries an ``externalId``, or the run ledger has its
  upload) whose number the export no longer holds, valid or rejected, is cancelled: *deleted* when it
  was never dispatched and has received nothing (no customer has seen it), otherwise *taken out of
  collection* (updateInvoice ``receivableStatus`` CANCELLED: its payment link stops, what was already
  paid stays recorded). A rejected row still holds its number: a typo in tonight's export never
  cancels an invoice;
- an invoice the ERP moved to another customer after EnKash dispatched it is taken out of collection
  the same way, and the upload stage bills it again under its new customer (an undispatched one is
  simply moved: see ``planner.plan_invoices``);
- a customer this project created whose ``customer_ref`` the export no longer holds is deactivated; one
  this project deactivated that is back in the export is activated again.

A truncated export (a job that stopped halfway) would look like every missing invoice was cancelled in
the ERP. So when more than ``max_cancel_share`` (default 5 %) of the open invoices, or of the active
customers, would go in one night, nothing is cancelled and :class:`TruncatedExportError` says so, until
a run confirms it (``confirm_cancellations``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import polars as pl

from ar_sync.convergence import customer_keepers, invoice_twins
from ar_sync.erp_input import LoadResult
from ar_sync.erp_reader import InputFileError
from ar_sync.field_clears import refused_clears
from ar_sync.keys import normalise_key_expr
from ar_sync.results import Stage
from ar_sync.run_ledger import RunLedger
from enkash_ar.contract import OPEN_RECEIVABLE_STATUSES

#: Default share of open invoices (and of active customers) one night may cancel without confirmation.
DEFAULT_MAX_CANCEL_SHARE: Final = 0.05
_OPEN: Final = tuple(sorted(s.value for s in OPEN_RECEIVABLE_STATUSES))
_EXAMPLES: Final = 5
_INVOICE_COLUMNS: Final = ("invoiceId", "externalId", "customerId", "reason")
#: A customer's key in the results and the ledger: its ERP ref, or its EnKash id when it has none.
_CUSTOMER_COLUMNS: Final = (pl.col("customerId"), pl.col("uniqueRefNo").fill_null(pl.col("customerId")))


class TruncatedExportError(InputFileError):
    """The export would cancel or deactivate more than the allowed share in one night: none was."""


@dataclass(frozen=True)
class ExportKeys:
    """The normalised keys of everything the ERP export holds, rejected rows included.

    ``invoices``: ``invoice_key`` of every invoice row; ``billed_to``: ``invoice_key``,
    ``customer_key`` and ``customer_ref`` of the valid invoice rows (who the ERP bills);
    ``customers``: ``customer_key`` of every customer row; ``valid_customers``: ``customer_key`` of the
    valid ones.
    """

    invoices: pl.Series
    billed_to: pl.DataFrame
    customers: pl.Series
    valid_customers: pl.Series


def _keys(result: LoadResult, column: str) -> pl.Series:
    rejected = result.rejected.select(normalise_key_expr(pl.col("key")).alias(column))
    return pl.concat([result.valid.select(column), rejected]).get_column(column).drop_nulls().unique().sort()


def export_keys(customers: LoadResult, invoices: LoadResult) -> ExportKeys:
    """The keys of tonight's loaded export (``erp_input.load_customers`` / ``load_invoices``)."""
    return ExportKeys(
        invoices=_keys(invoices, "invoice_key"),
        billed_to=invoices.valid.select("invoice_key", "customer_key", "customer_ref"),
        customers=_keys(customers, "customer_key"),
        valid_customers=customers.valid.get_column("customer_key").unique().sort(),
    )


@dataclass(frozen=True)
class LedgerFacts:
    """What the run ledger knows that EnKash does not say: which records this project made or changed."""

    #: invoiceIds this project uploaded (of those whose externalId does not say so)
    uploaded_ids: frozenset[str] = frozenset()
    #: customerIds this project created (of those whose uniqueRefNo does not say so)
    created_ids: frozenset[str] = frozenset()
    #: customerIds this project deactivated (of those EnKash holds inactive)
    deactivated_ids: frozenset[str] = frozenset()
    #: clears EnKash refused on an earlier night, per clear stage: key -> reason
    refused_clears: dict[Stage, dict[str, str]] = field(default_factory=dict)


def ledger_facts(
    ledger: RunLedger, seller_id: str, enkash_invoices: pl.DataFrame, enkash_customers: pl.DataFrame
) -> LedgerFacts:
    """The :class:`LedgerFacts` of ``seller_id`` in ``ledger`` about the records EnKash holds tonight.

    The ledger is asked only about what :func:`plan_lifecycle` needs it for: invoices without an
    ``externalId`` and customers without a ``uniqueRefNo`` (the rest are the ERP's by that key), and
    inactive customers (only those can be activated again); not for every id it ever recorded, which
    grows with every night.
    """

    def ours(stage: Stage, frame: pl.DataFrame, asked: pl.Expr, id_column: str) -> frozenset[str]:
        ids = frame.filter(asked).get_column(id_column).drop_nulls()
        return frozenset(ledger.remote_ids_among(seller_id, stage, ids))

    inactive = pl.col("status").fill_null("ACTIVE") == "INACTIVE"
    return LedgerFacts(
        uploaded_ids=ours(
            Stage.INVOICES_UPLOAD, enkash_invoices, pl.col("externalId").is_null(), "invoiceId"
        ),
        created_ids=ours(
            Stage.CUSTOMERS_CREATE, enkash_customers, pl.col("uniqueRefNo").is_null(), "customerId"
        ),
        deactivated_ids=ours(Stage.CUSTOMERS_DEACTIVATE, enkash_customers, inactive, "customerId"),
        refused_clears={
            stage: refused_clears(ledger, seller_id, stage)
            for stage in (Stage.CUSTOMER_FIELDS_CLEAR, Stage.INVOICE_FIELDS_CLEAR)
        },
    )


@dataclass(frozen=True)
class LifecyclePlan:
    """What leaves EnKash tonight, and the counts the guard compares it with.

    Invoice frames have ``invoiceId``, ``externalId`` (as EnKash holds it), ``customerId`` and
    ``reason``; customer frames ``customerId`` and ``uniqueRefNo``.
    """

    #: never dispatched, nothing received: deleteInvoiceCollection
    to_delete: pl.DataFrame
    #: dispatched or partly paid: updateInvoice receivableStatus CANCELLED
    to_withdraw: pl.DataFrame
    to_deactivate: pl.DataFrame
    to_reactivate: pl.DataFrame
    #: open invoices of this project in EnKash before tonight (the guard's denominator)
    open_invoices: int
    #: active customers of this project in EnKash before tonight
    active_customers: int
    #: externalIds of this project's live open invoices: a cancellation whose answer was lost is done
    #: when its number is no longer here
    still_open: frozenset[str]
    #: uniqueRefNo -> status of this project's customers (for deactivations whose answer was lost)
    customer_status: dict[str, str]

    @property
    def cancellations(self) -> int:
        """Invoices tonight would cancel (deleted or taken out of collection)."""
        return self.to_delete.height + self.to_withdraw.height


def plan_lifecycle(
    export: ExportKeys,
    enkash_invoices: pl.DataFrame,
    enkash_customers: pl.DataFrame,
    facts: LedgerFacts | None = None,
) -> LifecyclePlan:
    """What to cancel, deactivate and activate again so that EnKash matches the export.

    Args:
        export: the export's keys (:func:`export_keys`).
        enkash_invoices: the seller's invoices (``frames.INVOICE_SCHEMA``).
        enkash_customers: the seller's customers (``customerId``, ``uniqueRefNo``, ``status``).
        facts: which records the run ledger says this project uploaded, created or deactivated.
    """
    facts = facts or LedgerFacts()
    uploaded_ids, created_ids = list(facts.uploaded_ids), list(facts.created_ids)
    deactivated_ids = list(facts.deactivated_ids)
    refs = enkash_customers.select(
        "customerId", normalise_key_expr(pl.col("uniqueRefNo")).alias("__held_by")
    ).unique("customerId")
    ours = pl.col("externalId").is_not_null() | pl.col("invoiceId").is_in(list(uploaded_ids))
    invoices = (
        invoice_twins(enkash_invoices)
        .keepers.filter(ours & pl.col("receivableStatus").is_in(_OPEN))
        .with_columns(normalise_key_expr(pl.col("externalId")).alias("invoice_key"))
        .join(refs, on="customerId", how="left")
        .join(export.billed_to, on="invoice_key", how="left")
    )
    removed = ~pl.col("invoice_key").is_in(export.invoices.implode()) | pl.col("invoice_key").is_null()
    moved = (
        pl.col("dispatched").fill_null(False)
        & pl.col("customer_key").is_not_null()
        & pl.col("__held_by").is_not_null()
        & (pl.col("customer_key") != pl.col("__held_by"))
    )
    received = pl.col("totalReceived").fill_null(0.0)
    leaving = invoices.filter(removed | moved).with_columns(
        pl.when(removed)
        .then(pl.lit("not in the ERP export any more"))
        .otherwise(pl.format("billed to customer {} in the ERP after dispatch", "customer_ref"))
        .alias("__why")
    )
    deletable = ~pl.col("dispatched").fill_null(False) & (received <= 0)
    to_delete = leaving.filter(deletable).select(
        *_INVOICE_COLUMNS[:3], pl.format("{}: deleted (never dispatched)", "__why").alias("reason")
    )
    to_withdraw = leaving.filter(~deletable).select(
        *_INVOICE_COLUMNS[:3],
        pl.when(received > 0)
        .then(pl.format("{}: taken out of collection ({} already received)", "__why", received))
        .otherwise(pl.format("{}: taken out of collection", "__why"))
        .alias("reason"),
    )

    mine = customer_keepers(enkash_customers).filter(
        pl.col("uniqueRefNo").is_not_null() | pl.col("customerId").is_in(list(created_ids))
    )
    status = pl.col("status").fill_null("ACTIVE")
    customer_key = normalise_key_expr(pl.col("uniqueRefNo"))
    active = mine.filter(status == "ACTIVE")
    to_deactivate = active.filter(
        ~customer_key.is_in(export.customers.implode()) | customer_key.is_null()
    ).select(_CUSTOMER_COLUMNS)
    to_reactivate = mine.filter(
        (status == "INACTIVE")
        & customer_key.is_in(export.valid_customers.implode())
        & pl.col("customerId").is_in(list(deactivated_ids))
    ).select(_CUSTOMER_COLUMNS)
    return LifecyclePlan(
        to_delete=to_delete.sort("externalId"),
        to_withdraw=to_withdraw.sort("externalId"),
        to_deactivate=to_deactivate.sort("uniqueRefNo"),
        to_reactivate=to_reactivate.sort("uniqueRefNo"),
        open_invoices=invoices.height,
        active_customers=active.height,
        still_open=frozenset(invoices.get_column("externalId").drop_nulls().to_list()),
        customer_status=dict(
            zip(
                mine["uniqueRefNo"].fill_null(mine["customerId"]).to_list(),
                mine.select(status).to_series().to_list(),
                strict=True,
            )
        ),
    )


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def check_guard(
    plan: LifecyclePlan, *, max_share: float = DEFAULT_MAX_CANCEL_SHARE, confirmed: bool = False
) -> None:
    """Refuse a night that would cancel or deactivate more than ``max_share`` of what is open or active.

    Raises:
        TruncatedExportError: more than ``max_share`` of the open invoices would be cancelled, or of
            the active customers deactivated, and ``confirmed`` is False. One line: how many of how
            many, examples, and how to confirm.
    """
    invoice_share = _share(plan.cancellations, plan.open_invoices)
    customer_share = _share(plan.to_deactivate.height, plan.active_customers)
    if confirmed or (invoice_share <= max_share and customer_share <= max_share):
        return
    parts, examples = [], []
    if invoice_share > max_share:
        parts.append(
            f"cancel {plan.cancellations} of {plan.open_invoices} open invoices ({invoice_share:.1%})"
        )
        numbers = pl.concat([plan.to_delete, plan.to_withdraw]).get_column("externalId").sort()
        examples.append("invoices " + ", ".join(numbers.head(_EXAMPLES).to_list()))
    if customer_share > max_share:
        parts.append(
            f"deactivate {plan.to_deactivate.height} of {plan.active_customers} active customers "
            f"({customer_share:.1%})"
        )
        refs = plan.to_deactivate.get_column("uniqueRefNo").fill_null(plan.to_deactivate["customerId"])
        examples.append("customers " + ", ".join(refs.head(_EXAMPLES).to_list()))
    raise TruncatedExportError(
        f"The ERP export would {' and '.join(parts)} in EnKash tonight, above the "
        f"{max_share * 100:g}% limit (max_cancel_share): the export may be truncated, so nothing was "
        f"cancelled or deactivated and the night stopped before sending anything else. Missing from the "
        f"export, e.g. {'; '.join(examples)}. Check the "
        "export; if these really left the ERP, run again with --confirm-cancellations "
        "(confirm_cancellations in the flow options)."
    )
