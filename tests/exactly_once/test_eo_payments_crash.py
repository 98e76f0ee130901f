"""A payments export killed at any step exports each payment once: the process really dies (``os._exit``
at the step, as SIGKILL leaves it) and the next run of the night finishes the job."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from ar_sync.output_files import PAYMENTS_CSV_FILE
from tests.engine.payment_pictures import EnkashBook, run_night
from tests.engine.test_payments_export import ErpImport, enkash_received
from tests.exactly_once.payment_crash_night import KILLED

#: Starts a process of its own.
pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
NIGHT_1 = date(2026, 11, 24)
NIGHT_2, NIGHT_3 = NIGHT_1 + timedelta(days=1), NIGHT_1 + timedelta(days=2)


def killed_night(book: EnkashBook, night: date, tmp_path: Path, kill_at: str) -> int:
    """Run the night's payments stage in its own process, killed at ``kill_at``; its exit status."""
    invoices, customers = tmp_path / "invoices.parquet", tmp_path / "customers.parquet"
    book.invoice_frame().write_parquet(invoices)
    book.customer_frame().write_parquet(customers)
    args = [tmp_path / "ledger.sqlite3", invoices, customers, night.isoformat(), tmp_path / "out", kill_at]
    command = [sys.executable, "-m", "tests.exactly_once.payment_crash_night", *map(str, args)]
    return subprocess.run(command, cwd=ROOT, timeout=120, check=False).returncode


@pytest.mark.parametrize(
    ("kill_at", "night_2_lines"),
    [
        # Killed before the export was recorded: the rerun exports the night afresh, late money included.
        ("written", ["INV1-P002", "INV2-P001", "INV3-P001"]),
        # Killed after: the rerun rewrites what was recorded; the late money waits for the next night.
        ("recorded", ["INV1-P002", "INV2-P001"]),
    ],
)
def test_three_nights_with_a_kill_in_the_middle_export_each_payment_once(
    kill_at: str, night_2_lines: list[str], tmp_path: Path
) -> None:
    book, erp, ledger, out = EnkashBook(), ErpImport(), tmp_path / "ledger.sqlite3", tmp_path / "out"
    book.invoice("INV1", "INV/2026-27/000001", "CUST00001", 1000.00)
    book.invoice("INV2", "INV/2026-27/000002", "CUST00002", 2000.00)
    book.invoice("INV3", "INV/2026-27/000003", "CUST00002", 300.00)
    book.pay("INV1", 400.00, on=NIGHT_1)
    run_night(ledger, book, NIGHT_1, out)
    erp.take(out, NIGHT_1)
    before = (out / PAYMENTS_CSV_FILE).read_bytes()

    book.pay("INV1", 600.00, on=NIGHT_2)
    book.pay("INV2", 2000.00, on=NIGHT_2)
    assert killed_night(book, NIGHT_2, tmp_path, kill_at) == KILLED
    # The ERP still finds the night before's file, which it has booked already.
    assert (out / PAYMENTS_CSV_FILE).read_bytes() == before
    erp.take(out, NIGHT_1)
    book.pay("INV3", 300.00, on=NIGHT_2)
    run_night(ledger, book, NIGHT_2, out)
    run_night(ledger, book, NIGHT_2, out)
    second = erp.take(out, NIGHT_2)
    run_night(ledger, book, NIGHT_3, out)
    third = erp.take(out, NIGHT_3)

    assert sorted(second["payment_ref"].to_list()) == night_2_lines
    assert len(night_2_lines) + third.height == 3, "each of the three payments in exactly one night"
    assert erp.received() == enkash_received(book)
    assert erp.received() == {"INV1": Decimal(1000), "INV2": Decimal(2000), "INV3": Decimal(300)}
    assert not list(out.glob(".*.pending")), "no half-written file is left behind"
