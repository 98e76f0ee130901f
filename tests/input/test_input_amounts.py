"""Amounts are money: exact decimals, never rounded, never 100x, never above the ceiling."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from ar_sync.erp_fields import (
    DECIMAL_COMMA,
    NOT_A_NUMBER,
    ODD_GROUPING,
    TOO_MANY_DECIMALS,
)
from ar_sync.erp_input import TOTAL_COLUMN, load_invoices
from ar_sync.planner import plan_invoices
from enkash_ar.bulk_files import encode_bulk_file
from enkash_ar.bulk_template import INVOICE_CREATE
from enkash_ar.frames import INVOICE_SCHEMA

HEADER = "invoice_number,customer_ref,due_date,base_amount,cgst,sgst,igst\n"
CEILING = "above the ceiling of 100000000.00 per invoice: check the amount in the ERP"


def load_amounts(tmp_path: Path, cells: list[str], **options: object) -> pl.DataFrame:
    """Load one invoice per base_amount cell; return number, parsed amount and reason per row."""
    lines = [f'I{i},C1,2026-03-31,"{cell}",,,\n' for i, cell in enumerate(cells)]
    path = tmp_path / "invoices.csv"
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    result = load_invoices(path, **options)  # type: ignore[arg-type]
    return _outcomes(result.valid, result.rejected)


def _outcomes(valid: pl.DataFrame, rejected: pl.DataFrame) -> pl.DataFrame:
    return (
        valid.select(pl.col("invoice_number").alias("key"), "base_amount")
        .join(rejected.select("key", "reason"), on="key", how="full", coalesce=True)
        .sort(pl.col("key").str.slice(1).cast(pl.Int64))
    )


@pytest.mark.parametrize(
    ("cell", "amount"),
    [
        ("4053.14", "4053.14"),
        ("100", "100.00"),
        (" 4053.1 ", "4053.10"),
        ("1,234,567.89", "1234567.89"),  # Western grouping
        ("12,34,567.89", "1234567.89"),  # Indian grouping
        ("1,23,456.50", "123456.50"),
        ("4,053", "4053.00"),  # the same in both groupings
        ("4053.140", "4053.14"),  # a trailing zero is still exactly 4053.14: nothing is rounded
        ("100000000.00", "100000000.00"),  # the ceiling itself is allowed
    ],
)
def test_acceptable_amounts_are_read_exactly(tmp_path: Path, cell: str, amount: str) -> None:
    outcome = load_amounts(tmp_path, [cell])
    assert outcome.rows() == [("I0", Decimal(amount), None)]


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("4053,14", DECIMAL_COMMA),  # was sent as 405314.00
        ("4.053,14", DECIMAL_COMMA),
        ("4,0,5,3.14", ODD_GROUPING),
        ("1,2345.00", ODD_GROUPING),
        ("12,3456", ODD_GROUPING),
        ("4053.145", TOO_MANY_DECIMALS),  # was rounded silently
        ("0.001", TOO_MANY_DECIMALS),
        ("99999999999999999999.99", CEILING),  # was sent as 1e+20
        ("100000000.01", CEILING),
        ("1e5", NOT_A_NUMBER),
        ("₹100", NOT_A_NUMBER),
        ("NaN", NOT_A_NUMBER),
        ("inf", NOT_A_NUMBER),
        ("1 000", NOT_A_NUMBER),
        ("-100", "must be at least 0.1"),
        ("-99999999999999999999", "must be at least 0.1"),
    ],
)
def test_unacceptable_amounts_are_rejected_with_the_reason(tmp_path: Path, cell: str, reason: str) -> None:
    outcome = load_amounts(tmp_path, [cell])
    assert outcome.rows() == [("I0", None, f"base_amount: {reason}")]


def test_typed_cells_in_parquet_must_be_exactly_two_decimal_amounts(tmp_path: Path) -> None:
    path = tmp_path / "invoices.parquet"
    pl.DataFrame(
        {
            "invoice_number": [f"I{i}" for i in range(6)],
            "customer_ref": ["C1"] * 6,
            "due_date": [date(2026, 3, 31)] * 6,
            "base_amount": [4053.14, 4053.145, 1e20, 0.1 + 0.2, float("nan"), 100.0],
            "cgst": pl.Series([9, 10**12, None, None, None, None], dtype=pl.Int64),
        }
    ).write_parquet(path)
    result = load_invoices(path)
    assert _outcomes(result.valid, result.rejected).rows() == [
        ("I0", Decimal("4053.14"), None),  # a binary float of 4053.14 is 4053.14
        ("I1", None, f"base_amount: {TOO_MANY_DECIMALS} | cgst: {CEILING}"),  # every reason
        ("I2", None, f"base_amount: {CEILING}"),
        ("I3", None, f"base_amount: {TOO_MANY_DECIMALS}"),  # 0.30000000000000004: computed, not rounded
        ("I4", None, f"base_amount: {NOT_A_NUMBER}"),
        ("I5", Decimal("100.00"), None),
    ]
    assert result.valid.schema["base_amount"] == pl.Decimal(18, 2)
    assert result.rejected.filter(pl.col("key") == "I1")["value"].item() == "4053.145 | 1000000000000"


def test_the_invoice_total_must_stay_under_the_ceiling(tmp_path: Path) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text(
        HEADER
        + "I1,C1,2026-03-31,4000.00,,,1000.00\n"  # exactly at a 5000 ceiling: fine
        + "I2,C1,2026-03-31,4000.00,500.00,500.00,0.01\n"
        + "I3,C1,2026-03-31,5000.01,,,\n",
        encoding="utf-8",
    )
    result = load_invoices(path, max_invoice_amount=Decimal("5000"))
    assert result.valid["invoice_number"].to_list() == ["I1"]
    assert result.rejected.select("key", "column", "reason", "value").rows() == [
        (
            "I2",
            TOTAL_COLUMN,
            f"{TOTAL_COLUMN}: invoice total above the ceiling of 5000.00 per invoice: check the amounts in "
            "the ERP (total 5000.01)",
            "5000.01",
        ),
        (
            "I3",
            "base_amount",
            "base_amount: above the ceiling of 5000.00 per invoice: check the amount in the ERP",
            "5000.01",
        ),
    ]


@pytest.mark.parametrize("ceiling", [Decimal(0), Decimal("-1"), Decimal("1.005"), "lots", Decimal("1e14")])
def test_an_impossible_ceiling_is_refused(tmp_path: Path, ceiling: object) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text(HEADER + "I1,C1,2026-03-31,1,,,\n", encoding="utf-8")
    with pytest.raises(ValueError, match="max_invoice_amount"):
        load_invoices(path, max_invoice_amount=ceiling)  # type: ignore[arg-type]


def test_the_bulk_file_carries_the_exact_text_and_an_unchanged_invoice_is_not_sent_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text(
        HEADER + 'I1,C1,2026-03-31,4053.14,,,729.57\nI2,C1,2026-03-31,"12,34,567.89",2.67,2.67,\n',
        encoding="utf-8",
    )
    erp = load_invoices(path).valid
    ids = pl.DataFrame({"customer_ref": ["C1"], "customerId": ["KC0000000000000A"]})
    empty = pl.DataFrame(schema=INVOICE_SCHEMA)

    first = plan_invoices(erp, ids, empty)
    _, content, _ = encode_bulk_file(first.to_create, INVOICE_CREATE)
    sent = pl.read_csv(content, infer_schema=False)
    assert sent.select("externalId", "baseAmount", "cgst", "igst").rows() == [
        ("I1", "4053.14", None, "729.57"),
        ("I2", "1234567.89", "2.67", None),
    ]

    # EnKash answers with JSON floats; the same amounts must compare as unchanged.
    held = pl.DataFrame(
        {
            "invoiceId": ["i1", "i2"],
            "externalId": ["I1", "I2"],
            "customerId": ["KC0000000000000A"] * 2,
            "invoiceDate": [None, None],
            "dueDate": [date(2026, 3, 31)] * 2,
            "baseAmount": [4053.14, 1234567.89],
            "cgst": [None, 2.67],
            "sgst": [None, 2.67],
            "igst": [729.57, None],
            "dispatched": [True, True],
            "receivableStatus": ["UNPAID", "UNPAID"],
            "createdOn": [datetime(2026, 3, 1, tzinfo=UTC)] * 2,
        },
        schema_overrides={"invoiceDate": INVOICE_SCHEMA["invoiceDate"]},
    )
    held = pl.concat([empty, held], how="diagonal_relaxed")
    again = plan_invoices(erp, ids, held)
    assert (again.to_create.height, again.to_update.height, again.unchanged) == (0, 0, 2)
