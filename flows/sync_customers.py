"""sync_customers: make EnKash's customers match the ERP's (bulk create the new, bulk update the changed)."""

from __future__ import annotations

import polars as pl
from prefect import flow

from ar_sync.exactly_once import empty_results
from ar_sync.planner import plan_customers
from flows.options import CycleOptions, StageReport, write_stage_results
from flows.prepare import prepare_inputs
from tasks.customers import create_customers_chunk, update_customers_chunk
from tasks.enkash_state import read_enkash_customers


@flow(name="sync-customers", log_prints=False)
async def sync_customers(customers_file: str, options: CycleOptions | None = None) -> list[StageReport]:
    """Create the ERP customers EnKash lacks and update those whose details changed.

    The ERP ``customer_ref`` is stored as the EnKash customer's ``uniqueRefNo``, so which ERP customer
    is which EnKash customer can always be read back from EnKash. One task run per chunk of
    ``options.chunk_size`` customers.
    """
    options = options or CycleOptions()
    inputs = prepare_inputs(customers_file, None, options)
    enkash_customers, _ = read_enkash_customers(options.credentials_block)
    plan = plan_customers(inputs.customers.valid, enkash_customers)
    created, updated = [empty_results()], [empty_results()]
    if not options.dry_run:
        block, ledger = options.credentials_block, options.ledger_path
        for chunk in plan.to_create.iter_slices(options.chunk_size):
            created.append(create_customers_chunk(chunk, block, ledger))
        for chunk in plan.to_update.iter_slices(options.chunk_size):
            updated.append(update_customers_chunk(chunk, block, ledger))
    return [
        write_stage_results(options, "customers_create", pl.concat(created), plan.to_create.height),
        write_stage_results(options, "customers_update", pl.concat(updated), plan.to_update.height),
    ]


if __name__ == "__main__":
    import asyncio
    import sys

    asyncio.run(sync_customers(sys.argv[1]))
