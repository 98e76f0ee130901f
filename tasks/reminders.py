"""Reminder schedules: every active customer gets the configured schedule, each stage exactly once."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from ar_sync.reminder_policy import ReminderRule, ensure_reminders
from enkash_ar.models import Customer
from tasks.connection import enkash_client, night_of
from tasks.host_limit import host_slot
from tasks.retry_policy import RETRY_DELAY_SECONDS, retry_transient


@task(
    name="ensure-reminders-chunk",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=retry_transient,
)
def ensure_reminders_chunk(
    customers: Sequence[Customer],
    schedule: Sequence[ReminderRule],
    night: str,
    credentials_block: str | None = None,
    ledger_path: str | None = None,
    host_limit: str | None = None,
) -> pl.DataFrame:
    """Create, update or delete, for one chunk of customers, only the reminders that differ from ``schedule``.

    Holds a slot of the EnKash host's concurrency limit ``host_limit`` while it sends.

    Example:
        >>> rows = ensure_reminders_chunk(customers[:500], DEFAULT_SCHEDULE, "2026-11-24")  # doctest: +SKIP
    """
    client = enkash_client(credentials_block, ledger_path)
    with host_slot(host_limit):
        return ensure_reminders(client, night_of(night, credentials_block, ledger_path), customers, schedule)
