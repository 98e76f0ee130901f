"""setup_reminders: every active EnKash customer of the seller gets the configured reminder schedule."""

import ar_sync.process_memory  # noqa: F401  (first: polars' allocator, ar_sync/process_memory.py)

from datetime import date

import polars as pl
from prefect import flow

from ar_sync.reminder_policy import customer_key, on_schedule
from ar_sync.results import Stage, empty_results
from enkash_ar.models import Customer
from flows.options import CycleOptions, StageReport, resolve_night, stage_report
from flows.prepare import fan_out, holding_seller
from flows.run_options import resolve_options
from flows.run_outcome import finish_stage
from tasks.night_picture import current_picture
from tasks.night_record import record_night_state
from tasks.parameters import unwalked
from tasks.progress import tracked
from tasks.reminders import ensure_reminders_chunk

#: Customers per task run: each customer off schedule costs a few calls, so chunks are smaller.
REMINDER_CHUNK = 500


@flow(name="setup-reminders")
async def setup_reminders(
    as_of: date | None = None, options: CycleOptions | None = None
) -> list[StageReport]:
    """Create, update or delete, per active customer, only the reminders that differ from the schedule.

    The customer search carries each customer's reminders, so customers already on schedule cost no
    call at all: a quiet night makes no reminder writes. A stage of the schedule held twice by a
    customer keeps one copy.

    Args:
        as_of: the night (business date) the writes are recorded under; default: the run's date in IST.
        options: how to run (credentials block, ledger, reminder schedule, dry run ...).
    """
    options = await resolve_options(options)
    night = resolve_night(as_of).isoformat()
    block, ledger = options.credentials_block, options.ledger_path
    schedule = options.reminder_schedule
    async with holding_seller(options):
        # The customers' reminders as the night's picture holds them; those of customers the night
        # created are read first (one by one when they are few, else every customer again:
        # tasks.night_picture). Only a customer an earlier attempt may have written is read again on its
        # own before anything is sent (ar_sync.reminder_policy).
        customers = current_picture(block, ledger, customers=True, reminders=True).customers or ()
        active = [c for c in customers if (c.status or "ACTIVE") == "ACTIVE" and c.customer_id]
        on: list[Customer] = []
        off: list[Customer] = []
        for customer in active:
            (on if on_schedule(customer.customer_reminders, schedule) else off).append(customer)
        results = [empty_results()]
        if not options.dry_run:
            held = {customer_key(c): str(c.customer_id) for c in on}
            present = pl.DataFrame(
                {"key": list(held), "remote_id": list(held.values())},
                schema={"key": pl.String, "remote_id": pl.String},
            )
            results.append(record_night_state(Stage.REMINDERS, unwalked(held), present, night, block, ledger))
            chunks = (off[start : start + REMINDER_CHUNK] for start in range(0, len(off), REMINDER_CHUNK))
            # Batches go concurrently (each its own ledger batch), with options.host_limit each holding a slot
            # of the host's Prefect limit.
            sent = await fan_out(
                options,
                lambda c, limit: ensure_reminders_chunk.submit(
                    unwalked(c), schedule, night, block, ledger, limit
                ),
                chunks,
            )
            for _, done in tracked(sent, len(off), Stage.REMINDERS, size=lambda pair: len(pair[0])):
                results.append(done)
    combined = pl.concat(results)
    reports = [
        stage_report(Stage.REMINDERS, combined, len(off), options.dry_run),
        stage_report(Stage.REMINDERS_DEDUPLICATE, combined, 0, options.dry_run),
    ]
    return finish_stage(reports)


if __name__ == "__main__":
    import asyncio

    asyncio.run(setup_reminders())
