"""The rejected-rows report a clerk acts on: one line per record, its key, every reason, safe to open."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

from ar_sync.erp_fields import FORMULA_NAME, NOT_A_REAL_MOBILE
from ar_sync.erp_input import (
    REJECTED_COLUMNS,
    LoadResult,
    load_customers,
    load_invoices,
    rejection_summary,
    write_rejected,
)

CUSTOMERS = (
    "customer_ref,legal_name,contact_name,mobile\n"
    "CUST00001,Mehta Textiles LLP,Ravi Iyer,+91 98765 43210\n"
    "CUST00002,Kaveri Agro,Asha Nair,0000000000\n"
    'CUST00003,"=HYPERLINK(""http://evil.example"",""x"")",=1+1,9876543210\n'
)
INVOICES = (
    "invoice_number,customer_ref,due_date,base_amount\n"
    "INV-1,CUST00001,2026-03-31,100\n"
    "INV-2,cust00002,2026-03-31,200\n"
    'INV-3,CUST00002,2026-03-31,"4053,14"\n'
    "INV-4,CUST00009,2026-03-31,300\n"
    "=1+1,CUST00001,2026-03-31,400\n"
    "INV-6,CUST00003,2026-03-31,500\n"
)


def load(tmp_path: Path) -> tuple[LoadResult, LoadResult]:
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (tmp_path / "invoices.csv").write_text(INVOICES, encoding="utf-8")
    customers = load_customers(tmp_path / "customers.csv")
    return customers, load_invoices(tmp_path / "invoices.csv", customers=customers)


def test_invoices_of_a_rejected_customer_are_named_one_by_one(tmp_path: Path) -> None:
    customers, invoices = load(tmp_path)
    rejected_customer = f"row 3: mobile: {NOT_A_REAL_MOBILE}"
    assert invoices.rejected.select("row", "key", "column", "reason").rows() == [
        (3, "INV-2", "customer_ref", f"customer_ref: customer cust00002 was rejected ({rejected_customer})"),
        (
            4,
            "INV-3",
            "customer_ref | base_amount",
            f"customer_ref: customer CUST00002 was rejected ({rejected_customer})"
            " | base_amount: decimal comma: a comma is only a thousands separator here; write 4053.14, not"
            " 4053,14",
        ),
        (5, "INV-4", "customer_ref", "customer_ref: unknown customer_ref: not in the customer file"),
        (
            7,
            "INV-6",
            "customer_ref",
            f"customer_ref: customer CUST00003 was rejected (row 4: legal_name: {FORMULA_NAME}"
            f" | contact_name: {FORMULA_NAME})",
        ),
    ]
    assert invoices.valid["invoice_number"].to_list() == ["INV-1", "=1+1"]
    assert customers.valid["customer_ref"].to_list() == ["CUST00001"]


def test_the_report_file_has_one_line_per_record_with_formula_cells_escaped(tmp_path: Path) -> None:
    customers, invoices = load(tmp_path)
    path = write_rejected([customers.rejected, invoices.rejected], tmp_path / "out" / "rejected_rows.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        lines = list(csv.DictReader(handle))
    assert tuple(lines[0]) == REJECTED_COLUMNS
    assert [(line["entity"], line["row"], line["key"]) for line in lines] == [
        ("customers", "3", "CUST00002"),
        ("customers", "4", "CUST00003"),
        ("invoices", "3", "INV-2"),
        ("invoices", "4", "INV-3"),
        ("invoices", "5", "INV-4"),
        ("invoices", "7", "INV-6"),
    ]
    assert lines[1]["value"] == '\'=HYPERLINK("http://evil.example","x") | =1+1'
    assert lines[0]["value"] == "0000000000"
    # The first release's readers group by entity, file and row: those columns still work.
    report = pl.read_csv(path, schema_overrides={"row": pl.Int64})
    assert report.group_by("entity").agg(pl.struct("file", "row").n_unique()).sort("entity").rows() == [
        ("customers", 2),
        ("invoices", 4),
    ]


def test_a_key_that_looks_like_a_formula_is_escaped_in_the_report(tmp_path: Path) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text("invoice_number,customer_ref,due_date,base_amount\n=1+1,C1,someday,1\n")
    report = write_rejected([load_invoices(path).rejected], tmp_path / "rejected_rows.csv")
    assert report.read_text(encoding="utf-8").splitlines()[1].split(",")[3] == "'=1+1"


def test_the_summary_counts_records_and_ranks_reasons(tmp_path: Path) -> None:
    customers, invoices = load(tmp_path)
    summary = rejection_summary([customers, invoices], top=3)
    assert summary.rejected == {"customers": 2, "invoices": 4}
    assert summary.top_reasons == [
        ("invoices customer_ref: customer was rejected", 3),
        (f"customers contact_name: {FORMULA_NAME}", 1),
        (f"customers legal_name: {FORMULA_NAME}", 1),
    ]


def test_nothing_rejected_gives_zeros_and_no_reasons(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("customer_ref,legal_name,contact_name,mobile\nC1,Acme,Ravi,9876543210\n")
    summary = rejection_summary([load_customers(path)])
    assert (summary.rejected, summary.top_reasons) == ({"customers": 0}, [])
