"""Twins: records EnKash holds more than once for one ERP key, and which copy the cycle keeps.

EnKash does not deduplicate, so two cycles that overlapped with nothing shared (different machines,
different ledgers, no Prefect server) can both create the same invoice or customer. The lock per seller
prevents that where runs share something; this module makes EnKash converge when they did not. Pure
polars over the night's picture of EnKash, no I/O.

The rules, the same in every run so that two runs that converge at the same moment agree:

Keys are compared the way the ERP compares them (:func:`ar_sync.keys.normalise_key`), so ``INV/1`` and
``inv/1`` are twins. A cancelled copy is no twin: it is out of collection, and an invoice that comes
back into the export after its cancellation is uploaded again beside it.

- invoices are twins when they carry the same ``externalId``. The *keeper* is the dispatched copy (the
  customer may already hold its payment link), or, when none is dispatched, the oldest (``createdOn``,
  then ``invoiceId``). Every other copy that is undispatched, open and has received nothing is deleted.
  Copies that are dispatched too (two live payment links for one sale) or that already received money
  are never touched by the cycle: they are reported, with what to do;
- customers are twins when they carry the same ``uniqueRefNo``. The keeper is the lowest
  ``customerId``; twins are reported, never deleted (a customer is a person's record, not a file row);
- a reminder stage held more than once by one customer keeps its first copy matching the schedule
  (or the first copy) and the others are deleted (see ``reminder_policy``).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Final

import polars as pl

from ar_sync.keys import normalise_key_expr
from enkash_ar.contract import OPEN_RECEIVABLE_STATUSES, ReceivableStatus

#: Receivable statuses in which an undispatched copy may be deleted.
_DELETABLE_STATUSES: Final = tuple(s.value for s in OPEN_RECEIVABLE_STATUSES)
_KEY: Final = "__twin_key"
_ROW: Final = "__twin_row"


@dataclass(frozen=True)
class InvoiceTwins:
    """What the picture of EnKash's invoices says about externalIds held more than once."""

    #: the frame split, and the positions in it of its keepers, ascending
    invoices: pl.DataFrame = field(repr=False)
    keeper_rows: pl.Series = field(repr=False)
    #: undispatched, open, unpaid copies that are not their externalId's keeper: safe to delete
    to_delete: pl.DataFrame
    #: copies the cycle may not delete (dispatched, or money received): externalId, invoiceId, why
    to_report: pl.DataFrame

    @property
    def keepers(self) -> pl.DataFrame:
        """One row per invoice, the keeper of each externalId (and every invoice without one), with
        every column of the frame, in the frame's order: gathered on each ask, and held only as long as
        the caller holds it."""
        return self._gathered(self.invoices)

    def keepers_of(self, *columns: str) -> pl.DataFrame:
        """:attr:`keepers` with only ``columns``: a copy of those, not of every column of every invoice
        (a million-invoice picture has 34)."""
        return self._gathered(self.invoices.select(columns))

    def _gathered(self, frame: pl.DataFrame) -> pl.DataFrame:
        # Every row a keeper (no twins, nothing cancelled: most nights), the positions are 0..n-1: the
        # frame itself, its buffers shared, not a copy of every invoice.
        return frame if self.keeper_rows.len() == frame.height else frame[self.keeper_rows]


def _keeper_order() -> list[pl.Expr]:
    # Dispatched first, then the oldest, then the lowest id: a total order, the same in every run.
    return [
        ~pl.col("dispatched").fill_null(False),
        pl.col("createdOn"),
        pl.col("invoiceId"),
    ]


@dataclass(frozen=True)
class _Split:
    """A frame's split, as row positions in it (a few bytes a row), not as copies of its rows."""

    frame: weakref.ref[pl.DataFrame]
    keeper_rows: pl.Series
    delete_rows: pl.Series
    to_report: pl.DataFrame

    def twins(self, invoices: pl.DataFrame) -> InvoiceTwins:
        return InvoiceTwins(
            invoices=invoices,
            keeper_rows=self.keeper_rows,
            to_delete=invoices[self.delete_rows],
            to_report=self.to_report,
        )


#: The last frame split, and its split: the stages of a night ask again about the picture's same frame
#: (replaced, never changed in place, when the night's writes change it). Held only while that frame
#: lives, let go before another frame is split, and kept as row positions: the sort is what costs, and
#: a cache of the split rows themselves would hold a second copy of every invoice all night (+650 MiB
#: of peak at a million invoices).
_last: _Split | None = None


def _forget(split: weakref.ref[_Split]) -> None:
    global _last
    if _last is not None and _last is split():
        _last = None


def invoice_twins(invoices: pl.DataFrame) -> InvoiceTwins:
    """Split the seller's live invoices into one keeper per externalId and the extra copies.

    Cancelled copies are left out of all three frames. Asked again about the same frame object, it
    answers from the last split (a sort of every invoice, several times a night otherwise).

    Args:
        invoices: EnKash's invoices (``frames.INVOICE_SCHEMA`` columns; at least invoiceId,
            externalId, dispatched, receivableStatus, totalReceived, createdOn).
    """
    global _last
    if (last := _last) is not None and last.frame() is invoices:
        return last.twins(invoices)
    _last = None  # let the old split go before the new one is made
    split = _split_twins(invoices)
    weakref.finalize(invoices, _forget, weakref.ref(split))  # holds neither the split nor the frame
    _last = split
    return split.twins(invoices)


#: The columns the split reads: it is made on these alone (a selection shares the picture's buffers),
#: so its filter and sort copy a few columns of every invoice, not the picture's every column.
_SPLIT_COLUMNS: Final = (
    "invoiceId",
    "externalId",
    "customerId",
    "dispatched",
    "receivableStatus",
    "totalReceived",
    "createdOn",
)


def _split_twins(invoices: pl.DataFrame) -> _Split:
    # Row positions and keys only: the live rows' keys, and which of them repeat. Only the rows of a
    # repeated key are ranked (sorted by the keeper order): every other row is its key's one copy, a
    # keeper. On most nights nothing repeats and nothing is sorted; the sort of every invoice's columns
    # was the night's memory peak at a million invoices, twice a night.
    keyed = (
        invoices.lazy()
        .select("externalId", "receivableStatus")
        .with_row_index(_ROW)
        .filter(pl.col("receivableStatus").fill_null("") != ReceivableStatus.CANCELLED.value)
        .select(_ROW, normalise_key_expr(pl.col("externalId")).alias(_KEY))
        .with_columns((pl.col(_KEY).is_not_null() & pl.col(_KEY).is_duplicated()).alias("__repeated"))
        .collect()
    )
    repeated = keyed.filter(pl.col("__repeated"))
    ranked_repeats = (
        invoices.select(_SPLIT_COLUMNS)[repeated.get_column(_ROW)]
        .lazy()
        .with_columns(repeated.get_column(_ROW), repeated.get_column(_KEY))
        .sort(_keeper_order(), nulls_last=True)
        .select(_ROW, _KEY, pl.int_range(pl.len()).over(_KEY).alias("__copy"))
        .collect()
    )
    ranked = pl.concat(
        [
            keyed.filter(~pl.col("__repeated")).select(_ROW, _KEY, pl.lit(0, pl.Int64).alias("__copy")),
            ranked_repeats,
        ]
    )
    keeper = pl.col("__copy") == 0
    keepers_at, at = ranked.filter(keeper), ranked.filter(~keeper)
    extra = invoices.select(_SPLIT_COLUMNS)[at.get_column(_ROW)].with_columns(
        at.get_column(_ROW), at.get_column(_KEY)
    )
    of_extras = keepers_at.filter(pl.col(_KEY).is_in(at.get_column(_KEY).implode()))
    keeper_ids = pl.DataFrame(
        {
            _KEY: of_extras.get_column(_KEY),
            "keeperId": invoices.get_column("invoiceId")[of_extras.get_column(_ROW)],
        }
    )
    deletable = (
        ~pl.col("dispatched").fill_null(False)
        & pl.col("receivableStatus").is_in(_DELETABLE_STATUSES)
        & (pl.col("totalReceived").fill_null(0.0) <= 0)
    )
    why = (
        pl.when(pl.col("dispatched").fill_null(False))
        .then(pl.lit("dispatched twice: two live payment links for one invoice"))
        .when(pl.col("totalReceived").fill_null(0.0) > 0)
        .then(pl.lit("a second copy has already received money"))
        .otherwise(pl.format("a second copy in status {}", pl.col("receivableStatus").fill_null("unknown")))
    )
    to_report = (
        extra.filter(~deletable)
        .join(keeper_ids, on=_KEY, how="left")
        .select("externalId", "invoiceId", "keeperId", "customerId", why.alias("reason"))
    )
    return _Split(
        weakref.ref(invoices),
        keeper_rows=keepers_at.get_column(_ROW).sort(),
        delete_rows=extra.filter(deletable).get_column(_ROW),
        to_report=to_report,
    )


def customer_twins(customers: pl.DataFrame) -> pl.DataFrame:
    """uniqueRefNos that EnKash holds on more than one customer: uniqueRefNo, customerIds (keeper first).

    Example:
        >>> frame = pl.DataFrame({"uniqueRefNo": ["C1", "C1", "C2"], "customerId": ["KC2", "KC1", "KC3"]})
        >>> customer_twins(frame).to_dicts()
        [{'uniqueRefNo': 'C1', 'customerIds': ['KC1', 'KC2']}]
    """
    return (
        customers.filter(pl.col("uniqueRefNo").is_not_null())
        .with_columns(normalise_key_expr(pl.col("uniqueRefNo")).alias(_KEY))
        .sort("customerId")
        .group_by(_KEY, maintain_order=True)
        .agg(pl.col("uniqueRefNo").first(), pl.col("customerId").alias("customerIds"))
        .filter(pl.col("customerIds").list.len() > 1)
        .select("uniqueRefNo", "customerIds")
        .sort("uniqueRefNo")
    )


def customer_keepers(customers: pl.DataFrame) -> pl.DataFrame:
    """One customer per uniqueRefNo (the lowest customerId), and every customer without one."""
    key = normalise_key_expr(pl.col("uniqueRefNo"))
    return customers.sort("customerId").filter(key.is_null() | key.is_first_distinct())
