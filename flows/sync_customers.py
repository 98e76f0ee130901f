"""sync_customers: make EnKash's customers match the ERP's (create the new, update the changed, clear the
emptied)."""

import ar_sync.process_memory  # noqa: F401  (first: polars' allocator, ar_sync/process_memory.py)

from datetime import date

import polars as pl
from prefect import flow

from ar_sync import night_picture
from ar_sync.convergence import customer_keepers
from ar_sync.planner import plan_customers
from ar_sync.results import Stage, empty_results
from flows.options import CycleOptions, StageReport, stage_report
from flows.prepare import clear_fields, stage_run
from flows.run_outcome import finish_stage
from tasks.customers import clear_customer_fields_chunk, create_customers_chunk, update_customers_chunk
from tasks.night_picture import current_picture, keep
from tasks.night_record import record_night_state
from tasks.parameters import unwalked
from tasks.progress import tracked


@flow(name="sync-customers", log_prints=False)
async def sync_customers(
    customers_file: str, as_of: date | None = None, options: CycleOptions | None = None
) -> list[StageReport]:
    """Create the ERP customers EnKash lacks, update those whose details changed, clear emptied fields.

    The ERP ``customer_ref`` is stored as the EnKash customer's ``uniqueRefNo`` (compared ignoring case,
    outer spaces and invisible characters), so which ERP customer is which EnKash customer can always be
    read back from EnKash. Values are compared normalised, so unchanged files make no update call. A
    field emptied in the ERP is cleared with updateCustomer (the bulk update file cannot clear), or
    reported as "cannot clear". One task run per chunk of ``options.chunk_size`` customers.

    Args:
        customers_file: the ERP customer export (CSV, Parquet or XLSX).
        as_of: the night (business date) the writes are recorded under; default: the run's date in IST.
        options: how to run (credentials block, ledger, chunk size, dry run ...).
    """
    async with stage_run(customers_file, None, as_of, options) as run:
        options, inputs, (night, block, ledger) = run.options, run.inputs, run.where
        picture = current_picture(block, ledger, customers=True)
        enkash_customers = picture.customer_frame
        plan = plan_customers(inputs.customers.valid, enkash_customers)
        created, updated, cleared = [empty_results()], [empty_results()], [empty_results()]
        if not options.dry_run:
            keepers = customer_keepers(enkash_customers).drop_nulls("uniqueRefNo")
            held = dict(zip(keepers["uniqueRefNo"].to_list(), keepers["customerId"].to_list(), strict=True))
            present = plan.present.select(
                pl.col("customer_ref").alias("key"), pl.col("customerId").alias("remote_id")
            )
            created.append(
                record_night_state(Stage.CUSTOMERS_CREATE, unwalked(held), present, night, block, ledger)
            )
            creates = plan.to_create.iter_slices(options.chunk_size)
            for chunk in tracked(creates, plan.to_create.height, Stage.CUSTOMERS_CREATE):
                created.append(done := create_customers_chunk(chunk, night, block, ledger))
                picture = night_picture.with_created_customers(picture, done, chunk)
            updates = plan.to_update.iter_slices(options.chunk_size)
            for chunk in tracked(updates, plan.to_update.height, Stage.CUSTOMERS_UPDATE):
                updated.append(done := update_customers_chunk(chunk, night, block, ledger))
                picture = night_picture.with_updated_customers(picture, done, chunk)
            # Cleared fields stay in the picture: no later stage reads optional customer fields.
            cleared += clear_fields(
                run, Stage.CUSTOMER_FIELDS_CLEAR, plan.to_clear, "customer_ref", clear_customer_fields_chunk
            )
            keep(picture)
    dry = options.dry_run
    reports = [
        stage_report(Stage.CUSTOMERS_CREATE, pl.concat(created), plan.to_create.height, dry),
        stage_report(Stage.CUSTOMERS_UPDATE, pl.concat(updated), plan.to_update.height, dry),
        stage_report(Stage.CUSTOMER_FIELDS_CLEAR, pl.concat(cleared), plan.to_clear.height, dry),
    ]
    return finish_stage(reports, rejected=inputs.customers.rejected_rows)


if __name__ == "__main__":
    import asyncio
    import sys

    asyncio.run(sync_customers(sys.argv[1]))
