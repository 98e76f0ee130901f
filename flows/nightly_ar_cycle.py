"""nightly_ar_cycle: one night of Accounts Receivable, making EnKash match the ERP export."""

from __future__ import annotations

from datetime import date

from prefect import flow

from flows.ar_summary import ar_summary
from flows.dispatch_invoices import dispatch_invoices
from flows.options import CycleOptions
from flows.setup_reminders import setup_reminders
from flows.sync_customers import sync_customers
from flows.upload_invoices import upload_invoices
from tasks.inputs import load_erp_inputs, report_rejected_rows
from tasks.token import fetch_token


@flow(name="nightly-ar-cycle")
async def nightly_ar_cycle(
    customers_file: str,
    invoices_file: str,
    as_of: date | None = None,
    options: CycleOptions | None = None,
) -> dict[str, object]:
    """Run the whole nightly AR cycle for one seller and return the summary.

    Stages, each a subflow that is also deployable alone: load and validate the ERP files (bad rows
    to rejected_rows.csv; fail above the rejection threshold, before anything is sent); fetch a token;
    sync_customers; upload_invoices; dispatch_invoices; setup_reminders; ar_summary. Every stage diffs
    the ERP against a fresh read of EnKash, so rerunning a failed or killed night sends only what is
    still missing.

    Example:
        >>> import asyncio
        >>> asyncio.run(nightly_ar_cycle("erp/customers.csv", "erp/invoices.csv"))  # doctest: +SKIP
    """
    options = options or CycleOptions()
    # Inputs first: a broken export fails the night before any request reaches EnKash.
    inputs = load_erp_inputs(customers_file, invoices_file, options.customer_columns, options.invoice_columns)
    report_rejected_rows(inputs, options.out_dir, options.rejection_threshold)
    fetch_token(options.credentials_block)
    await sync_customers(customers_file, options)
    await upload_invoices(customers_file, invoices_file, options)
    await dispatch_invoices(customers_file, invoices_file, options)
    await setup_reminders(options)
    return await ar_summary(as_of, options)


if __name__ == "__main__":
    import asyncio
    import sys

    asyncio.run(nightly_ar_cycle(sys.argv[1], sys.argv[2]))
