"""A dry run's prediction: exactly what a real night would send, stage by stage, from one picture of EnKash.

A real night's stages each read EnKash after the stage before has written: the invoices of a customer
created tonight are uploaded tonight, and the invoices uploaded tonight are dispatched tonight. A dry
run sends nothing, so each stage's own plan would miss what the stages before it would have done. The
prediction therefore runs the very planners the stages run, in the same order, over one picture of
EnKash that it updates as the real writes would, assuming every write succeeds:

cancellations (and the truncated-export guard) -> customers (create, update, clear) -> invoices
(upload, update, clear) -> twins removed, then dispatch -> reminders.

Pure polars over the picture and the run ledger's facts, no I/O. The result maps each stage
(``results.Stage``) to the number of rows the real run would send for it: the ``planned`` of
``summary.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import polars as pl

from ar_sync.convergence import invoice_twins
from ar_sync.erp_input import LoadResult
from ar_sync.field_clears import sendable_clears
from ar_sync.lifecycle import (
    DEFAULT_MAX_CANCEL_SHARE,
    LedgerFacts,
    LifecyclePlan,
    check_guard,
    export_keys,
    plan_lifecycle,
)
from ar_sync.planner import (
    DISPATCH_PLAN_COLUMNS,
    customer_id_map,
    dispatch_positions,
    plan_customers,
    plan_invoices,
)
from ar_sync.reminder_policy import DEFAULT_SCHEDULE, ReminderRule, changes_needed
from ar_sync.results import Stage
from enkash_ar.contract import ReceivableStatus
from enkash_ar.models import Customer, CustomerReminder

#: Ids the prediction gives the records a real run would create (EnKash's own ids are unknown yet).
PLACEHOLDER: Final = "dry-run:"


@dataclass(frozen=True)
class Picture:
    """What EnKash holds for the seller: customers (planning frame and models) and invoices."""

    customers: pl.DataFrame
    customer_models: Sequence[Customer]
    invoices: pl.DataFrame


def predict_night(
    customers: LoadResult,
    invoices: LoadResult,
    picture: Picture,
    facts: LedgerFacts | None = None,
    *,
    schedule: Sequence[ReminderRule] = DEFAULT_SCHEDULE,
    max_cancel_share: float = DEFAULT_MAX_CANCEL_SHARE,
    confirm_cancellations: bool = False,
) -> dict[str, int]:
    """The rows each stage of a real night would send, every stage listed (0 when nothing).

    Raises:
        TruncatedExportError: a real night would stop at its first stage, sending nothing, because
            the export would cancel or deactivate too much (``lifecycle.check_guard``).
    """
    facts = facts or LedgerFacts()
    planned = dict.fromkeys((str(s) for s in Stage), 0)
    life = plan_lifecycle(export_keys(customers, invoices), picture.invoices, picture.customers, facts)
    check_guard(life, max_share=max_cancel_share, confirmed=confirm_cancellations)
    planned[Stage.INVOICES_CANCEL] = life.cancellations
    planned[Stage.CUSTOMERS_DEACTIVATE] = life.to_deactivate.height
    planned[Stage.CUSTOMERS_REACTIVATE] = life.to_reactivate.height
    enkash_invoices, enkash_customers, status_of = _after_lifecycle(life, picture)

    customer_plan = plan_customers(customers.valid, enkash_customers)
    planned[Stage.CUSTOMERS_CREATE] = customer_plan.to_create.height
    planned[Stage.CUSTOMERS_UPDATE] = customer_plan.to_update.height
    refused = facts.refused_clears
    planned[Stage.CUSTOMER_FIELDS_CLEAR] = _sent_clears(
        customer_plan.to_clear, "customer_ref", refused.get(Stage.CUSTOMER_FIELDS_CLEAR, {})
    )
    new_customers = customer_plan.to_create.select(
        (PLACEHOLDER + pl.col("uniqueRefNo")).alias("customerId"),
        "uniqueRefNo",
        pl.lit("ACTIVE").alias("status"),
    )
    enkash_customers = pl.concat([enkash_customers, new_customers], how="diagonal_relaxed")
    ids = customer_id_map(enkash_customers)

    invoice_plan = plan_invoices(invoices.valid, ids, invoice_twins(enkash_invoices).keepers)
    planned[Stage.INVOICES_UPLOAD] = invoice_plan.to_create.height
    planned[Stage.INVOICES_UPDATE] = invoice_plan.to_update.height
    planned[Stage.INVOICE_FIELDS_CLEAR] = _sent_clears(
        invoice_plan.to_clear, "externalId", refused.get(Stage.INVOICE_FIELDS_CLEAR, {})
    )
    enkash_invoices = _after_upload(enkash_invoices, invoice_plan.to_create, invoice_plan.to_update)

    twins = invoice_twins(enkash_invoices)
    planned[Stage.INVOICES_DEDUPLICATE] = twins.to_delete.height
    keepers = twins.keepers_of(*DISPATCH_PLAN_COLUMNS)
    planned[Stage.INVOICES_DISPATCH] = dispatch_positions(invoices.valid, keepers, ids).len()

    reminders: list[list[CustomerReminder]] = [
        list(c.customer_reminders)
        for c in picture.customer_models
        if c.customer_id and status_of.get(c.customer_id, c.status or "ACTIVE") == "ACTIVE"
    ]
    reminders += [[] for _ in range(new_customers.height)]
    off = [changes_needed(held, schedule) for held in reminders]
    planned[Stage.REMINDERS] = sum(1 for changes in off if changes)
    planned[Stage.REMINDERS_DEDUPLICATE] = sum(len(changes.delete) for changes in off)
    return planned


def _sent_clears(rows: pl.DataFrame, key_column: str, refused: dict[str, str]) -> int:
    """Clears a real run would send (those EnKash has no call for, or refused before, are not sent)."""
    to_send, _ = sendable_clears(rows, key_column, refused)
    return to_send.height


def _after_lifecycle(
    life: LifecyclePlan, picture: Picture
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, str]]:
    """The picture once the cancellations, deactivations and reactivations are done."""
    withdrawn = life.to_withdraw["invoiceId"].implode()
    invoices = picture.invoices.filter(~pl.col("invoiceId").is_in(life.to_delete["invoiceId"].implode()))
    invoices = invoices.with_columns(
        pl.when(pl.col("invoiceId").is_in(withdrawn))
        .then(pl.lit(ReceivableStatus.CANCELLED.value))
        .otherwise(pl.col("receivableStatus"))
        .alias("receivableStatus")
    )
    status_of = dict.fromkeys(life.to_deactivate["customerId"].to_list(), "INACTIVE")
    status_of |= dict.fromkeys(life.to_reactivate["customerId"].to_list(), "ACTIVE")
    customers = picture.customers.with_columns(
        pl.col("customerId")
        .replace_strict(status_of, default=pl.col("status"), return_dtype=pl.String)
        .alias("status")
    )
    return invoices, customers, status_of


def _after_upload(invoices: pl.DataFrame, created: pl.DataFrame, updated: pl.DataFrame) -> pl.DataFrame:
    """The picture once tonight's invoices are uploaded (undispatched, unpaid) and moved ones patched."""
    moved_to = dict(zip(updated["invoiceId"].to_list(), updated["customerId"].to_list(), strict=True))
    invoices = invoices.with_columns(
        pl.col("invoiceId")
        .replace_strict(moved_to, default=pl.col("customerId"), return_dtype=pl.String)
        .alias("customerId")
    )
    uploaded = created.select(
        (PLACEHOLDER + pl.col("externalId")).alias("invoiceId"),
        pl.col("externalId"),
        pl.col("customerId"),
        pl.lit(False).alias("dispatched"),
        pl.lit(ReceivableStatus.UNPAID.value).alias("receivableStatus"),
        pl.lit(0.0).alias("totalReceived"),
    )
    return pl.concat([invoices, uploaded], how="diagonal_relaxed")
