"""Invoices and customers that left the export: plan, cancel, deactivate, reactivate (a task per chunk)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from ar_sync import lifecycle_writes
from ar_sync.exactly_once import settle_unresolved_except
from ar_sync.lifecycle import LifecyclePlan, export_keys, ledger_facts, plan_lifecycle
from ar_sync.results import Stage
from tasks.connection import connection, enkash_client, night_of, run_ledger
from tasks.inputs import ErpInputs
from tasks.retry_policy import RETRY_DELAY_SECONDS, retry_transient


@task(name="plan-lifecycle", cache_policy=NO_CACHE)
def plan_leaving(
    inputs: ErpInputs,
    enkash_invoices: pl.DataFrame,
    enkash_customers: pl.DataFrame,
    credentials_block: str | None = None,
    ledger_path: str | None = None,
) -> LifecyclePlan:
    """What tonight cancels, deactivates and reactivates (``ar_sync.lifecycle.plan_lifecycle``).

    The run ledger says which records this project uploaded, created and deactivated.

    Example:
        >>> plan = plan_leaving(inputs, invoices, customers, "enkash-prod")  # doctest: +SKIP
    """
    assert inputs.invoices is not None
    seller_id = connection(credentials_block).seller_id
    facts = ledger_facts(run_ledger(ledger_path), seller_id, enkash_invoices, enkash_customers)
    return plan_lifecycle(
        export_keys(inputs.customers, inputs.invoices), enkash_invoices, enkash_customers, facts
    )


@task(name="settle-lifecycle", cache_policy=NO_CACHE)
def settle_lifecycle(
    still: Mapping[Stage, Collection[str]],
    night: str,
    credentials_block: str | None = None,
    ledger_path: str | None = None,
) -> pl.DataFrame:
    """Settle a killed run's unresolved rows of state-setting stages: done unless listed in ``still``.

    ``still`` maps each stage to the keys EnKash shows not yet in the state its writes set.

    Example:
        >>> settle_lifecycle({Stage.INVOICES_CANCEL: plan.still_open}, "2026-11-24")  # doctest: +SKIP
    """
    scope = night_of(night, credentials_block, ledger_path)
    return pl.concat([settle_unresolved_except(scope, stage, keys) for stage, keys in still.items()])


@task(
    name="delete-left-invoices",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=retry_transient,
)
def delete_invoices_chunk(
    rows: pl.DataFrame, night: str, credentials_block: str | None = None, ledger_path: str | None = None
) -> pl.DataFrame:
    """Delete invoices that left the export and were never dispatched (deleteInvoiceCollection), once each.

    Example:
        >>> results = delete_invoices_chunk(plan.to_delete, "2026-11-24")  # doctest: +SKIP
    """
    client = enkash_client(credentials_block, ledger_path)
    return lifecycle_writes.delete_invoices(client, night_of(night, credentials_block, ledger_path), rows)


@task(
    name="withdraw-left-invoices",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=retry_transient,
)
def withdraw_invoices_chunk(
    rows: pl.DataFrame, night: str, credentials_block: str | None = None, ledger_path: str | None = None
) -> pl.DataFrame:
    """Take dispatched invoices that left the export out of collection (receivableStatus CANCELLED).

    Example:
        >>> results = withdraw_invoices_chunk(plan.to_withdraw, "2026-11-24")  # doctest: +SKIP
    """
    client = enkash_client(credentials_block, ledger_path)
    return lifecycle_writes.withdraw_invoices(client, night_of(night, credentials_block, ledger_path), rows)


@task(
    name="deactivate-left-customers",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=retry_transient,
)
def deactivate_customers_chunk(
    rows: pl.DataFrame, night: str, credentials_block: str | None = None, ledger_path: str | None = None
) -> pl.DataFrame:
    """Deactivate customers gone from the export (deactivateCustomer), once each.

    Example:
        >>> results = deactivate_customers_chunk(plan.to_deactivate, "2026-11-24")  # doctest: +SKIP
    """
    client = enkash_client(credentials_block, ledger_path)
    return lifecycle_writes.deactivate_customers(
        client, night_of(night, credentials_block, ledger_path), rows
    )


@task(
    name="reactivate-returning-customers",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=retry_transient,
)
def reactivate_customers_chunk(
    rows: pl.DataFrame, night: str, credentials_block: str | None = None, ledger_path: str | None = None
) -> pl.DataFrame:
    """Activate again customers this project deactivated that are back in the export (activateCustomer).

    Example:
        >>> results = reactivate_customers_chunk(plan.to_reactivate, "2026-11-24")  # doctest: +SKIP
    """
    client = enkash_client(credentials_block, ledger_path)
    return lifecycle_writes.reactivate_customers(
        client, night_of(night, credentials_block, ledger_path), rows
    )
