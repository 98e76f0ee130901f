"""dispatch_invoices: send every new invoice of the ERP export for collection, exactly once."""

from __future__ import annotations

import polars as pl
from prefect import flow

from ar_sync.exactly_once import empty_results
from ar_sync.planner import invoices_to_dispatch
from flows.options import CycleOptions, StageReport, write_stage_results
from flows.prepare import prepare_inputs
from tasks.enkash_state import read_enkash_invoices
from tasks.invoices import dispatch_invoices_chunk


@flow(name="dispatch-invoices")
async def dispatch_invoices(
    customers_file: str, invoices_file: str, options: CycleOptions | None = None
) -> StageReport:
    """Dispatch the ERP's open invoices that EnKash has never dispatched.

    EnKash's own ``dispatched`` flag decides, read fresh at the start: an invoice dispatched by an
    earlier (crashed or retried) run is not dispatched again, and one whose dispatch answer was lost
    is looked up before any resend.
    """
    options = options or CycleOptions()
    inputs = prepare_inputs(customers_file, invoices_file, options)
    assert inputs.invoices is not None
    # Only undispatched invoices matter here (a documented filter): a quiet night reads next to nothing.
    undispatched = read_enkash_invoices(options.credentials_block, {"dispatched": False})
    pending = invoices_to_dispatch(inputs.invoices.valid, undispatched)
    results = [empty_results()]
    if not options.dry_run:
        for chunk in pending.iter_slices(options.chunk_size):
            results.append(
                dispatch_invoices_chunk(
                    chunk, options.credentials_block, options.ledger_path, options.partial_payment_allowed
                )
            )
    return write_stage_results(options, "invoices_dispatch", pl.concat(results), pending.height)


if __name__ == "__main__":
    import asyncio
    import sys

    asyncio.run(dispatch_invoices(sys.argv[1], sys.argv[2]))
