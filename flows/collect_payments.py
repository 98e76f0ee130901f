"""collect_payments: what customers paid on EnKash since the last export, as a file for the ERP."""

import ar_sync.process_memory  # noqa: F401  (first: polars' allocator, ar_sync/process_memory.py)

from datetime import date

from prefect import flow

from ar_sync.night_payments import PAYMENT_ERP_FIELDS
from ar_sync.results import Stage
from flows.options import CycleOptions, StageReport, stage_report
from flows.prepare import stage_run
from flows.run_outcome import finish_stage
from tasks.night_picture import current_picture
from tasks.payments import collect_payments_task


@flow(name="collect-payments")
async def collect_payments(
    customers_file: str, invoices_file: str, as_of: date | None = None, options: CycleOptions | None = None
) -> list[StageReport]:
    """Export the payments EnKash received since the last export to payments.csv / payments.parquet.

    A payment is an invoice's ``totalReceived`` grown since the run ledger last exported it, so each
    rupee is exported once across nights, reruns and killed runs; a fall (refund, reversal) is a
    REVERSAL line. A rerun of an exported night rewrites the same file. Invoices the ERP marks paid or
    part-paid (``amount_paid`` / ``status`` columns) that EnKash sees otherwise are listed in
    payment_mismatches.csv and the night's report; nothing is changed on either side.

    Args:
        customers_file: the ERP customer export (invoices are checked against its valid customers).
        invoices_file: the ERP invoice export; its ``amount_paid`` / ``status`` are compared with EnKash.
        as_of: the night the payments are exported for; default: the run's date in IST.
        options: how to run (credentials block, output folder, ledger, dry run ...).
    """
    # None of the invoice rows' columns is loaded: the stage reduces them to the few rows that say
    # something about payment and one sum, as a plan over the validated file (ErpInputs.invoice_rows).
    async with stage_run(customers_file, invoices_file, as_of, options, invoice_fields=()) as run:
        options, (night, block, ledger) = run.options, run.where
        picture = current_picture(block, ledger, customers=True, invoices=True)
        enkash_customers, invoices = picture.customer_frame, picture.invoices
        assert invoices is not None
        done = collect_payments_task(
            run.inputs.invoice_rows(PAYMENT_ERP_FIELDS),
            invoices,
            enkash_customers,
            night,
            options.out_dir,
            block,
            ledger,
            dry_run=options.dry_run,
        )
    return finish_stage(
        [stage_report(Stage.PAYMENTS_EXPORT, done.results, done.export.lines.height, options.dry_run)]
    )


if __name__ == "__main__":
    import asyncio
    import sys

    asyncio.run(collect_payments(sys.argv[1], sys.argv[2]))
