"""Exactly-once across crashes: the cycle process is SIGKILLed at points across every stage, then rerun.

The cycle runs the way an operator runs it, as its own process (``enkash-ar cycle``), against the
sandbox and the session's Prefect server. A watcher polls the sandbox's request counters and kills the
process group at the chosen moment: right after a write reached EnKash (whose answer the process never
records), in the middle of a stage, or while the summary is being built. Each kill leaves the same ledger
file for the next run (or, in one variant, no ledger at all), exactly as a crashed night would; the
last run must complete with exit status 0 and EnKash must hold the ERP export exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect.settings import PREFECT_API_URL

from sandbox.server import RunningSandbox
from tests.exactly_once.eo_night import CHUNK_SIZE

#: Starts processes (the enkash-ar command) against a Prefect server: end to end.
pytestmark = pytest.mark.e2e

#: How long one killed-or-completed run may take before the test gives up on it.
RUN_TIMEOUT = 240.0
POLL_INTERVAL = 0.02


Counts = dict[str, Any]


@dataclass(frozen=True)
class KillPoint:
    """When to kill a run: ``reached(start, now)`` over the sandbox's state summaries."""

    name: str
    reached: Callable[[Counts, Counts], bool]
    #: Sandbox latency (ms) during the run: wide windows for the bulk stages, small for the
    #: one-by-one reminder calls.
    latency_ms: int = 40


def _calls(state: Counts, operation: str) -> int:
    return int(state["request_counts"].get(operation, 0))


def _new_calls(operation: str, at_least: int) -> Callable[[Counts, Counts], bool]:
    return lambda start, now: _calls(now, operation) - _calls(start, operation) >= at_least


class _SummaryStarted:
    """The summary stage is under way: a moment after every reminder exists.

    The summary reads nothing from EnKash (the night's picture holds what it needs), so no request marks
    its start: the run is killed ``delay`` seconds after the last reminder reached EnKash, while the
    reminders stage records its results or the summary is being built.
    """

    def __init__(self, reminders_wanted: int, delay: float = 0.5) -> None:
        self.wanted, self.delay = reminders_wanted, delay
        self.done_at: float | None = None

    def __call__(self, start: Counts, now: Counts) -> bool:
        if self.done_at is None:
            if now["reminders_count"] >= self.wanted:
                self.done_at = time.monotonic()
            return False
        return time.monotonic() - self.done_at >= self.delay


def _kill_points(customers: int) -> list[KillPoint]:
    return [
        KillPoint("after the first createBulkCustomer", _new_calls("createBulkCustomer", 1)),
        KillPoint("after the 1st invoiceBulkUpload", _new_calls("invoiceBulkUpload", 1)),
        KillPoint("after the 3rd invoiceBulkUpload", _new_calls("invoiceBulkUpload", 3)),
        KillPoint("after the first dispatchInvoiceCollection", _new_calls("dispatchInvoiceCollection", 1)),
        KillPoint("during reminders", _new_calls("createCustomerReminder", 1), latency_ms=2),
        KillPoint("during the summary", _SummaryStarted(3 * customers), latency_ms=2),
    ]


#: The kill points of the ledger-lost variant: one per kind of creating write.
LEDGER_LOST_POINTS = frozenset(
    {
        "after the first createBulkCustomer",
        "after the 3rd invoiceBulkUpload",
        "after the first dispatchInvoiceCollection",
        "during reminders",
    }
)


#: The kill points of the concurrent variant: killed while several chunks or batches are in flight.
CONCURRENT_POINTS = frozenset(
    {
        "after the 1st invoiceBulkUpload",
        "after the first dispatchInvoiceCollection",
        "during reminders",
    }
)


@pytest.fixture
def cycle_env(sandbox: RunningSandbox, prefect_server: None, tmp_path: Path) -> dict[str, str]:
    """The environment of a cycle process: ENKASH_* for the sandbox, the session's Prefect server."""
    env = dict(os.environ)
    env.update(
        {
            **sandbox.enkash_env(),
            "ENKASH_MAX_RETRIES": "6",
            "PREFECT_API_URL": str(PREFECT_API_URL.value()),
            "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(tmp_path / "prefect-results"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@dataclass
class CycleProcess:
    """Starts ``enkash-ar cycle`` runs on one ERP export, ledger and output folder."""

    sandbox: RunningSandbox
    env: dict[str, str]
    export: Any
    as_of: date
    out: Path
    ledger: Path
    logs: Path
    #: write tasks in flight (``--host-concurrency``); 1 keeps chunks one after another, so that the kill
    #: points that count calls ("after the 3rd invoiceBulkUpload") land where they say
    concurrency: int = 1

    def _summary(self) -> Counts:
        url = f"{self.sandbox.base_url}/_sandbox/state"
        response = httpx.get(url, params={"summary": "true"}, timeout=10)
        response.raise_for_status()
        state: Counts = response.json()
        return state

    def run(self, number: int, kill_at: KillPoint | None) -> int:
        """One run; with ``kill_at``, SIGKILL its process group at that point. Returns the exit status."""
        latency = kill_at.latency_ms if kill_at else 2
        faults = f"{self.sandbox.base_url}/_sandbox/faults"
        httpx.post(faults, json={"latency_ms": latency}, timeout=10).raise_for_status()
        command = [
            sys.executable,
            "-m",
            "cli.main",
            "cycle",
            "--chunk-size",
            str(CHUNK_SIZE),
            "--customers",
            str(self.export.customers_file),
            "--invoices",
            str(self.export.invoices_file),
            "--out",
            str(self.out),
            "--ledger",
            str(self.ledger),
            "--as-of",
            self.as_of.isoformat(),
            "--host-concurrency",
            str(self.concurrency),
        ]
        log = self.logs / f"run-{number}.log"
        start = self._summary()
        with log.open("wb") as sink:
            process = subprocess.Popen(
                command, env=self.env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
            )
            deadline = time.monotonic() + RUN_TIMEOUT
            try:
                while process.poll() is None:
                    if time.monotonic() > deadline:
                        pytest.fail(f"run {number} took longer than {RUN_TIMEOUT} s; log: {log}")
                    if kill_at is not None and kill_at.reached(start, self._summary()):
                        os.killpg(process.pid, signal.SIGKILL)
                        process.wait(timeout=30)
                        return process.returncode
                    time.sleep(POLL_INTERVAL)
            finally:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=30)
        tail = log.read_text(errors="replace")[-3000:]
        if kill_at is not None:
            pytest.fail(f"run {number} ended (exit {process.returncode}) before {kill_at.name}:\n{tail}")
        return process.returncode


def _cycle(
    sandbox: RunningSandbox, env: dict[str, str], export: Any, as_of: date, tmp: Path, concurrency: int
) -> CycleProcess:
    logs = tmp / "logs"
    logs.mkdir()
    return CycleProcess(sandbox, env, export, as_of, tmp / "out", tmp / "ledger.sqlite3", logs, concurrency)


@pytest.mark.parametrize(
    ("ledger_kept", "concurrency"),
    [(True, 1), (False, 1), (True, 4)],
    ids=["ledger-kept", "ledger-lost", "concurrent"],
)
def test_a_night_killed_at_every_stage_and_rerun_ends_exactly_once(
    ledger_kept: bool,
    concurrency: int,
    sandbox: RunningSandbox,
    cycle_env: dict[str, str],
    erp_night: Any,
    as_of: date,
    check_exactly_once: Callable[[Any], None],
    tmp_path: Path,
) -> None:
    cycle = _cycle(sandbox, cycle_env, erp_night, as_of, tmp_path, concurrency)
    points = _kill_points(len(erp_night.customer_refs))
    if concurrency > 1:
        # Chunks and batches in flight side by side when the process dies: each is its own ledger batch.
        points = [point for point in points if point.name in CONCURRENT_POINTS]
    if not ledger_kept:
        # Without a ledger, what matters is that each kind of creating write (customers, invoices,
        # dispatches, reminders) is found in EnKash rather than sent again; one kill each is enough.
        points = [point for point in points if point.name in LEDGER_LOST_POINTS]

    for number, point in enumerate(points, start=1):
        status = cycle.run(number, kill_at=point)
        assert status == -signal.SIGKILL, f"run {number} was meant to be killed {point.name}"
        if not ledger_kept:
            # The disk with the ledger is gone: the rerun can only rebuild from what EnKash holds.
            for path in tmp_path.glob("ledger.sqlite3*"):
                path.unlink()

    final = cycle.run(len(points) + 1, kill_at=None)

    log = (tmp_path / "logs" / f"run-{len(points) + 1}.log").read_text(errors="replace")
    assert final == 0, f"the rerun after the last kill failed:\n{log[-3000:]}"
    assert "invoices_uploaded" in log  # the summary was printed
    check_exactly_once(erp_night)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    if ledger_kept:
        # The night's numbers count what every killed attempt sent, found again after each crash.
        assert summary["customers_created"] == len(erp_night.customer_refs)
        assert (
            summary["invoices_uploaded"] == summary["invoices_dispatched"] == len(erp_night.invoice_numbers)
        )
        assert summary["reminders_set"] == len(erp_night.customer_refs)
        assert summary["invoices_already_present"] == summary["invoices_already_dispatched"] == 0
