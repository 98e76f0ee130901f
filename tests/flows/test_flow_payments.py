"""Payments end to end: three nights of the nightly cycle against the sandbox, customers paying between
them (payment links, Bharat Connect confirmed with paymentConfirmationRequest, in part and in full, after a
due-date change), a rerun and a night that fails between recording its export and publishing the file.
The ERP imports every payments file it is given; each payment must reach it exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import ar_sync.payment_export
from ar_sync.night_summary import NightSummary
from ar_sync.output_files import PAYMENTS_CSV_FILE, run_report_file
from enkash_ar.client import EnkashClient
from flows.collect_payments import collect_payments
from flows.nightly_ar_cycle import nightly_ar_cycle
from flows.options import CycleOptions
from sandbox.payment_simulation import confirm_bharat_connect, pay
from sandbox.server import RunningSandbox
from tests.engine.test_payments_export import ErpImport

NIGHT_1 = date(2026, 11, 24)
NIGHT_2, NIGHT_3 = NIGHT_1 + timedelta(days=1), NIGHT_1 + timedelta(days=2)
CUSTOMERS = """customer_ref,legal_name,contact_name,mobile,email
CUST1,Kaveri Steels Pvt Ltd,Ravi Sharma,9876543210,ravi@kaveri.example
CUST2,Om Sai Traders,Priya Iyer,9876543211,
"""
INVOICE_HEADER = (
    "invoice_number,customer_ref,invoice_date,due_date,base_amount,cgst,sgst,amount_paid,status\n"
)
#: invoice -> (customer, base, cgst, sgst); nets 1180, 2000, 500, 3000, 750.
INVOICES = {
    "INV-A": ("CUST1", "1000", "90", "90"),
    "INV-B": ("CUST1", "2000", "", ""),
    "INV-C": ("CUST2", "500", "", ""),
    "INV-D": ("CUST2", "3000", "", ""),
    "INV-E": ("CUST2", "750", "", ""),
}


def _invoices(
    path: Path, due: dict[str, str] | None = None, paid: dict[str, tuple[str, str]] | None = None
) -> Path:
    """The ERP invoice export: due 2026-12-15 unless ``due`` says, ``paid`` = (amount_paid, status)."""
    due, paid = due or {}, paid or {}
    lines = [
        f"{n},{c},2026-11-20,{due.get(n, '2026-12-15')},{b},{cg},{sg},{','.join(paid.get(n, ('', '')))}\n"
        for n, (c, b, cg, sg) in INVOICES.items()
    ]
    path.write_text(INVOICE_HEADER + "".join(lines))
    return path


@pytest.fixture
def client(enkash_env: RunningSandbox) -> Iterator[EnkashClient]:
    with EnkashClient.from_settings() as connected:
        yield connected


def _ids(client: EnkashClient) -> dict[str, str]:
    frame = client.search_invoices_frame()
    return dict(zip(frame["externalId"].to_list(), frame["invoiceId"].to_list(), strict=True))


@pytest.mark.slow
def test_three_nights_of_payments_reach_the_erp_once_and_disagreements_are_only_reported(
    enkash_env: RunningSandbox,
    client: EnkashClient,
    sandbox_state: Callable[..., dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text(CUSTOMERS)
    options = CycleOptions(out_dir=str(tmp_path / "out"), ledger_path=str(tmp_path / "ledger.sqlite3"))
    out, erp, url = Path(options.out_dir), ErpImport(), enkash_env.base_url

    def night(invoices: Path, as_of: date) -> NightSummary:
        return asyncio.run(nightly_ar_cycle(str(customers), str(invoices), as_of, options))

    first = night(_invoices(tmp_path / "invoices-1.csv"), NIGHT_1)
    assert (first.invoices_dispatched, first.collections and first.collections.invoices_paid) == (5, 0)
    erp.take(out, NIGHT_1)
    ids = _ids(client)

    # Day 2: A pays 400 of 1180 by its link; B pays in full over Bharat Connect and the seller confirms;
    # C pays over Bharat Connect and is not confirmed yet (not money received).
    pay(url, invoiceId=ids["INV-A"], amount=400.0, mode="NEFT", paidOn=NIGHT_2.isoformat())
    confirm_bharat_connect(client, pay(url, invoiceId=ids["INV-B"], channel="BHARAT_CONNECT", mode="UPI"))
    waiting = pay(url, invoiceId=ids["INV-C"], channel="BHARAT_CONNECT", mode="IMPS")
    # Night 2's export: D's due date moved; the ERP says E is paid (EnKash does not) and B unpaid.
    invoices_2 = _invoices(
        tmp_path / "invoices-2.csv",
        due={"INV-D": "2027-01-31"},
        paid={"INV-E": ("750", "paid"), "INV-B": ("0", "unpaid")},
    )
    second = night(invoices_2, NIGHT_2)
    lines_2 = erp.take(out, NIGHT_2)
    rerun = asyncio.run(collect_payments(str(customers), str(invoices_2), NIGHT_2, options))
    erp.take(out, NIGHT_2)

    assert second.invoices_updated == 1 and rerun[0].sent == 2
    assert dict(zip(lines_2["invoice_number"], lines_2["amount_received"], strict=True)) == {
        "INV-A": Decimal("400.00"),
        "INV-B": Decimal("2000.00"),
    }
    assert second.collections is not None and second.collections.received == 2400.0
    assert [(m.invoice_number, m.kind) for m in second.collections.mismatches] == [
        ("INV-E", "paid_in_erp_open_in_enkash")
    ]
    report = (out / run_report_file(second.seller_id, NIGHT_2)).read_text()
    assert "Paid in the ERP, open in EnKash" in report and "INV-E" in report

    # Day 3: D is paid after its due-date change, A pays the rest, the seller confirms C.
    pay(url, invoiceId=ids["INV-D"], mode="UPI", paidOn=NIGHT_3.isoformat())
    pay(url, invoiceId=ids["INV-A"], mode="UPI")
    confirm_bharat_connect(client, waiting)
    # Night 3 dies after its export is recorded, before the file is published; the rerun finishes it.
    publish = ar_sync.payment_export._publish

    def dies_once(targets: Any) -> None:
        monkeypatch.setattr(ar_sync.payment_export, "_publish", publish)
        raise OSError("the disk went away")

    monkeypatch.setattr(ar_sync.payment_export, "_publish", dies_once)
    with pytest.raises(OSError, match="disk"):
        night(invoices_2, NIGHT_3)
    assert erp.take(out, NIGHT_2).height == 2, "the ERP still finds night 2's file"
    third = night(invoices_2, NIGHT_3)
    lines_3 = erp.take(out, NIGHT_3)

    assert sorted(zip(lines_3["invoice_number"], lines_3["amount_received"], strict=True)) == [
        ("INV-A", Decimal("780.00")),
        ("INV-C", Decimal("500.00")),
        ("INV-D", Decimal("3000.00")),
    ]
    assert third.collections is not None and third.collections.received == 4280.0
    enkash = client.search_invoices_frame().select("invoiceId", "externalId", "totalReceived", "dueDate")
    assert erp.received() == {
        r["invoiceId"]: Decimal(str(r["totalReceived"])).quantize(Decimal("0.01"))
        for r in enkash.iter_rows(named=True)
        if r["totalReceived"]
    }
    assert enkash.filter(pl.col("externalId") == "INV-D")["dueDate"].item() == date(2027, 1, 31)
    # B's payment went out on night 2 and the ERP still says unpaid: now a disagreement, reported only.
    assert {(m.invoice_number, m.kind) for m in third.collections.mismatches} == {
        ("INV-B", "paid_in_enkash_open_in_erp"),
        ("INV-E", "paid_in_erp_open_in_enkash"),
    }
    state = sandbox_state(summary=True)
    assert state["request_counts"].get("changeInvoiceStatusRequest", 0) == 0
    assert [i["receivableStatus"] for i in sandbox_state()["invoices"] if i["externalId"] == "INV-E"] == [
        "UNPAID"
    ]
    assert (out / PAYMENTS_CSV_FILE).exists()
