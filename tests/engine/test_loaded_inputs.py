"""The export a process loaded: held once for the night's stages, its invoice rows let go of after the
upload and read again from the validated files column by column, never a wrong or partial frame."""

from __future__ import annotations

import gc
import shutil
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from polars.testing import assert_frame_equal

from ar_sync.erp_fields import DEFAULT_MAX_INVOICE_AMOUNT
from ar_sync.erp_reader import InputFileError
from ar_sync.night_payments import PAYMENT_ERP_FIELDS
from ar_sync.planner import DISPATCH_ERP_FIELDS
from sandbox.sample_data import generate_erp_files
from tasks.inputs import (
    forget_loaded_inputs,
    let_go_of_invoice_rows,
    load_erp_inputs,
    loaded_before,
)
from tests.flows.conftest import AS_OF


@pytest.fixture(autouse=True)
def _no_export_held() -> Iterator[None]:
    forget_loaded_inputs()
    yield
    forget_loaded_inputs()


def _parameters(tmp_path: Path) -> dict[str, Any]:
    customers, invoices = generate_erp_files(tmp_path / "erp", customers=8, invoices=30, seed=3, as_of=AS_OF)
    return {
        "customers_file": str(customers),
        "invoices_file": str(invoices),
        "customer_columns": None,
        "invoice_columns": None,
        "max_invoice_amount": DEFAULT_MAX_INVOICE_AMOUNT,
        "cache_dir": str(tmp_path / "cache"),
    }


def test_a_stage_sees_exactly_the_fields_it_names_from_memory_and_after_the_rows_are_let_go_of(
    tmp_path: Path,
) -> None:
    parameters = _parameters(tmp_path)
    whole = load_erp_inputs.fn(**parameters)
    assert whole.invoices is not None and whole.folder is not None
    rows = whole.invoices.valid
    held = weakref.ref(rows)

    for fields in (DISPATCH_ERP_FIELDS, PAYMENT_ERP_FIELDS):
        from_memory = loaded_before(parameters, fields)
        assert from_memory is not None and from_memory.invoices is not None
        assert_frame_equal(from_memory.invoices.valid, rows.select(fields))

    counts = (whole.invoices.rejected_rows, whole.customers.valid.height)
    let_go_of_invoice_rows(at_least=1)
    del whole, from_memory
    expected = {fields: rows.select(fields) for fields in (DISPATCH_ERP_FIELDS, PAYMENT_ERP_FIELDS)}
    full = rows.clone()
    del rows
    gc.collect()
    assert held() is None, "the process still holds every column of the invoice rows"

    for fields, frame in expected.items():
        read_again = loaded_before(parameters, fields)
        assert read_again is not None and read_again.invoices is not None
        assert_frame_equal(read_again.invoices.valid, frame)
        assert (read_again.invoices.rejected_rows, read_again.customers.valid.height) == counts
    # A stage that names no fields gets every column, read again.
    every = loaded_before(parameters)
    assert every is not None and every.invoices is not None
    assert_frame_equal(every.invoices.valid, full)
    # The customers alone (what the customer stage asks for) are still held.
    customers_only = loaded_before({**parameters, "invoices_file": None})
    assert customers_only is not None and customers_only.invoices is None


def test_a_small_export_stays_held_after_the_upload(tmp_path: Path) -> None:
    parameters = _parameters(tmp_path)
    whole = load_erp_inputs.fn(**parameters)
    assert whole.invoices is not None and whole.folder is not None
    let_go_of_invoice_rows()  # 30 rows: below LET_GO_ROWS
    shutil.rmtree(whole.folder)  # held: nothing is read back
    held = loaded_before(parameters, DISPATCH_ERP_FIELDS)
    assert held is not None and held.invoices is not None
    assert_frame_equal(held.invoices.valid, whole.invoices.valid.select(DISPATCH_ERP_FIELDS))


def test_kept_files_removed_after_the_rows_were_let_go_of_mean_validating_again_never_an_empty_export(
    tmp_path: Path,
) -> None:
    parameters = _parameters(tmp_path)
    whole = load_erp_inputs.fn(**parameters)
    assert whole.invoices is not None and whole.folder is not None
    let_go_of_invoice_rows(at_least=1)
    shutil.rmtree(whole.folder)

    assert loaded_before(parameters, DISPATCH_ERP_FIELDS) is None
    again = load_erp_inputs.fn(**parameters, invoice_fields=DISPATCH_ERP_FIELDS)
    assert again.invoices is not None
    assert_frame_equal(again.invoices.valid, whole.invoices.valid.select(DISPATCH_ERP_FIELDS))


def test_a_stage_run_alone_reads_only_its_fields_and_a_later_stage_reads_its_own(tmp_path: Path) -> None:
    parameters = _parameters(tmp_path)
    dispatch = load_erp_inputs.fn(**parameters, invoice_fields=DISPATCH_ERP_FIELDS)
    assert dispatch.invoices is not None
    assert tuple(dispatch.invoices.valid.columns) == DISPATCH_ERP_FIELDS

    payments = loaded_before(parameters, PAYMENT_ERP_FIELDS)
    assert payments is not None and payments.invoices is not None
    assert tuple(payments.invoices.valid.columns) == PAYMENT_ERP_FIELDS
    every = load_erp_inputs.fn(**parameters)
    assert every.invoices is not None
    assert_frame_equal(payments.invoices.valid, every.invoices.valid.select(PAYMENT_ERP_FIELDS))


def test_a_stage_that_loads_no_fields_reads_its_columns_as_a_plan_over_the_kept_file(tmp_path: Path) -> None:
    parameters = _parameters(tmp_path)
    whole = load_erp_inputs.fn(**parameters)
    assert whole.invoices is not None and whole.folder is not None
    expected = whole.invoices.valid.select(PAYMENT_ERP_FIELDS)

    held = loaded_before(parameters, ())
    assert held is not None and held.invoices is not None and held.invoices.valid.width == 0
    assert_frame_equal(held.invoice_rows(PAYMENT_ERP_FIELDS).collect(), expected)
    let_go_of_invoice_rows(at_least=1)
    again = loaded_before(parameters, ())
    assert again is not None and again.invoices is not None and again.invoices.valid.width == 0
    assert_frame_equal(again.invoice_rows(PAYMENT_ERP_FIELDS).collect(), expected)

    shutil.rmtree(whole.folder)
    with pytest.raises(InputFileError, match="run it again"):
        again.invoice_rows(PAYMENT_ERP_FIELDS)
