"""Customer writes: bulk create the new, bulk update the changed, clear the emptied (a task per chunk)."""

from __future__ import annotations

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from ar_sync import exactly_once, field_clears
from tasks.connection import enkash_client, night_of
from tasks.retry_policy import RETRY_DELAY_SECONDS, retry_transient


@task(
    name="create-customers-chunk",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=retry_transient,
)
def create_customers_chunk(
    rows: pl.DataFrame, night: str, credentials_block: str | None = None, ledger_path: str | None = None
) -> pl.DataFrame:
    """Create one chunk of customers with createBulkCustomer, each customer_ref at most once.

    Returns one result row per customer (success with the EnKash customerId, or failure with
    EnKash's reason), also recorded in the night's ledger record.

    Example:
        >>> results = create_customers_chunk(plan.to_create.head(5000), "2026-11-24")  # doctest: +SKIP
    """
    client = enkash_client(credentials_block, ledger_path)
    return exactly_once.create_customers(client, night_of(night, credentials_block, ledger_path), rows)


@task(
    name="update-customers-chunk",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=retry_transient,
)
def update_customers_chunk(
    rows: pl.DataFrame, night: str, credentials_block: str | None = None, ledger_path: str | None = None
) -> pl.DataFrame:
    """Update one chunk of changed customers with bulkUpdate (safe to repeat: it sets values).

    Example:
        >>> results = update_customers_chunk(plan.to_update, "2026-11-24")  # doctest: +SKIP
    """
    client = enkash_client(credentials_block, ledger_path)
    return exactly_once.update_customers(client, night_of(night, credentials_block, ledger_path), rows)


@task(
    name="clear-customer-fields-chunk",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=retry_transient,
)
def clear_customer_fields_chunk(
    rows: pl.DataFrame, night: str, credentials_block: str | None = None, ledger_path: str | None = None
) -> pl.DataFrame:
    """Clear customer fields emptied in the ERP (updateCustomer, members set to null), or report them.

    Example:
        >>> results = clear_customer_fields_chunk(plan.to_clear, "2026-11-24")  # doctest: +SKIP
    """
    client = enkash_client(credentials_block, ledger_path)
    return field_clears.clear_customer_fields(client, night_of(night, credentials_block, ledger_path), rows)
