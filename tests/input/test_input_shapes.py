"""Input shapes real exports have: mixed XLSX dates, Excel day numbers, repeated headers, phone formats."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from ar_sync.erp_fields import FORMULA_NAME, NOT_A_DATE, NOT_A_MOBILE, NOT_A_REAL_MOBILE
from ar_sync.erp_input import InputFileError, load_customers, load_invoices
from tests.input.erp_workbooks import write_xlsx

INVOICE_HEADER = ["invoice_number", "customer_ref", "invoice_date", "due_date", "base_amount"]


def test_xlsx_dates_typed_as_text_do_not_spoil_the_real_date_cells(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["I1", "C1", "2026-03-01", "2026-03-31", 100],  # text dates first: they once set the column type
        ["I2", "C1", date(2026, 3, 2), date(2026, 4, 1), 4053.14],
        ["I3", "C1", datetime(2026, 3, 3, 17, 45), 46115, 200],  # a time of day, an Excel day number
        ["I4", "C1", date(2026, 3, 4), "46116", 300],  # a day number typed as text
        ["I5", "C1", date(2026, 3, 5), "31/03/2026", 400],
        ["I6", "C1", None, 12345, 500],  # an Excel day number in 1933: a typo
    ]
    for i in range(7, 120):  # more rows than the readers sample to guess a column's type
        rows.append([f"I{i}", "C1", date(2026, 3, 1), date(2026, 4, 30), 1])
    result = load_invoices(write_xlsx(tmp_path / "invoices.xlsx", INVOICE_HEADER, rows))

    valid = result.valid.head(4).select("invoice_number", "invoice_date", "due_date", "base_amount")
    assert valid.rows() == [
        ("I1", date(2026, 3, 1), date(2026, 3, 31), 100),
        ("I2", date(2026, 3, 2), date(2026, 4, 1), Decimal("4053.14")),
        ("I3", date(2026, 3, 3), date(2026, 4, 3), 200),
        ("I4", date(2026, 3, 4), date(2026, 4, 4), 300),
    ]
    assert str(result.valid["base_amount"][1]) == "4053.14"
    assert result.valid.height == 117
    assert result.rejected.select("row", "key", "reason").rows() == [
        (6, "I5", f"due_date: {NOT_A_DATE}"),
        (
            7,
            "I6",
            "due_date: not a plausible date: an Excel date outside 32874..73050 (1990-2099); check the "
            "cell's format",
        ),
    ]


def test_excel_day_numbers_in_csv_and_parquet(tmp_path: Path) -> None:
    csv_path = tmp_path / "i.csv"
    csv_path.write_text(",".join(INVOICE_HEADER) + "\nI1,C1,46349,46350,1\nI2,C1,46349.75,99999,1\n")
    parquet_path = tmp_path / "i.parquet"
    pl.DataFrame(
        {"invoice_number": ["I1"], "customer_ref": ["C1"], "due_date": [46350], "base_amount": [1]}
    ).write_parquet(parquet_path)

    from_csv = load_invoices(csv_path)
    assert from_csv.valid.select("invoice_date", "due_date").rows() == [
        (date(2026, 11, 23), date(2026, 11, 24))
    ]
    assert from_csv.rejected.select("row", "column").rows() == [(3, "due_date")]
    assert load_invoices(parquet_path).valid["due_date"].to_list() == [date(2026, 11, 24)]


@pytest.mark.parametrize(
    ("header", "named"),
    [
        (
            "invoice_number,customer_ref,due_date,base_amount,base_amount",
            "'base_amount' (column D) and 'base_amount' (column E)",
        ),
        (
            "invoice_number,customer_ref,due_date,base_amount,Base Amount",
            "'base_amount' (column D) and 'Base Amount' (column E)",
        ),
        (
            "Invoice Number,customer_ref,due_date,base_amount,INVOICE-NUMBER",
            "invoice_number from 'Invoice Number' (column A) and 'INVOICE-NUMBER' (column E)",
        ),
    ],
)
def test_a_repeated_csv_column_refuses_the_file_naming_both_headers(
    tmp_path: Path, header: str, named: str
) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text(header + "\nI1,C1,2026-03-31,100,200\n")
    with pytest.raises(InputFileError) as info:
        load_invoices(path)
    message = str(info.value)
    assert str(path) in message and named in message
    assert "more than one column for the same field" in message


def test_a_mapping_onto_a_column_that_is_also_there_is_a_repeated_column(tmp_path: Path) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text("invoice_number,customer_ref,due_date,base_amount,Amount\nI1,C1,2026-03-31,100,200\n")
    with pytest.raises(InputFileError, match=r"base_amount from 'base_amount' \(column D\) and 'Amount'"):
        load_invoices(path, mapping={"Amount": "base_amount"})


def test_repeated_columns_in_xlsx_and_parquet_refuse_the_file(tmp_path: Path) -> None:
    xlsx = write_xlsx(
        tmp_path / "invoices.xlsx", [*INVOICE_HEADER, "base_amount"], [["I1", "C1", None, "2026-03-31", 1, 2]]
    )
    with pytest.raises(InputFileError, match=r"'base_amount' \(column E\) and 'base_amount' \(column F\)"):
        load_invoices(xlsx)

    parquet = tmp_path / "invoices.parquet"
    frame = pl.DataFrame({"invoice_number": ["I1"], "customer_ref": ["C1"], "due_date": ["2026-03-31"]})
    frame.with_columns(pl.lit(1).alias("base_amount"), pl.lit(2).alias("Base Amount")).write_parquet(parquet)
    with pytest.raises(InputFileError, match=r"'base_amount' \(column D\) and 'Base Amount' \(column E\)"):
        load_invoices(parquet)

    # Parquet can even hold two columns of one name; polars will not read them, the message says why.
    buffer = io.BytesIO()
    frame.with_columns(pl.lit(1).alias("base_amount"), pl.lit(2).alias("base_amounX")).write_parquet(buffer)
    exact = tmp_path / "exact.parquet"
    exact.write_bytes(buffer.getvalue().replace(b"base_amounX", b"base_amount"))
    with pytest.raises(InputFileError, match="more than one column of the same name") as info:
        load_invoices(exact)
    assert str(exact) in str(info.value) and "'base_amount'" in str(info.value)


CUSTOMER_HEADER = "customer_ref,legal_name,contact_name,mobile\n"


@pytest.mark.parametrize(
    ("cell", "mobile"),
    [
        ("9876543210", "9876543210"),
        ("+91 98765 43210", "9876543210"),
        ("098765 43210", "9876543210"),
        ("91-98765-43210", "9876543210"),
        ("+91-9876543210", "9876543210"),
        ("0091 98765 43210", "9876543210"),
        ("919876543210", "9876543210"),
        ("9198765432", "9198765432"),  # ten digits that happen to start with 91: a number, not a prefix
        ("6000000000", "6000000000"),
    ],
)
def test_indian_mobiles_are_kept_as_their_ten_digits(tmp_path: Path, cell: str, mobile: str) -> None:
    path = tmp_path / "c.csv"
    path.write_text(CUSTOMER_HEADER + f"C1,Acme Ltd,Ravi,{cell}\n")
    result = load_customers(path)
    assert result.rejected.is_empty()
    assert result.valid["mobile"].to_list() == [mobile]


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("0000000000", NOT_A_REAL_MOBILE),
        ("5876543210", NOT_A_REAL_MOBILE),
        ("+91 12345 67890", NOT_A_REAL_MOBILE),
        ("12345", NOT_A_MOBILE),
        ("+1 202 555 0123", NOT_A_MOBILE),
        ("98765 4321x", NOT_A_MOBILE),
        ("(+91) 98765 43210", NOT_A_MOBILE),
    ],
)
def test_mobiles_that_cannot_be_real_are_rejected(tmp_path: Path, cell: str, reason: str) -> None:
    path = tmp_path / "c.csv"
    path.write_text(CUSTOMER_HEADER + f"C1,Acme Ltd,Ravi,{cell}\n")
    assert load_customers(path).rejected.select("column", "reason", "value").rows() == [
        ("mobile", f"mobile: {reason}", cell)
    ]


def test_mobiles_typed_as_numbers_in_a_workbook(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "c.xlsx",
        ["customer_ref", "legal_name", "contact_name", "mobile"],
        [["C1", "Acme Ltd", "Ravi", 9876543210], ["C2", "Beta Ltd", "Asha", 919876543211]],
    )
    assert load_customers(path).valid["mobile"].to_list() == ["9876543210", "9876543211"]


def test_formula_names_are_refused_and_bidi_controls_never_reach_enkash(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "customer_ref,legal_name,contact_name,mobile,address\n"
        'C1,"=HYPERLINK(""http://evil.example"",""x"")",Ravi,9876543210,\n'
        "C2,@Home Furnishings,+Asha,9876543210,\n"
        "C3,\u202eAcme Ltd\u202c,Ravi \u200eIyer,9876543210,\u2066Plot 7\u2069 MIDC\n"
        "C4,Mehta - Sons,Ravi,9876543210,\n",
        encoding="utf-8",
    )
    result = load_customers(path)
    assert result.rejected.select("key", "column", "reason").rows() == [
        ("C1", "legal_name", f"legal_name: {FORMULA_NAME}"),
        ("C2", "legal_name | contact_name", f"legal_name: {FORMULA_NAME} | contact_name: {FORMULA_NAME}"),
    ]
    assert result.valid.select("customer_ref", "legal_name", "contact_name", "address").rows() == [
        ("C3", "Acme Ltd", "Ravi Iyer", "Plot 7 MIDC"),
        ("C4", "Mehta - Sons", "Ravi", None),
    ]
