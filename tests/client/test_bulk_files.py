"""Building bulk upload files from frames, and reading result files back."""

from __future__ import annotations

import io
from datetime import date, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from enkash_ar.bulk_files import (
    BulkFileError,
    decode_result_file,
    empty_result_frame,
    encode_bulk_file,
    to_template_frame,
)
from enkash_ar.bulk_template import CUSTOMER_CREATE, CUSTOMER_UPDATE, INVOICE_CREATE


def invoice_rows() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "baseAmount": [0.00001, 1.5e20, 1180.5],
            "dueDate": [date(2025, 8, 1), date(2025, 9, 30), None],
            "customerId": ["KC0000000000000A", "KC0000000000000B", "KC0000000000000C"],
            "partialPaymentAllowed": [True, False, None],
            "invoiceDate": [datetime(2025, 7, 1, 9, 30), None, None],
            "cgst": [9, 0, None],
        }
    )


def test_frame_is_reordered_to_the_template_and_formatted_as_text() -> None:
    frame = to_template_frame(invoice_rows(), INVOICE_CREATE)
    assert tuple(frame.columns) == INVOICE_CREATE.columns
    assert all(dtype == pl.String for dtype in frame.dtypes)
    assert frame["baseAmount"].to_list() == ["0.00001", "150000000000000000000", "1180.5"]
    assert frame["dueDate"].to_list() == ["2025-08-01", "2025-09-30", None]
    assert frame["partialPaymentAllowed"].to_list() == ["true", "false", None]
    assert frame["invoiceDate"].to_list() == ["2025-07-01T09:30:00", None, None]
    assert frame["cgst"].to_list() == ["9", "0", None]
    assert frame["description"].null_count() == 3  # optional column filled empty


def test_csv_file_has_template_header_and_empty_cells() -> None:
    name, content, content_type = encode_bulk_file(invoice_rows(), INVOICE_CREATE)
    assert name.endswith(".csv") and content_type == "text/csv"
    lines = content.decode().splitlines()
    assert lines[0] == ",".join(INVOICE_CREATE.columns)
    assert "e+" not in content.decode() and "e-" not in content.decode()
    back = pl.read_csv(io.BytesIO(content), infer_schema=False)
    assert back["customerId"].to_list() == ["KC0000000000000A", "KC0000000000000B", "KC0000000000000C"]


def test_xlsx_round_trip_keeps_text() -> None:
    rows = pl.DataFrame(
        {
            "legalName": ["Acme"],
            "customerKeyContacts.name": ["A"],
            "customerKeyContacts.legalName": ["A"],
            "customerKeyContacts.mobile": ["0987654321"],
        }
    )
    name, content, _ = encode_bulk_file(rows, CUSTOMER_CREATE, "xlsx")
    assert name.endswith(".xlsx") and content.startswith(b"PK")
    back = decode_result_file(content, xlsx=True)
    assert back["customerKeyContacts.mobile"].to_list() == ["0987654321"]  # leading zero kept


def test_unknown_and_missing_columns_are_named() -> None:
    rows = pl.DataFrame({"customerId": ["KC0000000000000A"], "amount": [1.0], "colour": ["red"]})
    with pytest.raises(BulkFileError) as info:
        to_template_frame(rows, INVOICE_CREATE)
    text = str(info.value)
    assert "'amount'" in text and "'colour'" in text
    assert "'baseAmount'" in text and "'dueDate'" in text
    assert "invoice_create" in text


def test_update_file_needs_only_the_customer_id() -> None:
    frame = to_template_frame(
        pl.DataFrame({"customerId": ["KC0000000000000A"], "state": ["Goa"]}), CUSTOMER_UPDATE
    )
    assert frame.row(0, named=True)["state"] == "Goa"
    with pytest.raises(BulkFileError, match="no rows"):
        to_template_frame(pl.DataFrame({"customerId": pl.Series([], dtype=pl.String)}), CUSTOMER_UPDATE)


def test_unsupported_format_is_refused() -> None:
    with pytest.raises(BulkFileError, match="unsupported"):
        encode_bulk_file(invoice_rows(), INVOICE_CREATE, "json")  # type: ignore[arg-type]


def test_result_file_columns_stay_text() -> None:
    content = b"rowNumber,invoiceId,externalId,baseAmount\n1,INV1,007,10.50\n2,INV2,,3\n"
    frame = decode_result_file(content)
    expected = pl.DataFrame(
        {
            "rowNumber": ["1", "2"],
            "invoiceId": ["INV1", "INV2"],
            "externalId": ["007", None],
            "baseAmount": ["10.50", "3"],
        }
    )
    assert_frame_equal(frame, expected)


def test_empty_result_frames_have_the_template_columns() -> None:
    assert tuple(empty_result_frame(INVOICE_CREATE, "success").columns) == INVOICE_CREATE.success_columns
    assert tuple(empty_result_frame(INVOICE_CREATE, "failure").columns) == INVOICE_CREATE.failure_columns
    assert empty_result_frame(None, "success").is_empty()
