"""Two cycles of one seller started at the same instant: EnKash still holds every ERP record once.

Each case runs two real processes against the sandbox and the session's Prefect server, under injected
latency so that the two nights would overlap for seconds if nothing kept them apart. What a user
checks afterwards, on EnKash itself: no invoice twice, no dispatch twice, no reminder stage twice.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment

from sandbox.server import RunningSandbox
from tests.cli.cli_helpers import REPO, cli_env, cycle_args
from tests.enkash_checks import ErpExport, erp_export, exactly_once_problems

AS_OF = date(2026, 11, 24)
#: Enough to make one night last several seconds, so that unguarded nights would overlap.
LATENCY_MS = 25


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> ErpExport:
    """20 customers and 120 invoices: a few bulk files and dispatch calls at chunk size 40."""
    return erp_export(tmp_path_factory.mktemp("overlap"), customers=20, invoices=120, seed=21, as_of=AS_OF)


@pytest.fixture
def slow_sandbox(sandbox: RunningSandbox) -> RunningSandbox:
    httpx.post(f"{sandbox.base_url}/_sandbox/faults", json={"latency_ms": LATENCY_MS}).raise_for_status()
    return sandbox


def start_cycle(env: dict[str, str], export: ErpExport, out: Path, *extra: str) -> subprocess.Popen[str]:
    args = cycle_args(export.customers_file, export.invoices_file, out, AS_OF, "--chunk-size", "40", *extra)
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = process.communicate(timeout=240)
    return process.returncode, out + err


def assert_exactly_once(sandbox: RunningSandbox, export: ErpExport) -> None:
    httpx.post(f"{sandbox.base_url}/_sandbox/faults", json={"latency_ms": 0}).raise_for_status()
    state = httpx.get(f"{sandbox.base_url}/_sandbox/state", timeout=30).json()
    problems = exactly_once_problems(state, export)
    assert not problems, "EnKash does not hold the export exactly once:\n" + "\n".join(problems)


def test_same_ledger_the_second_cycle_waits_and_then_sends_nothing(
    slow_sandbox: RunningSandbox, prefect_server: None, export: ErpExport, tmp_path: Path
) -> None:
    env = cli_env(slow_sandbox, tmp_path / "storage")
    ledger = tmp_path / "shared" / "ledger.sqlite3"
    first = start_cycle(env, export, tmp_path / "a" / "out", "--ledger", str(ledger))
    second = start_cycle(env, export, tmp_path / "b" / "out", "--ledger", str(ledger))
    outcomes = [finish(first), finish(second)]

    assert [code for code, _ in outcomes] == [0, 0], outcomes
    waited = [text for _, text in outcomes if "is held by another AR cycle" in text]
    assert len(waited) == 1, "exactly one of the two nights must have waited for the other"
    assert_exactly_once(slow_sandbox, export)
    # Both report the same night, from the one ledger: what the night did, once.
    summaries = [json.loads((tmp_path / x / "out" / "summary.json").read_text()) for x in ("a", "b")]
    assert (
        summaries[0]["invoices_uploaded"] == summaries[1]["invoices_uploaded"] == len(export.invoice_numbers)
    )


def test_different_ledgers_the_prefect_limit_keeps_them_apart_and_names_the_holder(
    slow_sandbox: RunningSandbox, prefect_server: None, export: ErpExport, tmp_path: Path
) -> None:
    env = cli_env(slow_sandbox, tmp_path / "storage")
    # Slow enough that the first night still runs for many seconds after it starts writing.
    httpx.post(f"{slow_sandbox.base_url}/_sandbox/faults", json={"latency_ms": 200}).raise_for_status()
    first = start_cycle(env, export, tmp_path / "a" / "out")
    # The second starts once the first is surely writing (process start-up times vary with load).
    _wait_for_requests(slow_sandbox, "invoiceBulkUpload", first)
    second = start_cycle(env, export, tmp_path / "b" / "out", "--lock-timeout", "2")
    busy, text = finish(second)
    ok, first_text = finish(first)

    assert (ok, busy) == (0, 1), first_text + text
    lines = [line for line in text.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, text
    assert "seller CEKSANDBX1 is busy: another AR cycle (flow run '" in lines[0]
    assert "since" in lines[0] and "Nothing was sent by this run" in lines[0]
    assert_exactly_once(slow_sandbox, export)


def _wait_for_requests(sandbox: RunningSandbox, operation: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while (
        httpx.get(f"{sandbox.base_url}/_sandbox/state", params={"summary": "true"})
        .json()["request_counts"]
        .get(operation, 0)
        < 1
    ):
        assert process.poll() is None and time.monotonic() < deadline, (
            f"the first cycle never reached {operation}"
        )
        time.sleep(0.05)


def test_a_deployment_run_and_a_cli_run_of_one_seller_never_overlap(
    slow_sandbox: RunningSandbox, prefect_server: None, export: ErpExport, tmp_path: Path
) -> None:
    env = cli_env(slow_sandbox, tmp_path / "storage")
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE],
        cwd=REPO,
        env={**env, "PREFECT_RUNNER_POLL_FREQUENCY": "1"},
        stdout=(tmp_path / "serve.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deployment = _wait_for_deployment("nightly-ar-cycle/overlap-test")
        parameters = {
            "customers_file": str(export.customers_file),
            "invoices_file": str(export.invoices_file),
            "as_of": AS_OF.isoformat(),
            "options": {
                "out_dir": str(tmp_path / "deployed" / "out"),
                "ledger_path": str(tmp_path / "deployed" / "ledger.sqlite3"),
                "chunk_size": 40,
            },
        }
        flow_run = run_deployment(deployment, parameters=parameters, timeout=0)
        _wait_for_state(flow_run.id, lambda state: state.is_running() or state.is_final())
        # The deployment's night is under way: a CLI night of the same seller starts now.
        cli = start_cycle(env, export, tmp_path / "cli" / "out")
        code, text = finish(cli)
        state = _wait_for_state(flow_run.id, lambda state: state.is_final())
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert code == 0, text
    assert state.is_completed(), state
    # Whichever took the seller first, the other waited for it (the deployment's logs are the server's).
    served = (tmp_path / "serve.log").read_text()
    waited = [log for log in (text, served) if "is held by another AR cycle (flow run '" in log]
    assert len(waited) == 1, "exactly one of the two nights must have waited for the other"
    assert_exactly_once(slow_sandbox, export)


#: A deployment served by its own process, as `prefect deploy` + a worker would run it.
SERVE = """
from flows.nightly_ar_cycle import nightly_ar_cycle

#: Starts processes (the enkash-ar command) against a Prefect server: end to end.
pytestmark = pytest.mark.e2e
nightly_ar_cycle.serve(name="overlap-test", limit=2)
"""


def _wait_for_deployment(name: str, timeout: float = 90) -> str:
    import asyncio

    async def read() -> bool:
        async with get_client() as client:
            try:
                await client.read_deployment_by_name(name)
            except Exception:
                return False
            return True

    deadline = time.monotonic() + timeout
    while not asyncio.run(read()):
        assert time.monotonic() < deadline, f"deployment {name} was not served within {timeout} s"
        time.sleep(0.5)
    return name


def _wait_for_state(flow_run_id: Any, reached: Callable[[Any], bool], timeout: float = 240) -> Any:
    import asyncio

    async def read() -> Any:
        async with get_client() as client:
            return (await client.read_flow_run(flow_run_id)).state

    deadline = time.monotonic() + timeout
    while True:
        state = asyncio.run(read())
        if state is not None and reached(state):
            return state
        assert time.monotonic() < deadline, f"flow run {flow_run_id} did not get there within {timeout} s"
        time.sleep(0.2)
