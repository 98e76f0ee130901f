"""Invoice writes: upload the new in chunks, patch the changed, dispatch each new one once."""

from __future__ import annotations

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from ar_sync import exactly_once
from tasks.connection import enkash_client, run_ledger
from tasks.retry_policy import retry_transient


@task(
    name="upload-invoices-chunk",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=10,
    retry_condition_fn=retry_transient,
)
def upload_invoices_chunk(
    rows: pl.DataFrame, credentials_block: str | None = None, ledger_path: str | None = None
) -> pl.DataFrame:
    """Upload one chunk of new invoices with invoiceBulkUpload, each invoice_number at most once.

    Example:
        >>> results = upload_invoices_chunk(plan.to_create.head(5000), "enkash-prod")  # doctest: +SKIP
    """
    return exactly_once.upload_invoices(enkash_client(credentials_block), run_ledger(ledger_path), rows)


@task(
    name="update-invoices-chunk",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=10,
    retry_condition_fn=retry_transient,
)
def update_invoices_chunk(
    rows: pl.DataFrame, credentials_block: str | None = None, ledger_path: str | None = None
) -> pl.DataFrame:
    """Patch one chunk of changed invoices with updateInvoice (one call per invoice; safe to repeat).

    Example:
        >>> results = update_invoices_chunk(plan.to_update, "enkash-prod")  # doctest: +SKIP
    """
    return exactly_once.update_invoices(enkash_client(credentials_block), run_ledger(ledger_path), rows)


@task(
    name="dispatch-invoices-chunk",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=10,
    retry_condition_fn=retry_transient,
)
def dispatch_invoices_chunk(
    rows: pl.DataFrame,
    credentials_block: str | None = None,
    ledger_path: str | None = None,
    partial_payment_allowed: bool | None = None,
) -> pl.DataFrame:
    """Dispatch one chunk of invoices for collection; an invoice EnKash shows as dispatched is skipped.

    Example:
        >>> results = dispatch_invoices_chunk(to_dispatch.head(5000), "enkash-prod")  # doctest: +SKIP
    """
    return exactly_once.dispatch_invoices(
        enkash_client(credentials_block),
        run_ledger(ledger_path),
        rows,
        partial_payment_allowed=partial_payment_allowed,
    )
