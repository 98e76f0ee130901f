"""dispatch_invoices: send every new invoice of the ERP export for collection, exactly once."""

import ar_sync.process_memory  # noqa: F401  (first: polars' allocator, ar_sync/process_memory.py)

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl
from prefect import flow

from ar_sync import night_picture
from ar_sync.convergence import InvoiceTwins, invoice_twins
from ar_sync.night_summary import NeedsAttentionError
from ar_sync.planner import (
    DISPATCH_COLUMNS,
    DISPATCH_ERP_FIELDS,
    DISPATCH_PLAN_COLUMNS,
    already_dispatched,
    customer_id_map,
    dispatch_positions,
    erp_positions,
)
from ar_sync.results import Stage, empty_results
from enkash_ar.open_statuses import status_counts
from flows.options import CycleOptions, StageReport, stage_report, tally
from flows.prepare import fan_out, stage_run, top_level
from flows.run_outcome import finish_stage
from tasks.enkash_state import check_open_statuses
from tasks.invoices import delete_invoice_twins, dispatch_invoices_chunk
from tasks.night_picture import current_picture, invoices_stale, keep
from tasks.night_record import record_night_state
from tasks.parameters import unwalked
from tasks.progress import tracked


def _rows(pair: tuple[pl.DataFrame, pl.DataFrame]) -> int:
    return pair[0].height


def _must_be_open(picture: pl.DataFrame, erp_invoices: pl.DataFrame) -> pl.DataFrame:
    """The receivable statuses (``open_statuses.status_counts``) of the ERP's invoices EnKash holds
    undispatched: none of them can have been paid. Matched by normalised key, as the plan matches them
    (``planner.DISPATCH_ERP_FIELDS`` holds the ERP's keys, not its numbers as written)."""
    undispatched = ~pl.col("dispatched").fill_null(False)
    rows = erp_positions(erp_invoices, picture, undispatched, None, by_number=False)
    return status_counts(picture.select("receivableStatus")[rows])


@dataclass(frozen=True)
class _Plan:
    """What dispatch plans from one picture of EnKash's invoices."""

    #: the split of the picture's invoices (``convergence.invoice_twins``): its keeper positions and the
    #: few extra copies, the picture itself shared
    twins: InvoiceTwins
    #: receivable statuses of the ERP's invoices held undispatched (``_must_be_open``)
    statuses: pl.DataFrame
    #: what EnKash already shows dispatched (``planner.already_dispatched``); None in a dry run
    present: pl.DataFrame | None
    #: the picture's keepers (``InvoiceTwins.keepers_of``): their columns, not a copy, when nothing repeats
    keepers: pl.DataFrame
    #: what to dispatch, as positions in ``keepers`` (``planner.dispatch_positions``)
    pending: pl.Series

    def batches(self, size: int) -> Iterator[pl.DataFrame]:
        """What to dispatch, ``size`` invoices at a time (``planner.DISPATCH_COLUMNS``), each gathered
        when its turn comes."""
        sent = self.keepers.select(DISPATCH_COLUMNS)
        for start in range(0, self.pending.len(), size):
            yield sent[self.pending.slice(start, size)]


def _plan(
    picture: pl.DataFrame, erp_invoices: pl.DataFrame, customer_ids: pl.DataFrame, dry_run: bool
) -> _Plan:
    """Plan from ``picture``. The status counts and what is already dispatched are made before the plan
    of what to send, which is held through the batches: each step's transient frames (a join over
    every invoice, at a million ~100 MiB) then stand on the picture alone, not on the plan too."""
    twins = invoice_twins(picture)
    keepers = twins.keepers_of(*DISPATCH_PLAN_COLUMNS)
    statuses = _must_be_open(picture, erp_invoices)
    present = None if dry_run else already_dispatched(erp_invoices, keepers)
    pending = dispatch_positions(erp_invoices, keepers, customer_ids)
    return _Plan(twins, statuses, present, keepers, pending)


@flow(name="dispatch-invoices")
async def dispatch_invoices(
    customers_file: str, invoices_file: str, as_of: date | None = None, options: CycleOptions | None = None
) -> list[StageReport]:
    """Dispatch the ERP's open invoices that EnKash has never dispatched, one copy per invoice number.

    Before any dispatch, EnKash is made to hold each invoice number once: undispatched extra copies
    (left by two cycles that overlapped without sharing a lock) are deleted, and the copy kept is the
    dispatched one or the oldest, the same in every run. Extra copies the cycle may not delete (both
    dispatched, or paid) are reported; run alone, this flow then ends Failed with what to do.

    EnKash's own ``dispatched`` flag decides, read fresh at the start: an invoice dispatched by an
    earlier (crashed or retried) run is not dispatched again, and one whose dispatch answer was lost
    is looked up before any resend. An invoice is dispatched only under the customer the ERP bills
    (never to a former customer), and a cancelled copy never.

    Args:
        customers_file: the ERP customer export.
        invoices_file: the ERP invoice export; only its invoices are dispatched.
        as_of: the night (business date) the writes are recorded under; default: the run's date in IST.
        options: how to run (credentials block, ledger, chunk size, dry run ...).
    """
    async with stage_run(customers_file, invoices_file, as_of, options, DISPATCH_ERP_FIELDS) as run:
        options, invoices, (night, block, ledger) = run.options, run.invoices, run.where
        started = datetime.now(UTC)
        night_state = current_picture(block, ledger, customers=True, invoices=True)
        customer_ids = customer_id_map(night_state.customer_frame)
        assert night_state.invoices is not None
        plan = _plan(night_state.invoices, invoices.valid, customer_ids, options.dry_run)
        if not plan.pending.is_empty() and invoices_stale(night_state, started):
            # Nothing is dispatched on the strength of an earlier stage's read: what is undispatched
            # (and what was dispatched since) is read again first, and the plan made again from it
            # (not when the picture was read in this stage already: the same picture, the same plan).
            # The stale plan's frames go before the read: at a million invoices they are ~100 MiB, and
            # the read with the picture it refreshes is the stage's peak.
            del plan
            night_state = current_picture(block, ledger, customers=True, invoices=True, fresh_since=started)
            assert night_state.invoices is not None
            plan = _plan(night_state.invoices, invoices.valid, customer_ids, options.dry_run)
        # Undispatched invoices cannot have been paid: if none of them reads as open, EnKash names its
        # statuses otherwise than the contract profile says, and the night must stop, not dispatch
        # nothing and report nothing owed.
        check_open_statuses(plan.statuses, block, ledger)
        present, pending = plan.present, plan.pending
        to_delete, to_report = plan.twins.to_delete, plan.twins.to_report
        # Counts of the results (flows.options.tally), not their rows: a million rows held to the end.
        deleted, dispatched = [empty_results()], [tally(empty_results())]
        if present is not None:
            if not to_delete.is_empty():
                deleted.append(done := delete_invoice_twins(to_delete, night, block, ledger))
                night_state = night_picture.with_deleted_invoices(night_state, done, to_delete, "invoiceId")
            held = dict(zip(present["externalId"].to_list(), present["invoiceId"].to_list(), strict=True))
            rows = present.select(pl.col("externalId").alias("key"), pl.col("invoiceId").alias("remote_id"))
            recorded = record_night_state(Stage.INVOICES_DISPATCH, unwalked(held), rows, night, block, ledger)
            dispatched.append(tally(recorded))
            del held, rows, recorded
            # Batches go concurrently (each its own ledger batch), with options.host_limit each holding a slot
            # of the host's Prefect limit.
            partial = options.partial_payment_allowed
            sent = await fan_out(
                options,
                lambda c, limit: dispatch_invoices_chunk.submit(c, night, block, ledger, partial, limit),
                plan.batches(options.chunk_size),
            )
            done_ids = []
            for chunk, done in tracked(sent, pending.len(), Stage.INVOICES_DISPATCH, size=_rows):
                dispatched.append(tally(done))
                done_ids.append(night_picture.dispatched_ids(done, chunk))
            # The picture is updated once for the stage, not per batch: each update rewrites the
            # dispatch columns of every invoice held (~11 ms at 1M invoices, for each of 200 batches).
            if done_ids:
                night_state = night_picture.with_dispatched(night_state, pl.concat(done_ids))
            keep(night_state)
    if top_level() and not to_report.is_empty():
        raise NeedsAttentionError(
            f"{to_report.height} invoice numbers have a second copy in EnKash that the cycle may not "
            f"delete (e.g. {', '.join(to_report['externalId'].head(5).to_list())}: "
            f"{to_report['reason'][0]}). Cancel the extra copy on the EnKash portal."
        )
    reports = [
        stage_report(Stage.INVOICES_DEDUPLICATE, pl.concat(deleted), to_delete.height, options.dry_run),
        stage_report(Stage.INVOICES_DISPATCH, pl.concat(dispatched), pending.len(), options.dry_run),
    ]
    return finish_stage(reports, rejected=invoices.rejected_rows)


if __name__ == "__main__":
    import asyncio
    import sys

    asyncio.run(dispatch_invoices(sys.argv[1], sys.argv[2]))
