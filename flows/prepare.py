"""Shared first steps of the stage flows: the seller lock, and the validated ERP files."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from prefect.runtime import flow_run

from ar_sync.local_files import check_local_files
from flows.options import CycleOptions
from tasks.connection import connection, run_ledger
from tasks.inputs import ErpInputs, load_erp_inputs, report_rejected_rows
from tasks.seller_lock import seller_lock


def top_level() -> bool:
    """Whether this flow run was started on its own (not as a stage of nightly_ar_cycle)."""
    return not flow_run.parent_flow_run_id


@asynccontextmanager
async def holding_seller(options: CycleOptions) -> AsyncIterator[str]:
    """Hold the seller of ``options`` for the block (re-entrant within a cycle); yields the seller id.

    First checks that the output folder and the run ledger can be written: a night must not send
    everything and then fail on its own files.
    """
    check_local_files(options.out_dir, options.ledger_path)
    seller_id = connection(options.credentials_block).seller_id
    async with seller_lock(seller_id, run_ledger(options.ledger_path), timeout=options.lock_timeout_seconds):
        yield seller_id


def load_inputs(customers_file: str, invoices_file: str | None, options: CycleOptions) -> ErpInputs:
    """Load and validate the ERP export the way ``options`` reads it (column mappings, ceiling)."""
    return load_erp_inputs(
        customers_file,
        invoices_file,
        options.customer_columns,
        options.invoice_columns,
        options.max_invoice_amount,
        options.cache_dir or str(Path(options.ledger_path).parent / "cache"),
    )


def prepare_inputs(customers_file: str, invoices_file: str | None, options: CycleOptions) -> ErpInputs:
    """Load the ERP export (cached by content) and, in a top-level run, write rejected_rows.csv.

    Inside nightly_ar_cycle the parent has already written the report and checked the rejection
    threshold, so the stage subflows only load (a cache hit) and do not write it again.
    """
    inputs = load_inputs(customers_file, invoices_file, options)
    if top_level():
        report_rejected_rows(inputs, options.out_dir, options.rejection_threshold)
    return inputs
