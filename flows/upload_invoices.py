"""upload_invoices: upload the ERP invoices EnKash lacks (in chunks) and patch the changed open ones."""

import ar_sync.process_memory  # noqa: F401  (first: polars' allocator, ar_sync/process_memory.py)

from datetime import date

import polars as pl
from prefect import flow

from ar_sync import night_picture
from ar_sync.convergence import invoice_twins
from ar_sync.planner import customer_id_map, plan_invoices
from ar_sync.results import RowOutcome, Stage, empty_results, result_rows
from flows.options import CycleOptions, StageReport, stage_report, tally
from flows.prepare import clear_fields, fan_out, stage_run
from flows.run_outcome import finish_stage
from tasks.invoices import clear_invoice_fields_chunk, update_invoices_chunk, upload_invoices_chunk
from tasks.night_picture import current_picture, keep
from tasks.night_record import record_night_state
from tasks.parameters import unwalked
from tasks.progress import tracked


def _rows(pair: tuple[pl.DataFrame, pl.DataFrame]) -> int:
    return pair[0].height


def _unknown_customer_failures(skipped: pl.DataFrame) -> pl.DataFrame:
    """Invoices whose customer is not in EnKash (its creation failed): reported, never sent."""
    reasons = [
        f"customer {ref} is not in EnKash (see the customer results)" for ref in skipped["customer_ref"]
    ]
    return result_rows(
        Stage.INVOICES_UPLOAD,
        skipped["invoice_number"].to_list(),
        outcome=RowOutcome.FAILURE,
        reasons=reasons,
    )


@flow(name="upload-invoices")
async def upload_invoices(
    customers_file: str, invoices_file: str, as_of: date | None = None, options: CycleOptions | None = None
) -> list[StageReport]:
    """Upload new invoices with invoiceBulkUpload (externalId = invoice_number), patch changed ones, clear
    emptied fields.

    An invoice is new when no live EnKash invoice carries its number as ``externalId`` (compared ignoring
    case, outer spaces and invisible characters; a cancelled copy does not count, so an invoice back in
    the export is billed again); it is changed when EnKash holds it open with other dates, amounts,
    terms or, while undispatched, another customer (it is moved: updateInvoice ``customerId``). Fields
    emptied in the ERP are cleared with updateInvoice nulls. One task run per chunk.

    Args:
        customers_file: the ERP customer export (invoices are checked against its valid customers).
        invoices_file: the ERP invoice export (CSV, Parquet or XLSX).
        as_of: the night (business date) the writes are recorded under; default: the run's date in IST.
        options: how to run (credentials block, ledger, chunk size, dry run ...).
    """
    async with stage_run(customers_file, invoices_file, as_of, options) as run:
        options, invoices, (night, block, ledger) = run.options, run.invoices, run.where
        picture = current_picture(block, ledger, customers=True, invoices=True)
        assert picture.invoices is not None
        keepers = invoice_twins(picture.invoices).keepers
        plan = plan_invoices(invoices.valid, customer_id_map(picture.customer_frame), keepers)
        # The uploads' counts (flows.options.tally), not their rows: one per invoice, held to the end.
        uploaded, updated, cleared = [tally(empty_results())], [empty_results()], [empty_results()]
        if not options.dry_run:
            held_rows = keepers.drop_nulls("externalId")
            held = dict(zip(held_rows["externalId"].to_list(), held_rows["invoiceId"].to_list(), strict=True))
            present = plan.present.select(
                pl.col("externalId").alias("key"),
                pl.col("invoiceId").alias("remote_id"),
                pl.col("baseAmount").cast(pl.Float64).alias("amount"),
            )
            unsendable = _unknown_customer_failures(plan.skipped_unknown_customer)
            uploaded.append(
                tally(
                    record_night_state(
                        Stage.INVOICES_UPLOAD, unwalked(held), present, night, block, ledger, unsendable
                    )
                )
            )
            # Chunks go concurrently (each its own ledger batch), with options.host_limit each holding a slot
            # of the host's Prefect limit.
            sent = await fan_out(
                options,
                lambda c, limit: upload_invoices_chunk.submit(c, night, block, ledger, limit),
                plan.to_create.iter_slices(options.chunk_size),
            )
            for _, done in tracked(sent, plan.to_create.height, Stage.INVOICES_UPLOAD, size=_rows):
                uploaded.append(tally(done))
                picture = night_picture.with_uploads(picture, done)
            updates = plan.to_update.iter_slices(options.chunk_size)
            for chunk in tracked(updates, plan.to_update.height, Stage.INVOICES_UPDATE):
                # Stale until EnKash's answer gives their recomputed amounts (a chunk that fails leaves
                # them to be read again).
                picture = night_picture.with_patched_invoices(picture, chunk["invoiceId"].to_list())
                results, answered = update_invoices_chunk(chunk, night, block, ledger)
                updated.append(results)
                picture = night_picture.with_answered_invoices(picture, answered)
            picture = night_picture.with_patched_invoices(picture, plan.to_clear["invoiceId"].to_list())
            cleared += clear_fields(
                run, Stage.INVOICE_FIELDS_CLEAR, plan.to_clear, "externalId", clear_invoice_fields_chunk
            )
            keep(picture)
    dry = options.dry_run
    reports = [
        stage_report(Stage.INVOICES_UPLOAD, pl.concat(uploaded), plan.to_create.height, dry),
        stage_report(Stage.INVOICES_UPDATE, pl.concat(updated), plan.to_update.height, dry),
        stage_report(Stage.INVOICE_FIELDS_CLEAR, pl.concat(cleared), plan.to_clear.height, dry),
    ]
    return finish_stage(reports, rejected=invoices.rejected_rows)


if __name__ == "__main__":
    import asyncio
    import sys

    asyncio.run(upload_invoices(sys.argv[1], sys.argv[2]))
