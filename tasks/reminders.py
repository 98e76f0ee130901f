"""Reminder schedules: every active customer gets the configured schedule."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from ar_sync.reminder_policy import ReminderRule, ensure_reminders
from enkash_ar.models import Customer
from tasks.connection import enkash_client, run_ledger
from tasks.retry_policy import retry_transient


@task(
    name="ensure-reminders-chunk",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=10,
    retry_condition_fn=retry_transient,
)
def ensure_reminders_chunk(
    customers: Sequence[Customer],
    schedule: Sequence[ReminderRule],
    credentials_block: str | None = None,
    ledger_path: str | None = None,
) -> pl.DataFrame:
    """Create or update, for one chunk of customers, only the reminders that differ from ``schedule``.

    Example:
        >>> results = ensure_reminders_chunk(customers[:500], DEFAULT_SCHEDULE)  # doctest: +SKIP
    """
    return ensure_reminders(enkash_client(credentials_block), run_ledger(ledger_path), customers, schedule)
