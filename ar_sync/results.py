"""What a night did, row by row: the stages, and the one schema of result rows every stage produces.

A result row says, for one record (a customer ref, an invoice number) and one stage, whether it ended
well (``outcome``) and whether this night sent it or found it already in EnKash (``origin``). The
stages write them, the run ledger keeps them per night, the summary counts them.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Final

import polars as pl


class Stage(StrEnum):
    """The stages of a night, in the order they run."""

    #: open invoices the export no longer holds (or that moved customer after dispatch): deleted when
    #: never dispatched, otherwise taken out of collection
    INVOICES_CANCEL = "invoices_cancel"
    #: customers the export no longer holds, deactivated
    CUSTOMERS_DEACTIVATE = "customers_deactivate"
    #: customers this project deactivated that are back in the export, activated again
    CUSTOMERS_REACTIVATE = "customers_reactivate"
    CUSTOMERS_CREATE = "customers_create"
    CUSTOMERS_UPDATE = "customers_update"
    #: customer fields emptied in the ERP, cleared in EnKash (one row per customer and field)
    CUSTOMER_FIELDS_CLEAR = "customer_fields_clear"
    INVOICES_UPLOAD = "invoices_upload"
    INVOICES_UPDATE = "invoices_update"
    #: invoice fields emptied in the ERP, cleared in EnKash (one row per invoice and field)
    INVOICE_FIELDS_CLEAR = "invoice_fields_clear"
    #: undispatched copies of an invoice EnKash holds more than once, deleted
    INVOICES_DEDUPLICATE = "invoices_deduplicate"
    INVOICES_DISPATCH = "invoices_dispatch"
    #: invoices whose money received on EnKash moved since the last export: one payments-file line each
    PAYMENTS_EXPORT = "payments_export"
    REMINDERS = "reminders"
    #: extra reminders of a stage a customer holds more than once, deleted
    REMINDERS_DEDUPLICATE = "reminders_deduplicate"


class RowOutcome(StrEnum):
    """How a row ended."""

    SUCCESS = "success"
    FAILURE = "failure"


class Origin(StrEnum):
    """Who made the row's state: this night's calls, or someone before it."""

    #: this night sent it (in any attempt of the night)
    SENT = "sent"
    #: EnKash already held it (an earlier night, a portal user) and the night sent nothing
    ALREADY_PRESENT = "already_present"


#: Columns of every result row (bulk_results.parquet, the ledger's night record, the summaries).
RESULT_SCHEMA: Final = pl.Schema(
    {
        "stage": pl.String,
        "key": pl.String,
        "outcome": pl.String,
        "origin": pl.String,
        "amount": pl.Float64,
        "reason": pl.String,
        "remote_id": pl.String,
    }
)


def empty_results() -> pl.DataFrame:
    """A result frame with no rows."""
    return pl.DataFrame(schema=RESULT_SCHEMA)


def result_rows(
    stage: Stage,
    keys: Sequence[str] | pl.Series,
    *,
    outcome: RowOutcome = RowOutcome.SUCCESS,
    origin: Origin = Origin.SENT,
    amounts: Sequence[float | None] | pl.Series | None = None,
    reasons: Sequence[str | None] | pl.Series | None = None,
    remote_ids: Sequence[str | None] | pl.Series | None = None,
) -> pl.DataFrame:
    """Result rows of one stage for ``keys``, all with the same outcome and origin.

    The columns may be given as Series (a stage's frame's columns, taken as they are: a quiet night
    notes 100,000 invoices as already present, twice); every one given must be as long as ``keys``.

    Example:
        >>> result_rows(Stage.INVOICES_UPLOAD, ["INV-1"], origin=Origin.ALREADY_PRESENT).height
        1
    """
    given = {"key": keys, "amount": amounts, "reason": reasons, "remote_id": remote_ids}
    columns = pl.DataFrame(
        [
            pl.Series(name, values, dtype=RESULT_SCHEMA[name])
            for name, values in given.items()
            if values is not None
        ]
    )
    return columns.select(
        pl.lit(str(stage)).alias("stage"),
        "key",
        pl.lit(str(outcome)).alias("outcome"),
        pl.lit(str(origin)).alias("origin"),
        *(
            pl.col(name) if given[name] is not None else pl.lit(default, RESULT_SCHEMA[name]).alias(name)
            for name, default in (("amount", 0.0), ("reason", None), ("remote_id", None))
        ),
    )
