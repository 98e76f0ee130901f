"""Customer writes: bulk create the new, bulk update the changed (one task run per chunk)."""

from __future__ import annotations

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from ar_sync import exactly_once
from tasks.connection import enkash_client, run_ledger
from tasks.retry_policy import retry_transient


@task(
    name="create-customers-chunk",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=10,
    retry_condition_fn=retry_transient,
)
def create_customers_chunk(
    rows: pl.DataFrame, credentials_block: str | None = None, ledger_path: str | None = None
) -> pl.DataFrame:
    """Create one chunk of customers with createBulkCustomer, each customer_ref at most once.

    Returns one bulk-result row per customer (success with the EnKash customerId, or failure with
    EnKash's reason).

    Example:
        >>> results = create_customers_chunk(plan.to_create.head(5000), "enkash-prod")  # doctest: +SKIP
    """
    return exactly_once.create_customers(enkash_client(credentials_block), run_ledger(ledger_path), rows)


@task(
    name="update-customers-chunk",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=10,
    retry_condition_fn=retry_transient,
)
def update_customers_chunk(
    rows: pl.DataFrame, credentials_block: str | None = None, ledger_path: str | None = None
) -> pl.DataFrame:
    """Update one chunk of changed customers with bulkUpdate (safe to repeat: it sets values).

    Example:
        >>> results = update_customers_chunk(plan.to_update, "enkash-prod")  # doctest: +SKIP
    """
    return exactly_once.update_customers(enkash_client(credentials_block), run_ledger(ledger_path), rows)
