"""What is still owed: EnKash's open invoices in the shape the summaries read."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

import polars as pl

from ar_sync.summaries import OPEN_INVOICE_SCHEMA
from enkash_ar.contract import OPEN_RECEIVABLE_STATUSES

#: The columns of EnKash's invoices that :func:`open_invoices_frame` and :func:`credit_sales` read.
SUMMARY_INVOICE_COLUMNS: Final = (
    "invoiceId",
    "externalId",
    "invoiceNumber",
    "customerId",
    "receivableStatus",
    "dueDate",
    "invoiceDate",
    "netAmount",
    "balanceAmount",
)


def open_invoices_frame(enkash_invoices: pl.DataFrame, enkash_customers: pl.DataFrame) -> pl.DataFrame:
    """Open EnKash invoices (``frames.INVOICE_SCHEMA``) as ``summaries.OPEN_INVOICE_SCHEMA`` rows.

    Open means a receivable status that still counts as owed and a positive balance. The customer's
    ERP ref comes from EnKash's own ``uniqueRefNo``; customers created outside this tool show their
    EnKash id instead. Its name is the customer's ``legalName``; an invoice frame that carries EnKash's
    name on the invoice (``customerLegalName``: a read of every column; the night's picture does not
    keep it) names a customer the customers do not hold.
    """
    refs = enkash_customers.select("customerId", pl.col("uniqueRefNo"), pl.col("legalName"))
    on_invoice = "customerLegalName" in enkash_invoices.columns
    name = pl.coalesce("legalName", "customerLegalName") if on_invoice else pl.col("legalName")
    return (
        enkash_invoices.lazy()
        .filter(
            pl.col("receivableStatus").is_in([s.value for s in OPEN_RECEIVABLE_STATUSES])
            & (pl.col("balanceAmount") > 0)
        )
        .join(refs.lazy(), on="customerId", how="left")
        .select(
            pl.coalesce("externalId", "invoiceNumber", "invoiceId").alias("invoice_number"),
            pl.coalesce("uniqueRefNo", "customerId").alias("customer_ref"),
            name.alias("customer_name"),
            pl.col("dueDate").alias("due_date"),
            pl.col("invoiceDate").dt.date().alias("invoice_date"),
            pl.col("netAmount").alias("net_amount"),
            pl.col("balanceAmount").alias("balance_amount"),
        )
        .collect()
        .cast(dict(OPEN_INVOICE_SCHEMA))  # type: ignore[arg-type]
    )


def credit_sales(enkash_invoices: pl.DataFrame, as_of: date, period_days: int = 90) -> float:
    """Net amount invoiced in the ``period_days`` up to ``as_of`` (the DSO denominator).

    Counts every invoice dated in the period, paid or not, cancelled ones excepted.
    """
    start = as_of - timedelta(days=period_days)
    invoice_day = pl.col("invoiceDate").dt.date()
    total = (
        enkash_invoices.lazy()
        .filter((invoice_day > start) & (invoice_day <= as_of) & (pl.col("receivableStatus") != "CANCELLED"))
        .select(pl.col("netAmount").sum())
        .collect()
        .item()
    )
    return float(total or 0.0)
