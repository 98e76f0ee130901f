"""Payments EnKash received since the last export: found by comparing totals, as pure polars.

EnKash documents no payment list and no payment webhook for AR, so a payment is what it shows: an
invoice's ``totalReceived`` (documented) grown since we last told the ERP about it. The run ledger
keeps, per EnKash invoice, the ``totalReceived`` last exported (:mod:`ar_sync.payment_book`); tonight's
line for an invoice is the difference. That makes "since the last night" independent of when the
nights ran: a missed night, a rerun or two nights in one day still export each rupee once.

- more than last exported: a ``PAYMENT`` line for the increase;
- less than last exported (a refund or a reversal on EnKash): a ``REVERSAL`` line, its amount negative,
  so the ERP import reverses it explicitly and the night reports it; never folded into a payment;
- unchanged: no line.

When and how EnKash says it was paid (``lastPaymentOn``, ``lastPaymentMode``, ``lastPaymentReference``)
are our guess at Invoice members the portal does not show (x-inferred in spec/openapi.yaml): when EnKash
sends none of them the line still stands on the documented amounts, with those columns empty.

Amounts are whole paise (``Int64``) here and in the ledger: EnKash answers JSON numbers, which are
rounded to the paisa once, on the way in, so no sum ever drifts.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Final

import polars as pl

from ar_sync.nights import TIMEZONE


class EntryType(StrEnum):
    """What a payment line records."""

    #: money EnKash received since the last export
    PAYMENT = "PAYMENT"
    #: money EnKash gave back or took back (refund, charge-back) since the last export
    REVERSAL = "REVERSAL"


#: One payment line, as the ledger keeps it (amounts in paise).
LINE_SCHEMA: Final = pl.Schema(
    {
        "payment_ref": pl.String(),
        "night": pl.String(),
        "entry_type": pl.String(),
        "invoice_id": pl.String(),
        "invoice_number": pl.String(),
        "customer_ref": pl.String(),
        "amount_paise": pl.Int64(),
        "previous_paise": pl.Int64(),
        "total_paise": pl.Int64(),
        "balance_paise": pl.Int64(),
        "receivable_status": pl.String(),
        "paid_on": pl.String(),
        "payment_mode": pl.String(),
        "payment_reference": pl.String(),
    }
)
#: The ledger's position per EnKash invoice: what was last exported and how many lines it took.
POSITION_SCHEMA: Final = pl.Schema(
    {"invoice_id": pl.String(), "exported_paise": pl.Int64(), "lines": pl.Int64()}
)


def paise(column: str) -> pl.Expr:
    """An amount in rupees (a JSON number) as whole paise; null counts as 0."""
    return (pl.col(column).cast(pl.Float64).fill_null(0.0) * 100).round(0).cast(pl.Int64)


def empty_lines() -> pl.DataFrame:
    """A frame of payment lines with no rows."""
    return pl.DataFrame(schema=LINE_SCHEMA)


def empty_positions() -> pl.DataFrame:
    """A frame of ledger positions with no rows (nothing exported yet)."""
    return pl.DataFrame(schema=POSITION_SCHEMA)


def _detail(invoices: pl.DataFrame, member: str) -> pl.Expr:
    return pl.col(member) if member in invoices.columns else pl.lit(None)


def _paid_on(invoices: pl.DataFrame) -> pl.Expr:
    """The day of ``lastPaymentOn`` in India (ISO text), the day a clerk would book; null if not sent."""
    dtype = invoices.schema.get("lastPaymentOn")
    if dtype is None or dtype == pl.Null:
        return pl.lit(None, pl.String)
    at = pl.col("lastPaymentOn")
    if dtype == pl.String:
        at = at.str.to_datetime(time_zone="UTC", strict=False)
    elif isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
        at = at.dt.replace_time_zone("UTC")
    return at.dt.convert_time_zone(str(TIMEZONE)).dt.date().cast(pl.String)


def payment_ref(invoice_id: pl.Expr, number: pl.Expr) -> pl.Expr:
    """The stable id of an invoice's ``number``-th line, e.g. ``INV000000000042-P002``.

    It never changes once exported, so an ERP import can refuse a line it has already booked.
    """
    return pl.format("{}-P{}", invoice_id, number.cast(pl.String).str.zfill(3))


def detect_payments(
    invoices: pl.DataFrame, customers: pl.DataFrame, positions: pl.DataFrame, night: date
) -> pl.DataFrame:
    """Tonight's payment lines (:data:`LINE_SCHEMA`), one per EnKash invoice whose total received moved.

    Args:
        invoices: EnKash's invoices of the seller (``frames.INVOICE_SCHEMA``: at least invoiceId,
            externalId, customerId, totalReceived, balanceAmount, receivableStatus; the x-inferred
            payment members when EnKash sends them).
        customers: EnKash's customers (customerId, uniqueRefNo): the ERP ``customer_ref`` of a line.
        positions: the ledger's positions (:data:`POSITION_SCHEMA`); an invoice not in it has exported 0.
        night: the night the lines belong to.

    Lines are sorted by invoice number, then EnKash id, so the same inputs give the same file.

    Example:
        >>> detect_payments(invoices, customers, empty_positions(), date(2026, 11, 25))  # doctest: +SKIP
    """
    refs = customers.select("customerId", pl.col("uniqueRefNo").alias("customer_ref")).unique(
        "customerId", keep="first", maintain_order=True
    )
    moved = (
        invoices.lazy()
        .select(
            pl.col("invoiceId").alias("invoice_id"),
            pl.coalesce("externalId", "invoiceNumber").alias("invoice_number"),
            "customerId",
            paise("totalReceived").alias("total_paise"),
            pl.when(pl.col("balanceAmount").is_not_null())
            .then(paise("balanceAmount"))
            .alias("balance_paise"),
            pl.col("receivableStatus").alias("receivable_status"),
            _paid_on(invoices).alias("paid_on"),
            _detail(invoices, "lastPaymentMode").cast(pl.String).alias("payment_mode"),
            _detail(invoices, "lastPaymentReference").cast(pl.String).alias("payment_reference"),
        )
        .filter(pl.col("invoice_id").is_not_null())
        .join(positions.lazy(), on="invoice_id", how="left")
        .with_columns(
            pl.col("exported_paise").fill_null(0).alias("previous_paise"),
            pl.col("lines").fill_null(0),
        )
        .filter(pl.col("total_paise") != pl.col("previous_paise"))
        .join(refs.lazy(), on="customerId", how="left")
    )
    return (
        moved.with_columns(
            payment_ref(pl.col("invoice_id"), pl.col("lines") + 1).alias("payment_ref"),
            pl.lit(night.isoformat()).alias("night"),
            pl.when(pl.col("total_paise") > pl.col("previous_paise"))
            .then(pl.lit(str(EntryType.PAYMENT)))
            .otherwise(pl.lit(str(EntryType.REVERSAL)))
            .alias("entry_type"),
            (pl.col("total_paise") - pl.col("previous_paise")).alias("amount_paise"),
            pl.coalesce("customer_ref", "customerId").alias("customer_ref"),
        )
        .select(list(LINE_SCHEMA))
        .sort("invoice_number", "invoice_id", nulls_last=True)
        .collect()
        .cast(dict(LINE_SCHEMA))  # type: ignore[arg-type]
    )


def advanced_positions(positions: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """The ledger positions after ``lines`` are exported: each invoice's new total and line count."""
    moved = lines.select(
        "invoice_id", pl.col("total_paise").alias("exported_paise"), pl.col("night").alias("last_night")
    )
    counts = positions.select("invoice_id", "lines")
    return (
        moved.join(counts, on="invoice_id", how="left")
        .with_columns((pl.col("lines").fill_null(0) + 1).alias("lines"))
        .select("invoice_id", "exported_paise", "lines", "last_night")
    )
