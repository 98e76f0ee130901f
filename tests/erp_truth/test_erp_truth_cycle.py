"""One night over an ERP export holding every bad case users met: EnKash gets only exact, single records.

A real Prefect server, the sandbox over real HTTP, real files (customers as CSV, invoices as an XLSX
workbook with text dates beside real date cells). What matters to the user is asserted on both
sides: what EnKash holds afterwards, and what rejected_rows.csv tells the clerk.
"""

from __future__ import annotations

import asyncio
import csv
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from ar_sync.keys import normalise_key
from flows.nightly_ar_cycle import nightly_ar_cycle
from flows.options import CycleOptions
from tasks.connection import enkash_client
from tests.input.erp_workbooks import write_xlsx

AS_OF = date(2026, 11, 24)
ZWSP = "\u200b"

CUSTOMERS = (
    "customer_ref,legal_name,contact_name,mobile,email,state,pin_code\n"
    "CUST00001,Mehta Textiles LLP,Ravi Iyer,+91 98765 43210,ravi@mehta.in,Maharashtra,400001\n"
    "CUST00002,Kaveri Agro Industries,Asha Nair,098765 43211,,Karnataka,560001\n"
    "CUST00003,Lakshmi Steels,Vikram Das,9876543213,,Kerala,682001\n"  # row 4
    f"CUST{ZWSP}00003,Lakshmi Steels Pvt Ltd,Vikram Das,9876543213,,Kerala,682001\n"
    'CUST00004,"=HYPERLINK(""http://evil.example/?x"",""Pay here"")",=1+1,9876543214,,Delhi,\n'
    "CUST00005,Om Sai Foods,Meena Joshi,0000000000,,Gujarat,380001\n"  # row 7
    "CUST00006,Navbharat Polymers,Suresh Khan,91-98765-43216,,Telangana,500001\n"
)
INVOICE_HEADER = ["invoice_number", "customer_ref", "invoice_date", "due_date", "base_amount"]
INVOICE_HEADER += ["cgst", "sgst", "igst"]
D = date  # a real date cell in the workbook; str cells stay text, numbers stay numbers


def _row(number: str, ref: str, issued: object, due: object, base: object, **taxes: object) -> list[object]:
    return [number, ref, issued, due, base, taxes.get("cgst"), taxes.get("sgst"), taxes.get("igst")]


INVOICES = [
    # Text dates first: they used to decide the column type and reject every real date after them.
    _row("INV/2026-27/000001", "CUST00001", "2026-11-01", "2026-12-01", 4053.14, cgst=364.78, sgst=364.78),
    _row("INV/2026-27/000002", f"cust{ZWSP}00001", D(2026, 11, 2), D(2026, 12, 2), "12,34,567.89"),
    _row("INV/2026-27/000003", "CUST00002", D(2026, 11, 3), 46388, "1,00,000.50", igst=18000.09),
    _row("INV/2026-27/000004", "CUST00002", D(2026, 11, 4), D(2026, 12, 4), "4053,14"),
    _row("INV/2026-27/000005", "CUST00002", D(2026, 11, 5), D(2026, 12, 5), "4,0,5,3.14"),
    _row("INV/2026-27/000006", "CUST00002", D(2026, 11, 6), D(2026, 12, 6), "99999999999999999999.99"),
    _row("INV/2026-27/000007", "CUST00002", D(2026, 11, 7), D(2026, 12, 7), 4053.145),
    _row("INV/2026-27/000008", "CUST00002", D(2026, 11, 8), D(2026, 12, 8), 90000000, igst=16200000),
    _row("INV/2026-27/000009", "CUST00006", D(2026, 11, 9), D(2026, 12, 9), 500, igst=90),
    _row("inv/2026-27/000009", "CUST00006", D(2026, 11, 9), D(2026, 12, 9), 500, igst=90),
    _row("INV/2026-27/000011", "CUST00005", D(2026, 11, 11), D(2026, 12, 11), 700),
    _row("INV/2026-27/000012", "cust00005", D(2026, 11, 12), D(2026, 12, 12), 800),
    _row("INV/2026-27/000013", "CUST00004", D(2026, 11, 13), D(2026, 12, 13), 900),
    _row("INV/2026-27/000014", "CUST00003", D(2026, 11, 14), D(2026, 12, 14), 1000),
    _row("INV/2026-27/000015", "CUST00099", D(2026, 11, 15), D(2026, 12, 15), 1100),
    _row("INV/2026-27/000016", "CUST00006", "2026-11-16", D(2026, 12, 16), 0.5, igst=0.09),
]
ACCEPTED = {
    "INV/2026-27/000001": ("4053.14", "364.78", "364.78", None, "CUST00001"),
    "INV/2026-27/000002": ("1234567.89", None, None, None, "CUST00001"),
    "INV/2026-27/000003": ("100000.50", None, None, "18000.09", "CUST00002"),
    "INV/2026-27/000016": ("0.50", None, None, "0.09", "CUST00006"),
}


def _write_erp(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True)
    customers = folder / "customers.csv"
    customers.write_text(CUSTOMERS, encoding="utf-8")
    invoices = write_xlsx(folder / "invoices.xlsx", INVOICE_HEADER, INVOICES)
    return customers, invoices


def _exact(value: float | None) -> str | None:
    """An amount EnKash returned, as the shortest decimal text of its float (what we sent)."""
    return None if value is None else f"{pl.Series([value]).cast(pl.String).str.to_decimal(scale=2)[0]}"


def test_a_night_over_every_bad_case_sends_only_exact_single_records_and_names_every_rejection(
    enkash_env: Any, sandbox_state: Any, tmp_path: Path
) -> None:
    customers_file, invoices_file = _write_erp(tmp_path / "erp")
    # Most of this export is bad on purpose: the threshold guard is not what this night is about.
    options = CycleOptions(
        out_dir=str(tmp_path / "out"), ledger_path=str(tmp_path / "ledger.sqlite3"), rejection_threshold=1.0
    )

    summary = asyncio.run(nightly_ar_cycle(str(customers_file), str(invoices_file), AS_OF, options))

    # EnKash: the accepted invoices only, once each, with exactly the ERP's amounts, under one customer.
    client = enkash_client(ledger_path=options.ledger_path)
    held = client.search_invoices_frame()
    enkash_customers = client.search_customers_frame()
    ref_of = dict(zip(enkash_customers["customerId"], enkash_customers["uniqueRefNo"], strict=True))
    assert {
        row["externalId"]: (
            _exact(row["baseAmount"]),
            _exact(row["cgst"]),
            _exact(row["sgst"]),
            _exact(row["igst"]),
            ref_of[row["customerId"]],
        )
        for row in held.iter_rows(named=True)
    } == ACCEPTED
    assert set(Counter(normalise_key(n) for n in held["externalId"]).values()) == {1}
    # Text dates, date cells and an Excel day number (46388) in one column all arrived as dates.
    assert dict(zip(held["externalId"], held["dueDate"], strict=True)) == {
        "INV/2026-27/000001": date(2026, 12, 1),
        "INV/2026-27/000002": date(2026, 12, 2),
        "INV/2026-27/000003": date(2027, 1, 1),
        "INV/2026-27/000016": date(2026, 12, 16),
    }
    assert sorted(enkash_customers["uniqueRefNo"]) == ["CUST00001", "CUST00002", "CUST00006"]
    mobiles = dict(zip(enkash_customers["uniqueRefNo"], enkash_customers["contactNumber"], strict=True))
    assert mobiles == {"CUST00001": "9876543210", "CUST00002": "9876543211", "CUST00006": "9876543216"}
    assert {i["dispatch_count"] for i in sandbox_state()["invoices"]} == {1}
    assert summary.invoices_uploaded == 4 and summary.invoices_failed == 0

    # The report: one line per rejected record, its key as written, every reason, cells made safe.
    with (tmp_path / "out" / "rejected_rows.csv").open(newline="", encoding="utf-8") as handle:
        report = {(line["entity"], line["key"]): line for line in csv.DictReader(handle)}
    rejected_customers = ["CUST00003", f"CUST{ZWSP}00003", "CUST00004", "CUST00005"]
    rejected_invoices = [f"INV/2026-27/{n:06d}" for n in (4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15)]
    assert sorted(report) == sorted(
        [("customers", key) for key in rejected_customers]
        + [("invoices", key) for key in [*rejected_invoices, "inv/2026-27/000009"]]
    )
    assert summary.customers_rejected == 4 and summary.invoices_rejected == 12

    def reason(entity: str, key: str) -> str:
        return report[(entity, key)]["reason"]

    assert report[("customers", "CUST00003")]["row"] == "4"
    assert "rows 4 'CUST00003', 5 'CUST<U+200B>00003' hold the same key" in reason("customers", "CUST00003")
    formula = report[("customers", "CUST00004")]
    assert formula["column"] == "legal_name | contact_name"
    assert formula["value"] == '\'=HYPERLINK("http://evil.example/?x","Pay here") | =1+1'
    assert reason("customers", "CUST00005") == (
        "mobile: cannot be a real Indian mobile number: it must start with 6, 7, 8 or 9"
    )
    for number, ref in (("INV/2026-27/000011", "CUST00005"), ("INV/2026-27/000012", "cust00005")):
        assert reason("invoices", number) == (
            f"customer_ref: customer {ref} was rejected (row 7: mobile: cannot be a real Indian mobile "
            "number: it must start with 6, 7, 8 or 9)"
        )
    assert reason("invoices", "INV/2026-27/000013").startswith(
        "customer_ref: customer CUST00004 was rejected"
    )
    assert reason("invoices", "INV/2026-27/000014").startswith(
        "customer_ref: customer CUST00003 was rejected"
    )
    assert (
        reason("invoices", "INV/2026-27/000015")
        == "customer_ref: unknown customer_ref: not in the customer file"
    )
    assert "decimal comma" in reason("invoices", "INV/2026-27/000004")
    assert "misplaced thousands separator" in reason("invoices", "INV/2026-27/000005")
    assert "above the ceiling of 100000000.00" in reason("invoices", "INV/2026-27/000006")
    assert report[("invoices", "INV/2026-27/000007")]["value"] == "4053.145"
    assert "more than 2 decimals" in reason("invoices", "INV/2026-27/000007")
    assert "invoice total above the ceiling" in reason("invoices", "INV/2026-27/000008")
    assert "(total 106200000.00)" in reason("invoices", "INV/2026-27/000008")
    assert "rows 10 'INV/2026-27/000009', 11 'inv/2026-27/000009'" in reason("invoices", "inv/2026-27/000009")
