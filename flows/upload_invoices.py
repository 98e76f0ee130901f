"""upload_invoices: upload the ERP invoices EnKash lacks (in chunks) and patch the changed open ones."""

from __future__ import annotations

import polars as pl
from prefect import flow

from ar_sync.exactly_once import RESULT_SCHEMA, empty_results
from ar_sync.planner import customer_id_map, plan_invoices
from flows.options import CycleOptions, StageReport, write_stage_results
from flows.prepare import prepare_inputs
from tasks.enkash_state import read_enkash_customers, read_enkash_invoices
from tasks.invoices import update_invoices_chunk, upload_invoices_chunk


def _unknown_customer_failures(skipped: pl.DataFrame) -> pl.DataFrame:
    """Invoices whose customer is not in EnKash (its creation failed): reported, never sent."""
    return skipped.select(
        pl.lit("invoices_upload").alias("stage"),
        pl.col("invoice_number").alias("key"),
        pl.lit("failure").alias("outcome"),
        pl.lit(0.0).alias("amount"),
        pl.format("customer {} is not in EnKash (see the customer results)", "customer_ref").alias("reason"),
        pl.lit(None, dtype=pl.String).alias("remote_id"),
    ).cast(RESULT_SCHEMA)  # type: ignore[arg-type]


@flow(name="upload-invoices")
async def upload_invoices(
    customers_file: str, invoices_file: str, options: CycleOptions | None = None
) -> list[StageReport]:
    """Upload new invoices with invoiceBulkUpload (externalId = invoice_number) and patch changed ones.

    An invoice is new when no EnKash invoice carries its number as ``externalId``; it is changed when
    EnKash holds it open with other dates, amounts or terms. One task run per chunk.
    """
    options = options or CycleOptions()
    inputs = prepare_inputs(customers_file, invoices_file, options)
    assert inputs.invoices is not None
    enkash_customers, _ = read_enkash_customers(options.credentials_block)
    plan = plan_invoices(
        inputs.invoices.valid,
        customer_id_map(enkash_customers),
        read_enkash_invoices(options.credentials_block),
    )
    uploaded = [empty_results(), _unknown_customer_failures(plan.skipped_unknown_customer)]
    updated = [empty_results()]
    if not options.dry_run:
        block, ledger = options.credentials_block, options.ledger_path
        for chunk in plan.to_create.iter_slices(options.chunk_size):
            uploaded.append(upload_invoices_chunk(chunk, block, ledger))
        for chunk in plan.to_update.iter_slices(options.chunk_size):
            updated.append(update_invoices_chunk(chunk, block, ledger))
    return [
        write_stage_results(options, "invoices_upload", pl.concat(uploaded), plan.to_create.height),
        write_stage_results(options, "invoices_update", pl.concat(updated), plan.to_update.height),
    ]


if __name__ == "__main__":
    import asyncio
    import sys

    asyncio.run(upload_invoices(sys.argv[1], sys.argv[2]))
