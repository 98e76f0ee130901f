"""Loading and validating ERP exports: what a finance-ops user sees for good, bad and broken files."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from ar_sync.erp_fields import GSTIN_ALPHABET, gstin_check_char
from ar_sync.erp_input import (
    REJECTED_COLUMNS,
    REJECTED_SCHEMA,
    InputFileError,
    RejectionThresholdError,
    check_rejection_threshold,
    load_customers,
    load_invoices,
    write_rejected,
)

CUSTOMER_HEADER = "customer_ref,legal_name,contact_name,mobile,email,gstin,pin_code\n"
GOOD_CUSTOMER = "C1,Mehta Textiles LLP,Ravi Iyer,9876543210,ravi@mehta.in,27AAPFU0939F1ZV,400001\n"
INVOICE_HEADER = (
    "invoice_number,customer_ref,invoice_date,due_date,base_amount,cgst,sgst,igst,partial_payment_allowed\n"
)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def rejected(file: Path, entity: str, rows: list[tuple[int, str, str, str, str]]) -> pl.DataFrame:
    return pl.DataFrame([(entity, str(file), *row) for row in rows], schema=REJECTED_SCHEMA, orient="row")


def test_a_bad_customer_is_one_report_line_with_every_reason(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "customers.csv",
        CUSTOMER_HEADER + GOOD_CUSTOMER + "C2,,Asha,12345,not-mail,27AAPFU0939F1ZA,012345\n",
    )
    result = load_customers(path)
    expected = rejected(
        path,
        "customers",
        [
            (
                3,
                "C2",
                "legal_name | mobile | email | gstin | pin_code",
                "legal_name: legal_name is required but empty"
                " | mobile: not a mobile number: expected 10 digits, optionally after +91, 91 or 0"
                " (spaces and hyphens are fine)"
                " | email: not an e-mail address"
                " | gstin: GSTIN check character does not match: re-check the number"
                " | pin_code: not a PIN code: expected 6 digits, the first not 0",
                "(empty) | 12345 | not-mail | 27AAPFU0939F1ZA | 012345",
            ),
        ],
    )
    assert_frame_equal(result.rejected, expected)
    assert (result.total_rows, result.rejected_rows) == (2, 1)
    assert result.valid["customer_ref"].to_list() == ["C1"]
    assert result.valid["source_row"].to_list() == [2]


def test_every_row_sharing_a_duplicate_key_is_rejected(tmp_path: Path) -> None:
    other = GOOD_CUSTOMER.replace("C1,", "C2,")
    path = write(tmp_path, "customers.csv", CUSTOMER_HEADER + GOOD_CUSTOMER + other + GOOD_CUSTOMER)
    result = load_customers(path)
    assert result.valid["customer_ref"].to_list() == ["C2"]
    assert result.rejected["row"].to_list() == [2, 4]
    assert result.rejected["reason"].str.contains("rows 2 'C1', 4 'C1' hold the same key").all()


def test_blank_rows_are_skipped_and_rows_keep_their_spreadsheet_numbers(tmp_path: Path) -> None:
    bad = GOOD_CUSTOMER.replace("C1,", "C3,").replace("9876543210", "12")
    path = write(tmp_path, "c.csv", CUSTOMER_HEADER + GOOD_CUSTOMER + ",,,,,,\n\n" + bad)
    result = load_customers(path)
    assert result.total_rows == 2
    assert result.rejected["row"].to_list() == [5]


def test_headers_are_normalised_and_mapped(tmp_path: Path) -> None:
    header = "Customer Ref,LEGAL-NAME,Contact  Name,Phone,Unused\n"
    path = write(tmp_path, "c.csv", "\ufeff" + header + "C1,Acme Ltd,Ravi,+91 9876543210,x\n")
    result = load_customers(path, mapping={"Phone": "mobile"})
    assert result.rejected.is_empty()
    assert result.valid.columns[:4] == ["customer_ref", "legal_name", "contact_name", "mobile"]
    assert result.valid["email"].dtype == pl.String


def test_missing_required_columns_are_named_with_a_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "customer_reference,legal_name,contact_name\nC1,A,B\n")
    with pytest.raises(InputFileError) as info:
        load_customers(path)
    message = str(info.value)
    assert "['customer_ref', 'mobile']" in message
    assert "'customer_ref' looks like 'customer_reference'" in message
    assert "mapping" in message and str(path) in message


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("missing.csv", None, "does not exist"),
        ("old.xls", b"x", "save it as .xlsx"),
        ("empty.csv", b"", "empty (0 bytes)"),
        ("latin.csv", "customer_ref\nCaf\xe9\n".encode("latin-1"), "not UTF-8 (first bad byte on line 2)"),
        ("wide.csv", "customer_ref\n".encode("utf-16"), "UTF-16"),
        ("junk.parquet", b"not parquet at all", "not a readable PARQUET file"),
        ("junk.xlsx", b"not a zip", "not a readable XLSX file"),
        ("ragged.csv", (CUSTOMER_HEADER + "a,b,c,d,e,f,g,h,i,j\n").encode(), "could not be parsed"),
    ],
)
def test_unusable_files_raise_a_message_naming_the_file(
    tmp_path: Path, name: str, content: bytes | None, fragment: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputFileError, match=r".*") as info:
        load_customers(path)
    assert fragment in str(info.value)
    assert str(path) in str(info.value)


def test_header_only_file_loads_as_empty_typed_frames(tmp_path: Path) -> None:
    result = load_invoices(write(tmp_path, "i.csv", INVOICE_HEADER), known_customer_refs=None)
    assert (result.total_rows, result.rejected_rows, result.valid.height) == (0, 0, 0)
    assert result.valid.schema["due_date"] == pl.Date
    assert result.valid.schema["base_amount"] == pl.Decimal(18, 2)


def test_invoice_rules(tmp_path: Path) -> None:
    rows = [
        'I1,C1,2026-01-01,2026-01-31,"1,23,456.50",9,9,,Yes\n',
        "I2,C9,2026-01-05,2026-01-04,0.05,-1,,,maybe\n",
        "I3,C1,2026-1-5,31/01/2026,1e5,,,,\n",
    ]
    path = write(tmp_path, "i.csv", INVOICE_HEADER + "".join(rows))
    result = load_invoices(path, known_customer_refs={"C1"})
    assert result.valid.row(0, named=True) | {"source_row": 2} == {
        "invoice_number": "I1",
        "customer_ref": "C1",
        "invoice_date": date(2026, 1, 1),
        "due_date": date(2026, 1, 31),
        "base_amount": Decimal("123456.50"),
        "cgst": Decimal("9.00"),
        "sgst": Decimal("9.00"),
        "igst": None,
        "description": None,
        "po_number": None,
        "partial_payment_allowed": True,
        # The optional payment columns, absent from this export: nothing said, nothing assumed.
        "amount_paid": None,
        "status": None,
        "invoice_key": "i1",
        "customer_key": "c1",
        "source_row": 2,
    }
    expected = rejected(
        path,
        "invoices",
        [
            (
                3,
                "I2",
                "customer_ref | due_date | base_amount | cgst | partial_payment_allowed",
                "customer_ref: unknown customer_ref: not in the customer file"
                " | due_date: due_date is before invoice_date 2026-01-05"
                " | base_amount: must be at least 0.1"
                " | cgst: must not be negative"
                " | partial_payment_allowed: not a yes/no value: use true/false, yes/no or 1/0",
                "C9 | 2026-01-04 | 0.05 | -1 | maybe",
            ),
            (
                4,
                "I3",
                "invoice_date | due_date | base_amount",
                "invoice_date: not a date: expected yyyy-MM-dd, a date cell or an Excel date"
                " | due_date: not a date: expected yyyy-MM-dd, a date cell or an Excel date"
                " | base_amount: not a number: expected a plain decimal such as 1234.50",
                "2026-1-5 | 31/01/2026 | 1e5",
            ),
        ],
    )
    assert_frame_equal(result.rejected, expected)


@pytest.mark.parametrize(
    ("cell", "value"),
    [("true", True), ("NO", False), ("y", True), ("N", False), ("1", True), ("0", False), ("", None)],
)
def test_partial_payment_flags(tmp_path: Path, cell: str, value: bool | None) -> None:
    path = write(tmp_path, "i.csv", INVOICE_HEADER + f"I1,C1,,2026-01-31,100,,,,{cell}\n")
    result = load_invoices(path, known_customer_refs=None)
    assert result.valid["partial_payment_allowed"].to_list() == [value]


def test_typed_parquet_cells_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "i.parquet"
    pl.DataFrame(
        {
            "invoice_number": ["I1", "I2"],
            "customer_ref": ["C1", "C1"],
            "due_date": [date(2026, 2, 1), None],
            "base_amount": [250, 300],
        }
    ).write_parquet(path)
    result = load_invoices(path, known_customer_refs=pl.Series(["C1"]))
    assert result.valid["due_date"].to_list() == [date(2026, 2, 1)]
    assert result.rejected.select("row", "column").rows() == [(3, "due_date")]


def test_fifty_thousand_rows_with_thirty_percent_bad(tmp_path: Path) -> None:
    n = 50_000
    frame = pl.select(i=pl.int_range(n)).select(
        invoice_number=pl.format("INV-{}", "i"),
        customer_ref=pl.when(pl.col("i") % 10 == 0).then(pl.lit("NOPE")).otherwise(pl.lit("C1")),
        due_date=pl.when(pl.col("i") % 10 == 1).then(pl.lit("someday")).otherwise(pl.lit("2026-03-31")),
        base_amount=pl.when(pl.col("i") % 10 == 2).then(pl.lit("-5")).otherwise(pl.lit("1,000.00")),
    )
    path = tmp_path / "big.csv"
    frame.write_csv(path)
    result = load_invoices(path, known_customer_refs={"C1"})
    assert (result.total_rows, result.rejected_rows, result.valid.height) == (n, 15_000, 35_000)
    counts = result.rejected.group_by("column").len().sort("column")
    assert counts.rows() == [("base_amount", 5_000), ("customer_ref", 5_000), ("due_date", 5_000)]


def test_threshold_is_strictly_greater(tmp_path: Path) -> None:
    check_rejection_threshold(100, 20, 0.2)
    check_rejection_threshold(0, 0)
    with pytest.raises(RejectionThresholdError) as info:
        check_rejection_threshold(
            100, 21, 0.2, entity="invoices", rejected_path=tmp_path / "rejected_rows.csv"
        )
    assert "21 of 100 invoices rows" in str(info.value)
    assert "rejected_rows.csv" in str(info.value)


def test_write_rejected_always_has_the_header(tmp_path: Path) -> None:
    empty = write_rejected([], tmp_path / "out" / "rejected_rows.csv")
    assert empty.read_text().strip() == ",".join(REJECTED_COLUMNS)
    path = write(tmp_path, "c.csv", CUSTOMER_HEADER + "C1,,x,9876543210,,,\n")
    report = write_rejected([load_customers(path).rejected], tmp_path / "r.csv")
    assert pl.read_csv(report)["row"].to_list() == [2]


def test_known_gstin_checksums() -> None:
    firsts = pl.Series(["27AAPFU0939F1Z", "29AAGCB7383J1Z"])
    assert pl.select(gstin_check_char(pl.lit(firsts))).to_series().to_list() == ["V", "4"]


@given(st.text(alphabet=GSTIN_ALPHABET, min_size=1, max_size=1))
def test_only_the_right_check_character_passes(check: str) -> None:
    frame = pl.DataFrame({"g": ["27AAPFU0939F1Z"]})
    right = frame.select(gstin_check_char(pl.col("g"))).item()
    assert (check == right) == (check == "V")
