"""Exactly-once across crashes: the cycle process is SIGKILLed at points across every stage, then rerun.

The cycle runs the way an operator runs it, as its own process (``enkash-ar cycle``), against the
sandbox and the session's Prefect server. A watcher polls the sandbox's request counters and the run's
log, and kills the process group at the chosen moment: right after a write reached EnKash (whose answer
the process never records), in the middle of a stage, or when the summary stage begins. Each kill
leaves the same ledger file for the next run (or, in one variant, no ledger at all), exactly as a
crashed night would; the last run must complete with exit status 0 and EnKash must hold the ERP
export exactly once.

The lifecycle writes (invoices deleted or withdrawn, a customer deactivated, when they leave the ERP)
are killed the same way on a second night, and each must reach EnKash once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from prefect.settings import PREFECT_API_URL

from sandbox.server import RunningSandbox
from tests.enkash_checks import ErpExport
from tests.exactly_once.eo_night import CHUNK_SIZE
from tests.loopback import http

#: Starts processes (the enkash-ar command) against a Prefect server: end to end.
pytestmark = [pytest.mark.e2e, pytest.mark.slow]

#: How long one killed-or-completed run may take before the test gives up on it.
RUN_TIMEOUT = 240.0
POLL_INTERVAL = 0.02


Counts = dict[str, Any]


@dataclass(frozen=True)
class KillPoint:
    """When to kill a run: ``reached(start, now, log)`` over the sandbox's state summaries (at the run's
    start, and now) and the run's output so far."""

    name: str
    reached: Callable[[Counts, Counts, Path], bool]
    #: Sandbox latency (ms) during the run: wide windows for the bulk stages, small for the
    #: one-by-one reminder calls.
    latency_ms: int = 40


def _calls(state: Counts, operation: str) -> int:
    return int(state["request_counts"].get(operation, 0))


def _new_calls(operation: str, at_least: int) -> Callable[[Counts, Counts, Path], bool]:
    return lambda start, now, log: _calls(now, operation) - _calls(start, operation) >= at_least


def _summary_started(start: Counts, now: Counts, log: Path) -> bool:
    """The summary stage has begun: the run logged the start of its ar-summary subflow.

    The summary reads nothing from EnKash (the night's picture holds what it needs), so no request marks
    it; the run's own log line does, before the summary builds, writes or records anything.
    """
    return "for flow 'ar-summary'" in log.read_text(errors="replace")


def _kill_points() -> list[KillPoint]:
    return [
        KillPoint("after the first createBulkCustomer", _new_calls("createBulkCustomer", 1)),
        KillPoint("after the 1st invoiceBulkUpload", _new_calls("invoiceBulkUpload", 1)),
        KillPoint("after the 3rd invoiceBulkUpload", _new_calls("invoiceBulkUpload", 3)),
        KillPoint("after the first dispatchInvoiceCollection", _new_calls("dispatchInvoiceCollection", 1)),
        KillPoint("during reminders", _new_calls("createCustomerReminder", 1), latency_ms=2),
        KillPoint("during the summary", _summary_started, latency_ms=2),
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
    #: more options of the command line
    extra: tuple[str, ...] = ()

    def _summary(self) -> Counts:
        url = f"{self.sandbox.base_url}/_sandbox/state"
        response = http.get(url, params={"summary": "true"}, timeout=10)
        response.raise_for_status()
        state: Counts = response.json()
        return state

    def run(self, number: int, kill_at: KillPoint | None) -> int:
        """One run; with ``kill_at``, SIGKILL its process group at that point. Returns the exit status."""
        latency = kill_at.latency_ms if kill_at else 2
        faults = f"{self.sandbox.base_url}/_sandbox/faults"
        http.post(faults, json={"latency_ms": latency}, timeout=10).raise_for_status()
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
            *self.extra,
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
                    if kill_at is not None and kill_at.reached(start, self._summary(), log):
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
    points = _kill_points()
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


def _without(export: ErpExport, folder: Path, invoices: set[str], customer: str) -> ErpExport:
    """The export with ``invoices`` and ``customer`` (whose invoices are all in ``invoices``) taken out."""
    folder.mkdir()
    customers = pl.read_csv(export.customers_file, infer_schema=False)
    rows = pl.read_csv(export.invoices_file, infer_schema=False)
    customers.filter(pl.col("customer_ref") != customer).write_csv(folder / "customers.csv")
    rows.filter(~pl.col("invoice_number").is_in(list(invoices))).write_csv(folder / "invoices.csv")
    return ErpExport(
        folder / "customers.csv",
        folder / "invoices.csv",
        export.customer_refs - {customer},
        export.invoice_numbers - invoices,
    )


def test_lifecycle_writes_killed_on_the_next_night_reach_enkash_once(
    sandbox: RunningSandbox,
    cycle_env: dict[str, str],
    erp_night: ErpExport,
    as_of: date,
    sandbox_state: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    cycle = _cycle(sandbox, cycle_env, erp_night, as_of, tmp_path, 1)
    # Night 1 dies after its first dispatch batch: EnKash holds every invoice, some dispatched.
    first_dispatch = _kill_points()[3]
    assert cycle.run(1, kill_at=first_dispatch) == -signal.SIGKILL
    after_1 = sandbox_state()
    held = {i["externalId"]: i for i in after_1["invoices"] if i["externalId"] in erp_night.invoice_numbers}
    ref_of = {c["customerId"]: c["uniqueRefNo"] for c in after_1["customers"]}
    owner = {number: ref_of[i["customerId"]] for number, i in held.items()}
    per_customer = Counter(owner.values())
    # Night 2's export lost the customer with the fewest invoices (and them), ten dispatched invoices
    # and ten never dispatched: deleted, withdrawn, deactivated; more than the 5% guard, so confirmed.
    leaving = min(per_customer, key=lambda ref: (per_customer[ref], ref))
    others = sorted(n for n in held if owner[n] != leaving)
    dispatched = [n for n in others if held[n]["dispatch_count"]]
    waiting = [n for n in others if not held[n]["dispatch_count"]]
    assert len(dispatched) >= 10 and len(waiting) >= 10, "night 1 did not die between its dispatch batches"
    removed = {*dispatched[:10], *waiting[:10], *(n for n in held if owner[n] == leaving)}
    night_2 = _without(erp_night, tmp_path / "erp-2", removed, leaving)
    cycle = replace(
        cycle, export=night_2, as_of=as_of + timedelta(days=1), extra=("--confirm-cancellations",)
    )
    start = sandbox_state(summary=True)["answered_counts"]
    points = [
        KillPoint("after the first deleteInvoiceCollection", _new_calls("deleteInvoiceCollection", 1)),
        KillPoint("after the first withdrawal", _new_calls("updateInvoice", 1)),
        KillPoint("after the deactivation", _new_calls("deactivateCustomer", 1)),
    ]
    for number, point in enumerate(points, start=2):
        assert cycle.run(number, kill_at=point) == -signal.SIGKILL, (
            f"run {number} was meant to die {point.name}"
        )
    final = len(points) + 2
    assert cycle.run(final, kill_at=None) == 0, (tmp_path / "logs" / f"run-{final}.log").read_text()[-3000:]

    state = sandbox_state()
    # What EnKash did, not what reached it: a killed run may leave a request whose body never arrived.
    calls = {op: n - start.get(op, 0) for op, n in sandbox_state(summary=True)["answered_counts"].items()}
    by_number: dict[str, list[dict[str, Any]]] = {}
    for invoice in state["invoices"]:
        by_number.setdefault(invoice["externalId"], []).append(invoice)
    withdrawn = [n for n in removed if held[n]["dispatch_count"]]
    for number in removed:
        live = [i for i in by_number[number] if not i["deleted"]]
        if number in withdrawn:
            assert [(i["receivableStatus"], i["dispatch_count"]) for i in live] == [("CANCELLED", 1)], number
        else:
            assert not live, f"{number} left the ERP undispatched and is still in EnKash: {live}"
    for number in night_2.invoice_numbers:
        live = [i for i in by_number[number] if not i["deleted"]]
        assert [(i["receivableStatus"] != "CANCELLED", i["dispatch_count"]) for i in live] == [(True, 1)], (
            number
        )
    status = {c["uniqueRefNo"]: c["status"] for c in state["customers"] if not c["deleted"]}
    assert status[leaving] == "INACTIVE"
    assert {status[ref] for ref in night_2.customer_refs} == {"ACTIVE"}
    # Each write reached EnKash once although three runs died right after one: nothing was sent again.
    assert calls.get("updateInvoice", 0) == len(withdrawn)
    assert calls.get("deactivateCustomer", 0) == 1
    assert calls.get("deleteInvoiceCollection", 0) == 1
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["invoices_cancelled"] == len(removed)
    assert summary["customers_deactivated"] == 1
