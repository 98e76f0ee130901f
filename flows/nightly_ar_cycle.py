"""nightly_ar_cycle: one night of Accounts Receivable, making EnKash match the ERP export."""

import ar_sync.process_memory  # noqa: F401  (first: polars' allocator, ar_sync/process_memory.py)

from datetime import date, timedelta

from prefect import flow
from prefect.logging import get_run_logger

from ar_sync.night_summary import NeedsAttentionError, NightSummary, StagesFailedError
from flows.ar_summary import ar_summary
from flows.cancel_removed import cancel_removed
from flows.collect_payments import collect_payments
from flows.dispatch_invoices import dispatch_invoices
from flows.options import CycleOptions, resolve_night
from flows.prepare import holding_seller, load_inputs
from flows.run_options import resolve_options
from flows.run_outcome import log_night, publish_stopped_night
from flows.setup_reminders import setup_reminders
from flows.stage_failures import NightFailures
from flows.sync_customers import sync_customers
from flows.upload_invoices import upload_invoices
from tasks.dry_run import predict_night_sends
from tasks.inputs import forget_loaded_inputs, let_go_of_invoice_rows, rejected_input, report_rejected_rows
from tasks.night_picture import let_go_of_upload_columns, shared_picture
from tasks.run_artifacts import night_root
from tasks.token import fetch_token


@flow(name="nightly-ar-cycle", on_failure=[publish_stopped_night])
async def nightly_ar_cycle(
    customers_file: str,
    invoices_file: str,
    as_of: date | None = None,
    options: CycleOptions | None = None,
) -> NightSummary:
    """Run the whole nightly AR cycle for one seller and return the night's summary.

    Holds the seller's lock for the whole night: a second cycle of the same seller (a schedule firing
    while someone clicks Run, a CLI run, another worker) waits, then fails with one line naming this
    one. Stages, each a subflow that is also deployable alone: load and validate the ERP files (bad rows
    to rejected_rows.csv; fail above the rejection threshold, before anything is sent); fetch a token;
    cancel_removed (what left the export; a night that would cancel too much stops here, before
    anything is sent); sync_customers; upload_invoices; dispatch_invoices (after removing extra invoice
    copies); collect_payments (what EnKash received since the last export, as payments.csv for the ERP,
    once); setup_reminders; ar_summary. The stages share one picture of EnKash, read once and kept up
    to date from the night's own answers (what dispatch sends from is read again first); every run
    reads its own, so rerunning a failed or killed night sends only what is still missing, and the
    summary counts the whole night.
    When EnKash fails the upload or the dispatch on its own (5xx, an outcome left unknown, a refused
    call: ``flows.stage_failures``), the stages that do not depend on it still run (the payments, the
    reminders, the summary, which names the failure) and the run ends Failed with StagesFailedError;
    the same after a failed payments or reminders stage. Refused credentials, an unreachable EnKash or
    an answer the contract does not describe stop the night at once.
    The run ends Failed, after publishing the summary, when EnKash holds copies only a
    person can fix.

    A dry run (``options.dry_run``) reads EnKash once and predicts, per stage, exactly what the real
    run would send (including the invoices of customers it would create, and their dispatch), without
    running the writing stages; the prediction is ``planned`` in the summary. Its payments stage runs
    as a preview: it counts the lines a real night would export and writes and records nothing.

    Args:
        customers_file: the ERP customer export (CSV, Parquet or XLSX).
        invoices_file: the ERP invoice export (CSV, Parquet or XLSX).
        as_of: the night, and the date aging is counted from; default: the run's date in IST.
        options: how to run (credentials block, output folder, ledger, chunk size, dry run ...).

    Example:
        >>> import asyncio
        >>> asyncio.run(nightly_ar_cycle("erp/customers.csv", "erp/invoices.csv"))  # doctest: +SKIP
    """
    options = await resolve_options(options)
    night = resolve_night(as_of)
    # One picture of EnKash for the whole night: read by the first stage that needs it, updated from
    # each stage's answers, so the stages do not read EnKash again (tasks.night_picture).
    failures = NightFailures()
    every = timedelta(days=options.full_read_every_days) if options.full_read_every_days else None
    with shared_picture(every), night_root():
        async with holding_seller(options):
            # Inputs first: a broken export fails the night before any request reaches EnKash.
            inputs = load_inputs(customers_file, invoices_file, options)
            report = report_rejected_rows(inputs, options.out_dir, options.rejection_threshold)
            rejected = rejected_input(inputs, report)
            block, ledger = options.credentials_block, options.ledger_path
            fetch_token(block, ledger)
            planned = None
            if options.dry_run:
                planned = predict_night_sends(
                    inputs,
                    options.reminder_schedule,
                    options.max_cancel_share,
                    options.confirm_cancellations,
                    block,
                    ledger,
                )
                previews = await collect_payments(customers_file, invoices_file, night, options)
                planned |= {str(r.stage): r.planned for r in previews}
            else:
                # The stages take the export from this process's memory (tasks.inputs), not from here.
                del inputs
                await cancel_removed(customers_file, invoices_file, night, options)
                await sync_customers(customers_file, night, options)
                # From here a stage that EnKash fails on its own (flows.stage_failures) stops only the
                # stages that depend on it: the payments, the reminders and the summary run after a
                # failed upload or dispatch, and the night ends Failed after the summary, naming it.
                uploaded = await failures.attempt(
                    "upload-invoices",
                    lambda: upload_invoices(customers_file, invoices_file, night, options),
                    then=["dispatch-invoices"],
                )
                # The stages after the upload read a few columns of the invoice rows each: a large
                # export's they read again from the validated files instead of holding every column of
                # every row (at 1,000,000 invoices ~250 MiB of the process; dispatch's keys ~50). The picture
                # lets go of what only the upload compared (descriptions, PO numbers, GST amounts).
                let_go_of_invoice_rows()
                let_go_of_upload_columns()
                if uploaded:
                    await failures.attempt(
                        "dispatch-invoices",
                        lambda: dispatch_invoices(customers_file, invoices_file, night, options),
                    )
                await failures.attempt(
                    "collect-payments",
                    lambda: collect_payments(customers_file, invoices_file, night, options),
                )
                # Nothing after the payments reads the export: the reminders and the summary run without it.
                forget_loaded_inputs()
                await failures.attempt("setup-reminders", lambda: setup_reminders(night, options))
            try:
                summary = log_night(await ar_summary(night, options, planned, rejected, failures.failures))
            except Exception:
                if failures.failures:
                    get_run_logger().error(
                        "The summary failed after these stages had failed: %s",
                        "; ".join(f"{f.stage} ({f.error})" for f in failures.failures),
                    )
                raise
    if notes := summary.attention():
        if summary.stages_failed:
            raise StagesFailedError(" ".join(notes))
        raise NeedsAttentionError(" ".join(notes))
    return summary


if __name__ == "__main__":
    import asyncio
    import sys

    asyncio.run(nightly_ar_cycle(sys.argv[1], sys.argv[2]))
