"""Invoice writes: upload the new in chunks, patch the changed, remove twins, dispatch each new one once."""

from __future__ import annotations

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from ar_sync import exactly_once, field_clears
from enkash_ar.frames import invoices_frame
from enkash_ar.models import Invoice
from tasks.connection import enkash_client, night_of
from tasks.host_limit import host_slot
from tasks.retry_policy import RETRY_DELAY_SECONDS, retry_transient


@task(
    name="upload-invoices-chunk",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=retry_transient,
)
def upload_invoices_chunk(
    rows: pl.DataFrame,
    night: str,
    credentials_block: str | None = None,
    ledger_path: str | None = None,
    host_limit: str | None = None,
) -> pl.DataFrame:
    """Upload one chunk of new invoices with invoiceBulkUpload, each invoice_number at most once.

    Holds a slot of the EnKash host's concurrency limit ``host_limit`` (``tasks.host_limit``) while it
    sends, so chunks can run concurrently.

    Example:
        >>> results = upload_invoices_chunk(plan.to_create.head(5000), "2026-11-24")  # doctest: +SKIP
    """
    client = enkash_client(credentials_block, ledger_path)
    with host_slot(host_limit):
        return exactly_once.upload_invoices(client, night_of(night, credentials_block, ledger_path), rows)


@task(
    name="update-invoices-chunk",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=retry_transient,
)
def update_invoices_chunk(
    rows: pl.DataFrame, night: str, credentials_block: str | None = None, ledger_path: str | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Patch one chunk of changed invoices with updateInvoice (one call per invoice; safe to repeat).

    Returns the result rows, and the invoices as EnKash answered them (``frames.INVOICE_SCHEMA``; their
    amounts are EnKash's, recomputed), which the night's picture takes instead of reading them again.

    Example:
        >>> results, answered = update_invoices_chunk(plan.to_update, "2026-11-24")  # doctest: +SKIP
    """
    client = enkash_client(credentials_block, ledger_path)
    answered: list[Invoice] = []
    night_scope = night_of(night, credentials_block, ledger_path)
    results = exactly_once.update_invoices(client, night_scope, rows, answered)
    return results, invoices_frame(answered)


@task(
    name="delete-invoice-twins",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=retry_transient,
)
def delete_invoice_twins(
    twins: pl.DataFrame, night: str, credentials_block: str | None = None, ledger_path: str | None = None
) -> pl.DataFrame:
    """Delete undispatched extra copies of invoices EnKash holds more than once (deleteInvoiceCollection).

    Example:
        >>> results = delete_invoice_twins(invoice_twins(picture).to_delete, "2026-11-24")  # doctest: +SKIP
    """
    client = enkash_client(credentials_block, ledger_path)
    return exactly_once.delete_twin_invoices(client, night_of(night, credentials_block, ledger_path), twins)


@task(
    name="dispatch-invoices-chunk",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=retry_transient,
)
def dispatch_invoices_chunk(
    rows: pl.DataFrame,
    night: str,
    credentials_block: str | None = None,
    ledger_path: str | None = None,
    partial_payment_allowed: bool | None = None,
    host_limit: str | None = None,
) -> pl.DataFrame:
    """Dispatch one chunk of invoices for collection; an invoice EnKash shows as dispatched is skipped.

    Holds a slot of the EnKash host's concurrency limit ``host_limit`` while it sends.

    Example:
        >>> results = dispatch_invoices_chunk(to_dispatch.head(5000), "2026-11-24")  # doctest: +SKIP
    """
    with host_slot(host_limit):
        return exactly_once.dispatch_invoices(
            enkash_client(credentials_block, ledger_path),
            night_of(night, credentials_block, ledger_path),
            rows,
            partial_payment_allowed=partial_payment_allowed,
        )


@task(
    name="clear-invoice-fields-chunk",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=retry_transient,
)
def clear_invoice_fields_chunk(
    rows: pl.DataFrame, night: str, credentials_block: str | None = None, ledger_path: str | None = None
) -> pl.DataFrame:
    """Clear invoice fields emptied in the ERP (updateInvoice, members set to null), or report them.

    Example:
        >>> results = clear_invoice_fields_chunk(plan.to_clear, "2026-11-24")  # doctest: +SKIP
    """
    client = enkash_client(credentials_block, ledger_path)
    return field_clears.clear_invoice_fields(client, night_of(night, credentials_block, ledger_path), rows)
