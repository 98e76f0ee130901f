"""The payments stage: export what EnKash received to the ERP, once, and reconcile it with the ERP."""

from __future__ import annotations

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from ar_sync.night_payments import NightPayments, collect_night_payments
from tasks.connection import night_of


@task(name="collect-payments", cache_policy=NO_CACHE)
def collect_payments_task(
    erp_invoices: pl.DataFrame | pl.LazyFrame,
    enkash_invoices: pl.DataFrame,
    enkash_customers: pl.DataFrame,
    night: str,
    out_dir: str,
    credentials_block: str | None = None,
    ledger_path: str | None = None,
    dry_run: bool = False,
) -> NightPayments:
    """Write the night's payments.csv / payments.parquet (exactly once) and payment_mismatches.csv, and
    keep the night's collections in the run ledger.

    Not retried by Prefect: the export is one ledger transaction, so a failed attempt left either
    nothing or the whole export on the books, and the next run of the night finishes it.

    Example:
        >>> done = collect_payments_task(erp, invoices, customers, "2026-11-25", "out")  # doctest: +SKIP
    """
    return collect_night_payments(
        night_of(night, credentials_block, ledger_path),
        erp_invoices,
        enkash_invoices,
        enkash_customers,
        out_dir,
        dry_run=dry_run,
    )
