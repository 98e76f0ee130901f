"""Result files in any profile's layout come back in one shape; a layout that does not fit says so."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from enkash_ar.alternative_profiles import named_profile
from enkash_ar.bulk_files import decode_result_file, normalize_result_frame
from enkash_ar.bulk_template import CUSTOMER_CREATE, INVOICE_CREATE
from enkash_ar.contract_profile import SHIPPED_PROFILE, ContractProfile
from enkash_ar.errors import ContractMismatchError
from enkash_ar.open_statuses import check_open_statuses

XLSX = named_profile("result-files-xlsx")
assert XLSX is not None


def test_spreadsheet_row_numbers_and_other_headers_become_the_shipped_shape() -> None:
    raw = pl.DataFrame({"Row No": ["2", "4"], "Invoice Id": ["IN1", "IN2"], "externalId": ["A", "C"]})
    rows = normalize_result_frame(raw, XLSX.result_files, INVOICE_CREATE, "success")
    assert_frame_equal(
        rows, pl.DataFrame({"rowNumber": ["1", "3"], "invoiceId": ["IN1", "IN2"], "externalId": ["A", "C"]})
    )


def test_a_failure_file_gets_field_and_reason() -> None:
    raw = pl.DataFrame(
        {"Row No": ["3"], "Error Field": ["mobile"], "Error Message": ["bad"], "legalName": ["X"]}
    )
    rows = normalize_result_frame(raw, XLSX.result_files, CUSTOMER_CREATE, "failure")
    assert rows.row(0, named=True) == {"rowNumber": "2", "field": "mobile", "reason": "bad", "legalName": "X"}


def test_a_file_in_another_layout_is_named_with_its_columns() -> None:
    raw = pl.DataFrame({"Row No": ["2"], "Invoice Id": ["IN1"]})
    with pytest.raises(ContractMismatchError) as caught:
        normalize_result_frame(raw, SHIPPED_PROFILE.result_files, INVOICE_CREATE, "success")
    message = str(caught.value)
    assert "invoiceBulkUpload" in message and "['Row No', 'Invoice Id']" in message
    assert "result_files" in message and caught.value.setting == "result_files"


def test_row_numbers_below_the_first_row_are_refused() -> None:
    raw = pl.DataFrame({"Row No": ["1"], "Invoice Id": ["IN1"]})
    with pytest.raises(ContractMismatchError, match="first_row_number"):
        normalize_result_frame(raw, XLSX.result_files, INVOICE_CREATE, "success")


def test_an_xlsx_result_file_is_recognised_by_its_content() -> None:
    import io

    buffer = io.BytesIO()
    pl.DataFrame({"Row No": ["2"], "Invoice Id": ["007"]}).write_excel(buffer)
    assert decode_result_file(buffer.getvalue()).to_dicts() == [{"Row No": "2", "Invoice Id": "007"}]


def test_open_invoices_that_read_as_settled_stop_the_night() -> None:
    profile = named_profile("other-status-names")
    assert profile is not None
    frame = pl.DataFrame({"externalId": ["A", "B", "Z"], "receivableStatus": ["PAID", "CANCELLED", "UNPAID"]})
    with pytest.raises(ContractMismatchError) as caught:
        check_open_statuses(frame, ["A", "B"], profile)
    assert "PENDING, PARTIALLY_RECEIVED" in str(caught.value)
    assert "they read as VOID (1), PAID (1)" in str(caught.value)
    check_open_statuses(frame, ["A", "Z"], profile)  # one of them reads as open: nothing to say
    check_open_statuses(frame, ["NOT-IN-ENKASH"], ContractProfile())  # none held yet: nothing to say
    # The night passes a Series (a task parameter Prefect does not walk): the same answers.
    with pytest.raises(ContractMismatchError):
        check_open_statuses(frame, pl.Series(["A", "B"]), profile)
    check_open_statuses(frame, pl.Series(["A", "Z"]), profile)
    check_open_statuses(frame, pl.Series([], dtype=pl.String), profile)
    check_open_statuses(frame, [], profile)
