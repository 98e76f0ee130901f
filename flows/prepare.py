"""Shared first step of the stage flows: load and validate the ERP files, report rejected rows."""

from __future__ import annotations

from prefect.runtime import flow_run

from flows.options import CycleOptions
from tasks.inputs import ErpInputs, load_erp_inputs, report_rejected_rows


def prepare_inputs(customers_file: str, invoices_file: str | None, options: CycleOptions) -> ErpInputs:
    """Load the ERP export (cached by content) and, in a top-level run, write rejected_rows.csv.

    Inside nightly_ar_cycle the parent has already written the report and checked the rejection
    threshold, so the stage subflows only load (a cache hit) and do not write it again.
    """
    inputs = load_erp_inputs(customers_file, invoices_file, options.customer_columns, options.invoice_columns)
    if not flow_run.parent_flow_run_id:
        report_rejected_rows(inputs, options.out_dir, options.rejection_threshold)
    return inputs
