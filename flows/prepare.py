"""Shared steps of the stage flows: the seller lock, the validated ERP files, chunks fanned out per host."""

from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
from prefect.context import FlowRunContext, SyncClientContext
from prefect.futures import PrefectFuture

from ar_sync.erp_input import LoadResult
from ar_sync.field_clears import clear_keys
from ar_sync.local_files import check_local_files
from ar_sync.results import Stage
from flows.options import CycleOptions, resolve_night
from flows.run_options import resolve_options
from tasks.connection import connection, run_ledger
from tasks.host_limit import ensure_host_limit, fanned_out
from tasks.inputs import ErpInputs, load_erp_inputs, loaded_before, report_rejected_rows
from tasks.lifecycle import settle_lifecycle
from tasks.parameters import unwalked
from tasks.seller_lock import seller_lock

T = TypeVar("T")
R = TypeVar("R")


def top_level() -> bool:
    """Whether this flow run was started on its own (not as a stage of nightly_ar_cycle).

    Read from the run's own record, which the flow engine holds (``prefect.runtime.flow_run`` would ask
    the API for the parent's task run every time).
    """
    context = FlowRunContext.get()
    return context is None or context.flow_run is None or context.flow_run.parent_task_run_id is None


@asynccontextmanager
async def holding_seller(options: CycleOptions) -> AsyncIterator[str]:
    """Hold the seller of ``options`` for the block (re-entrant within a cycle); yields the seller id.

    First checks that the output folder and the run ledger can be written: a night must not send
    everything and then fail on its own files.

    The task runs of the block share one Prefect API client. Without one in context, Prefect builds a
    client, with a TLS context of its own, for every synchronous task run and artifact call: tens of
    milliseconds of CPU each, a fifth of a small night's CPU.
    """
    check_local_files(options.out_dir, options.ledger_path)
    seller_id = connection(options.credentials_block).seller_id
    with SyncClientContext.get_or_create():
        async with seller_lock(
            seller_id, run_ledger(options.ledger_path), timeout=options.lock_timeout_seconds
        ):
            yield seller_id


def load_inputs(
    customers_file: str,
    invoices_file: str | None,
    options: CycleOptions,
    invoice_fields: Sequence[str] | None = None,
) -> ErpInputs:
    """Load and validate the ERP export the way ``options`` reads it (column mappings, ceiling); with
    ``invoice_fields``, only those columns of the valid invoice rows.

    A stage of nightly_ar_cycle gets the export the cycle loaded (same files and content), without a
    task run of its own.
    """
    parameters: dict[str, Any] = {
        "customers_file": customers_file,
        "invoices_file": invoices_file,
        "customer_columns": options.customer_columns,
        "invoice_columns": options.invoice_columns,
        "max_invoice_amount": options.max_invoice_amount,
        "cache_dir": options.cache_dir or str(Path(options.ledger_path).parent / "cache"),
    }
    known = loaded_before(parameters, invoice_fields)
    return known or load_erp_inputs(**parameters, invoice_fields=invoice_fields)


def prepare_inputs(
    customers_file: str,
    invoices_file: str | None,
    options: CycleOptions,
    invoice_fields: Sequence[str] | None = None,
) -> ErpInputs:
    """Load the ERP export (cached by content) and, in a top-level run, write rejected_rows.csv.

    Inside nightly_ar_cycle the parent has already written the report and checked the rejection
    threshold, so the stage subflows only load (a cache hit) and do not write it again.
    """
    inputs = load_inputs(customers_file, invoices_file, options, invoice_fields)
    if top_level():
        report_rejected_rows(inputs, options.out_dir, options.rejection_threshold)
    return inputs


@dataclass(frozen=True)
class StageRun:
    """A stage flow's run once it holds the seller: its options, its night, the validated ERP export."""

    options: CycleOptions
    #: the night (ISO date) the writes are recorded under
    night: str
    inputs: ErpInputs

    @property
    def invoices(self) -> LoadResult:
        """The validated invoice export (a stage that reads one always loads it)."""
        if self.inputs.invoices is None:
            raise RuntimeError("this stage was started without an invoice export")
        return self.inputs.invoices

    @property
    def where(self) -> tuple[str, str | None, str]:
        """``(night, credentials block, ledger path)``: what every write task is given."""
        return self.night, self.options.credentials_block, self.options.ledger_path


@asynccontextmanager
async def stage_run(
    customers_file: str,
    invoices_file: str | None,
    as_of: date | None,
    options: CycleOptions | None,
    invoice_fields: Sequence[str] | None = None,
) -> AsyncIterator[StageRun]:
    """The first steps of every stage flow that reads the ERP export: resolve the options (a deployment's
    defaults under a partial override) and the night, hold the seller, load the export (with
    ``invoice_fields``: only those columns of its valid invoice rows, the ones the stage reads)."""
    resolved = await resolve_options(options)
    night = resolve_night(as_of).isoformat()
    async with holding_seller(resolved):
        inputs = prepare_inputs(customers_file, invoices_file, resolved, invoice_fields)
        yield StageRun(resolved, night, inputs)


async def fan_out(
    options: CycleOptions, submit: Callable[[T, str | None], PrefectFuture[R]], chunks: Iterable[T]
) -> Iterator[tuple[T, R]]:
    """Submit a write task per chunk, ``options.host_concurrency`` in flight (tasks.host_limit.fanned_out).

    With ``options.host_limit`` each task also holds a slot of the EnKash host's Prefect limit, whose
    name ``submit`` is given; otherwise it is given None.
    """
    block, window = options.credentials_block, options.host_concurrency
    limit = await ensure_host_limit(block, window) if options.host_limit else None
    return fanned_out(lambda chunk: submit(chunk, limit), chunks, window)


def clear_fields(
    run: StageRun,
    stage: Stage,
    to_clear: pl.DataFrame,
    key_column: str,
    clear_chunk: Callable[[pl.DataFrame, str, str | None, str], pl.DataFrame],
) -> list[pl.DataFrame]:
    """Clear the fields emptied in the ERP (a plan's ``to_clear``), chunk by chunk; the results.

    First settles what a killed run left unresolved: a clear EnKash already shows is done, not sent again.
    """
    done = [settle_lifecycle(unwalked({stage: clear_keys(to_clear, key_column)}), *run.where)]
    done += [clear_chunk(chunk, *run.where) for chunk in to_clear.iter_slices(run.options.chunk_size)]
    return done
