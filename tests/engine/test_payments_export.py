"""The payments file: every rupee EnKash received reaches the ERP once, across nights, reruns and refunds.

Each test plays nights of the payments stage against a small EnKash book and reads the files the way an
ERP import would: every night's ``payments.csv``, each line booked by its ``payment_ref``.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from ar_sync.output_files import PAYMENTS_CSV_FILE, PAYMENTS_PARQUET_FILE
from ar_sync.payment_export import ExportState
from ar_sync.run_ledger import RunLedger
from tests.engine.payment_pictures import SELLER, EnkashBook, read_payments, run_night

NIGHT_1 = date(2026, 11, 24)
NIGHT_2, NIGHT_3 = NIGHT_1 + timedelta(days=1), NIGHT_1 + timedelta(days=2)


class ErpImport:
    """An ERP that imports each night's payments file: a line it has booked is booked once."""

    def __init__(self) -> None:
        self.booked: dict[str, dict[str, object]] = {}
        self.files: dict[date, bytes] = {}

    def take(self, out_dir: Path, night: date) -> pl.DataFrame:
        """Import the night's file; a rerun's file must be the same file, byte for byte."""
        content = (out_dir / PAYMENTS_CSV_FILE).read_bytes()
        assert self.files.setdefault(night, content) == content, f"the file of {night} changed on a rerun"
        lines = read_payments(out_dir / PAYMENTS_CSV_FILE)
        for line in lines.iter_rows(named=True):
            earlier = self.booked.setdefault(line["payment_ref"], line)
            assert earlier == line, f"{line['payment_ref']} exported twice with different content"
        return lines

    def received(self) -> dict[str, Decimal]:
        """What the ERP has booked per EnKash invoice (payments less reversals)."""
        totals: dict[str, Decimal] = {}
        for line in self.booked.values():
            invoice = str(line["enkash_invoice_id"])
            totals[invoice] = totals.get(invoice, Decimal(0)) + Decimal(str(line["amount_received"]))
        return totals


def enkash_received(book: EnkashBook) -> dict[str, Decimal]:
    return {
        i["invoiceId"]: Decimal(str(i["totalReceived"])).quantize(Decimal("0.01"))
        for i in book.invoices.values()
        if i["totalReceived"]
    }


@pytest.fixture
def book() -> EnkashBook:
    book = EnkashBook()
    book.invoice("INV1", "INV/2026-27/000001", "CUST00001", 1180.00)
    book.invoice("INV2", "INV/2026-27/000002", "CUST00002", 5000.00)
    book.invoice("INV3", "INV/2026-27/000003", "CUST00002", 250.50)
    return book


def test_three_nights_with_reruns_export_each_payment_once(book: EnkashBook, tmp_path: Path) -> None:
    ledger, out, erp = tmp_path / "ledger.sqlite3", tmp_path / "out", ErpImport()

    first = run_night(ledger, book, NIGHT_1, out)
    assert first.export.state == ExportState.EXPORTED and erp.take(out, NIGHT_1).is_empty()

    book.pay("INV1", 1180.00, on=NIGHT_2)
    book.pay("INV2", 1500.00, on=NIGHT_2, mode="NEFT")
    second = run_night(ledger, book, NIGHT_2, out)
    erp.take(out, NIGHT_2)
    # Money that arrives after the night's export waits for the next night, even if the night is rerun.
    book.pay("INV3", 250.50, on=NIGHT_2)
    rerun = run_night(ledger, book, NIGHT_2, out)
    assert (second.export.state, rerun.export.state) == (ExportState.EXPORTED, ExportState.REWRITTEN)
    assert erp.take(out, NIGHT_2).height == 2

    book.pay("INV2", 3500.00, on=NIGHT_3, mode="IMPS")
    run_night(ledger, book, NIGHT_3, out)
    third = erp.take(out, NIGHT_3)
    run_night(ledger, book, NIGHT_3, out)
    erp.take(out, NIGHT_3)

    assert sorted(third["payment_ref"].to_list()) == ["INV2-P002", "INV3-P001"]
    assert erp.received() == enkash_received(book)
    assert second.collections.received == 2680.00 and second.collections.invoices_paid == 2
    assert rerun.collections.received == 2680.00, "a rerun reports the night's export, not what came since"


def test_the_parquet_file_holds_the_same_lines_as_the_csv(book: EnkashBook, tmp_path: Path) -> None:
    book.pay("INV2", 1234.56, on=NIGHT_1)
    run_night(tmp_path / "ledger.sqlite3", book, NIGHT_1, tmp_path / "out")

    parquet = pl.read_parquet(tmp_path / "out" / PAYMENTS_PARQUET_FILE)
    assert parquet.equals(read_payments(tmp_path / "out" / PAYMENTS_CSV_FILE))
    assert parquet["amount_received"].to_list() == [Decimal("1234.56")]


def test_partial_payments_are_one_line_a_night_until_paid(book: EnkashBook, tmp_path: Path) -> None:
    ledger, out = tmp_path / "ledger.sqlite3", tmp_path / "out"
    rows = []
    for night, amount in ((NIGHT_1, 1000.00), (NIGHT_2, 2500.25), (NIGHT_3, 1499.75)):
        book.pay("INV2", amount, on=night)
        run_night(ledger, book, night, out)
        rows.append(read_payments(out / PAYMENTS_CSV_FILE).row(0, named=True))

    def column(name: str) -> list[str]:
        return [str(r[name]) for r in rows]

    assert column("amount_received") == ["1000.00", "2500.25", "1499.75"]
    assert column("previous_total_received") == ["0.00", "1000.00", "3500.25"]
    assert column("total_received") == ["1000.00", "3500.25", "5000.00"]
    assert column("balance") == ["4000.00", "1499.75", "0.00"]
    assert [r["receivable_status"] for r in rows] == ["PARTIALLY_PAID", "PARTIALLY_PAID", "PAID"]
    assert [r["payment_ref"] for r in rows] == ["INV2-P001", "INV2-P002", "INV2-P003"]
    assert {(r["invoice_number"], r["customer_ref"], r["entry_type"]) for r in rows} == {
        ("INV/2026-27/000002", "CUST00002", "PAYMENT")
    }
    assert [r["paid_on"] for r in rows] == [n.isoformat() for n in (NIGHT_1, NIGHT_2, NIGHT_3)]


def test_a_refund_is_a_flagged_reversal_line_then_a_new_payment_is_exported_again(
    book: EnkashBook, tmp_path: Path
) -> None:
    ledger, out, erp = tmp_path / "ledger.sqlite3", tmp_path / "out", ErpImport()
    book.pay("INV1", 1180.00, on=NIGHT_1)
    run_night(ledger, book, NIGHT_1, out)
    erp.take(out, NIGHT_1)

    book.reverse("INV1", 1180.00)
    refunded = run_night(ledger, book, NIGHT_2, out)
    line = erp.take(out, NIGHT_2).row(0, named=True)
    assert (line["entry_type"], line["amount_received"], line["total_received"]) == (
        "REVERSAL",
        Decimal("-1180.00"),
        Decimal("0.00"),
    )
    assert refunded.collections.received == 0 and refunded.collections.reversed == 1180.00
    assert [r.invoice_number for r in refunded.collections.reversals] == ["INV/2026-27/000001"]
    assert refunded.results["reason"][0].startswith("reversal:")

    book.pay("INV1", 1180.00, on=NIGHT_3)
    run_night(ledger, book, NIGHT_3, out)
    assert erp.take(out, NIGHT_3)["entry_type"].to_list() == ["PAYMENT"]
    assert erp.received() == {"INV1": Decimal("1180.00")}


def test_an_older_night_rerun_leaves_the_latest_file_alone(book: EnkashBook, tmp_path: Path) -> None:
    ledger, out = tmp_path / "ledger.sqlite3", tmp_path / "out"
    book.pay("INV1", 100.00, on=NIGHT_1)
    run_night(ledger, book, NIGHT_1, out)
    book.pay("INV1", 200.00, on=NIGHT_2)
    run_night(ledger, book, NIGHT_2, out)
    latest = (out / PAYMENTS_CSV_FILE).read_bytes()
    book.pay("INV3", 250.50, on=NIGHT_2)

    older = run_night(ledger, book, NIGHT_1, out)
    never = run_night(ledger, book, NIGHT_1 - timedelta(days=1), out)

    assert (out / PAYMENTS_CSV_FILE).read_bytes() == latest, "the later night's file may not be imported yet"
    assert older.export.state == ExportState.KEPT and older.collections.received == 100.00
    assert never.export.state == ExportState.SUPERSEDED and never.export.lines.is_empty()
    # INV3's payment was seen by neither: it waits for the next night after the latest.
    assert run_night(ledger, book, NIGHT_3, out).export.lines["invoice_id"].to_list() == ["INV3"]


def test_a_dry_run_shows_the_lines_and_writes_or_records_nothing(book: EnkashBook, tmp_path: Path) -> None:
    ledger, out = tmp_path / "ledger.sqlite3", tmp_path / "out"
    book.pay("INV2", 700.00, on=NIGHT_1)

    preview = run_night(ledger, book, NIGHT_1, out, dry_run=True)

    assert preview.export.state == ExportState.PREVIEW and preview.export.lines.height == 1
    assert not (out / PAYMENTS_CSV_FILE).exists()
    with RunLedger(ledger) as kept:
        assert kept.night_results(SELLER, NIGHT_1.isoformat()).is_empty()
    assert run_night(ledger, book, NIGHT_1, out).export.lines.height == 1, "the real night exports it"


def test_without_when_and_how_the_line_stands_on_the_amounts(book: EnkashBook, tmp_path: Path) -> None:
    book.invoices["INV2"].update(totalReceived=5000.0, balanceAmount=0.0, receivableStatus="PAID")

    run_night(tmp_path / "ledger.sqlite3", book, NIGHT_1, tmp_path / "out")

    line = read_payments(tmp_path / "out" / PAYMENTS_CSV_FILE).row(0, named=True)
    assert line["amount_received"] == Decimal("5000.00") and line["receivable_status"] == "PAID"
    assert (line["paid_on"], line["payment_mode"], line["payment_reference"]) == (None, None, None)


def test_text_a_spreadsheet_would_run_is_escaped_and_amounts_stay_numbers(tmp_path: Path) -> None:
    book = EnkashBook()
    book.invoice("INV9", "=HYPERLINK(1)", "-CUST", 100.0)
    book.pay("INV9", 100.0, on=NIGHT_1)
    book.reverse("INV9", 40.0)
    run_night(tmp_path / "ledger.sqlite3", book, NIGHT_1, tmp_path / "out")

    text = (tmp_path / "out" / PAYMENTS_CSV_FILE).read_text()
    assert "'=HYPERLINK(1)" in text and ",'-CUST," in text
    assert ",60.00," in text


def test_two_runs_of_one_night_at_the_same_moment_export_it_once(book: EnkashBook, tmp_path: Path) -> None:
    ledger, out = tmp_path / "ledger.sqlite3", tmp_path / "out"
    book.pay("INV1", 1180.00, on=NIGHT_1)
    RunLedger(ledger).close()  # the schema exists before the race
    states: list[ExportState] = []
    start = threading.Barrier(2)

    def one_run() -> None:
        start.wait()
        states.append(run_night(ledger, book, NIGHT_1, out).export.state)

    runs = [threading.Thread(target=one_run) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()

    assert sorted(states) == [ExportState.EXPORTED, ExportState.REWRITTEN]
    assert read_payments(out / PAYMENTS_CSV_FILE)["payment_ref"].to_list() == ["INV1-P001"]


def test_the_night_record_counts_each_line_once_over_reruns(book: EnkashBook, tmp_path: Path) -> None:
    ledger, out = tmp_path / "ledger.sqlite3", tmp_path / "out"
    book.pay("INV1", 500.00, on=NIGHT_1)
    book.pay("INV2", 5000.00, on=NIGHT_1)
    for _ in range(2):
        run_night(ledger, book, NIGHT_1, out)

    with RunLedger(ledger) as kept:
        results = kept.night_results(SELLER, NIGHT_1.isoformat())
    assert results.select("stage", "key", "outcome", "origin", "amount", "remote_id").rows() == [
        ("payments_export", "INV/2026-27/000001", "success", "sent", 500.0, "INV1"),
        ("payments_export", "INV/2026-27/000002", "success", "sent", 5000.0, "INV2"),
    ]
