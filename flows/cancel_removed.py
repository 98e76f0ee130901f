"""cancel_removed: what left the ERP export leaves EnKash too (cancel, deactivate, reactivate)."""

import ar_sync.process_memory  # noqa: F401  (first: polars' allocator, ar_sync/process_memory.py)

from datetime import date

import polars as pl
from prefect import flow

from ar_sync import night_picture
from ar_sync.lifecycle import check_guard
from ar_sync.results import Stage, empty_results
from flows.options import CycleOptions, StageReport, stage_report
from flows.prepare import stage_run
from flows.run_outcome import finish_stage
from tasks.lifecycle import (
    deactivate_customers_chunk,
    delete_invoices_chunk,
    plan_leaving,
    reactivate_customers_chunk,
    settle_lifecycle,
    withdraw_invoices_chunk,
)
from tasks.night_picture import current_picture, keep
from tasks.parameters import unwalked
from tasks.progress import tracked


@flow(name="cancel-removed")
async def cancel_removed(
    customers_file: str, invoices_file: str, as_of: date | None = None, options: CycleOptions | None = None
) -> list[StageReport]:
    """Cancel the open invoices the ERP export no longer holds, and deactivate the customers it dropped.

    An invoice this project put in EnKash that is open there but gone from the export (valid or
    rejected rows: a typo never cancels anything) is deleted when it was never dispatched, otherwise
    taken out of collection (receivableStatus CANCELLED); so is one the ERP moved to another customer
    after dispatch (the upload stage bills it again under its new customer). Customers this project
    created that left the export are deactivated; those it deactivated that came back are activated.

    When more than ``options.max_cancel_share`` of the open invoices (or of the active customers) would
    go, the export may be truncated: nothing is cancelled and the flow fails with what to do, unless
    ``options.confirm_cancellations``. In the nightly cycle this stage runs first, so such a night sends
    nothing at all.

    Args:
        customers_file: the ERP customer export.
        invoices_file: the ERP invoice export.
        as_of: the night (business date) the writes are recorded under; default: the run's date in IST.
        options: how to run (credentials block, ledger, chunk size, guard, dry run ...).
    """
    async with stage_run(customers_file, invoices_file, as_of, options) as run:
        options, inputs, (night, block, ledger) = run.options, run.inputs, run.where
        picture = current_picture(block, ledger, customers=True, invoices=True)
        assert picture.invoices is not None
        plan = plan_leaving(inputs, picture.invoices, picture.customer_frame, block, ledger)
        check_guard(plan, max_share=options.max_cancel_share, confirmed=options.confirm_cancellations)
        results = [empty_results()]
        if not options.dry_run:
            # What a killed run left unresolved is done when EnKash shows the state it set.
            statuses = plan.customer_status
            still = {
                Stage.INVOICES_CANCEL: plan.still_open,
                Stage.CUSTOMERS_DEACTIVATE: [ref for ref, status in statuses.items() if status != "INACTIVE"],
                Stage.CUSTOMERS_REACTIVATE: [ref for ref, status in statuses.items() if status != "ACTIVE"],
            }
            results.append(settle_lifecycle(unwalked(still), night, block, ledger))
            deletes = plan.to_delete.iter_slices(options.chunk_size)
            # Each answer updates the night's picture, so the next stages need not read EnKash again.
            for chunk in tracked(deletes, plan.to_delete.height, Stage.INVOICES_CANCEL):
                results.append(done := delete_invoices_chunk(chunk, night, block, ledger))
                picture = night_picture.with_deleted_invoices(picture, done, chunk, "externalId")
            for chunk in plan.to_withdraw.iter_slices(options.chunk_size):
                results.append(done := withdraw_invoices_chunk(chunk, night, block, ledger))
                picture = night_picture.with_withdrawn_invoices(picture, done, chunk)
            for chunk in plan.to_deactivate.iter_slices(options.chunk_size):
                results.append(done := deactivate_customers_chunk(chunk, night, block, ledger))
                picture = night_picture.with_customer_status(picture, done, chunk, "INACTIVE")
            for chunk in plan.to_reactivate.iter_slices(options.chunk_size):
                results.append(done := reactivate_customers_chunk(chunk, night, block, ledger))
                picture = night_picture.with_customer_status(picture, done, chunk, "ACTIVE")
            keep(picture)
    combined, dry = pl.concat(results), options.dry_run
    reports = [
        stage_report(Stage.INVOICES_CANCEL, combined, plan.cancellations, dry),
        stage_report(Stage.CUSTOMERS_DEACTIVATE, combined, plan.to_deactivate.height, dry),
        stage_report(Stage.CUSTOMERS_REACTIVATE, combined, plan.to_reactivate.height, dry),
    ]
    return finish_stage(reports)


if __name__ == "__main__":
    import asyncio
    import sys

    asyncio.run(cancel_removed(sys.argv[1], sys.argv[2]))
