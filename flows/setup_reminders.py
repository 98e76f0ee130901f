"""setup_reminders: every active EnKash customer of the seller gets the configured reminder schedule."""

from __future__ import annotations

import polars as pl
from prefect import flow

from ar_sync.exactly_once import empty_results
from ar_sync.reminder_policy import on_schedule
from flows.options import CycleOptions, StageReport, write_stage_results
from tasks.enkash_state import read_enkash_customers
from tasks.reminders import ensure_reminders_chunk

#: Customers per task run: each customer off schedule costs a few calls, so chunks are smaller.
REMINDER_CHUNK = 500


@flow(name="setup-reminders")
async def setup_reminders(options: CycleOptions | None = None) -> StageReport:
    """Create or update, per active customer, only the reminders that differ from the schedule.

    The customer search carries each customer's reminders, so customers already on schedule cost no
    call at all: a quiet night makes no reminder writes.
    """
    options = options or CycleOptions()
    _, customers = read_enkash_customers(options.credentials_block)
    schedule = options.reminder_schedule
    off = [
        c
        for c in customers
        if (c.status or "ACTIVE") == "ACTIVE" and not on_schedule(c.customer_reminders, schedule)
    ]
    results = [empty_results()]
    if not options.dry_run:
        for start in range(0, len(off), REMINDER_CHUNK):
            results.append(
                ensure_reminders_chunk(
                    off[start : start + REMINDER_CHUNK],
                    schedule,
                    options.credentials_block,
                    options.ledger_path,
                )
            )
    return write_stage_results(options, "reminders", pl.concat(results), len(off))


if __name__ == "__main__":
    import asyncio

    asyncio.run(setup_reminders())
