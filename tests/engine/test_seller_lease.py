"""The ledger lease: a second cycle of one seller waits, then fails with one line naming the holder."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from ar_sync.run_ledger import RunLedger
from ar_sync.seller_lease import SellerBusyError, SellerLease

SELLER = "CEKSANDBX1"


class FakeClock:
    """A monotonic clock that moves only when the lease sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_second_cycle_waits_then_names_the_holder(tmp_path: Path) -> None:
    ledger = RunLedger(tmp_path / "ledger.sqlite3")
    with SellerLease(ledger, SELLER, "flow run 'scheduled-night' on host-a pid 1", timeout=5):
        clock = FakeClock()
        second = SellerLease(ledger, SELLER, "the CLI", timeout=30, clock=clock, sleep=clock.sleep)
        with pytest.raises(SellerBusyError) as caught:
            second.acquire()
    message = str(caught.value)
    assert message.startswith(f"seller {SELLER} is busy: another AR cycle (flow run 'scheduled-night'")
    assert "waited 30 s" in message and "Nothing was sent" in message and "\n" not in message
    assert clock.now >= 30


def test_the_second_cycle_goes_on_as_soon_as_the_first_releases(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    first = SellerLease(RunLedger(path), SELLER, "first", timeout=1)
    first.acquire()
    order: list[str] = []

    def second() -> None:
        with SellerLease(RunLedger(path), SELLER, "second", timeout=30):
            order.append("second holds")

    waiter = threading.Thread(target=second)
    waiter.start()
    time.sleep(0.3)
    order.append("first releases")
    first.release()
    waiter.join(timeout=10)
    assert order == ["first releases", "second holds"]


def test_a_held_lease_is_renewed_so_a_long_cycle_keeps_it(tmp_path: Path) -> None:
    ledger = RunLedger(tmp_path / "ledger.sqlite3")
    with SellerLease(ledger, SELLER, "long cycle", timeout=1, duration=0.3):
        time.sleep(0.8)  # more than twice the lease: only renewals keep it
        clock = FakeClock()
        with pytest.raises(SellerBusyError, match="long cycle"):
            SellerLease(ledger, SELLER, "other", timeout=2, clock=clock, sleep=clock.sleep).acquire()
    SellerLease(ledger, SELLER, "after", timeout=0).acquire()
