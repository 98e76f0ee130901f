"""Two cycles of one seller at once: EnKash still holds every ERP record once.

Each case runs two real processes against the sandbox and the session's Prefect server. Process
start-up times vary a lot with machine load, so the overlap is made certain rather than hoped for:
once one night is writing, the sandbox answers slowly (the night crawls) until the other night says it
is waiting for the seller; then it answers at full speed again. What a user checks afterwards, on
EnKash itself: no invoice twice, no dispatch twice, no reminder stage twice.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment

from sandbox.server import RunningSandbox
from tests.cli.cli_helpers import REPO, cli_env
from tests.enkash_checks import ErpExport, erp_export, exactly_once_problems
from tests.field_safety.cycle_process import Cycle, wait_until
from tests.loopback import http

AS_OF = date(2026, 11, 24)
#: How slowly the sandbox answers while the second night gets going: the first night crawls.
CRAWL_MS = 500
WAITING = "is held by another AR cycle"


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> ErpExport:
    """20 customers and 120 invoices: a few bulk files and dispatch calls at chunk size 40."""
    return erp_export(tmp_path_factory.mktemp("overlap"), customers=20, invoices=120, seed=21, as_of=AS_OF)


def set_latency(sandbox: RunningSandbox, ms: int) -> None:
    http.post(f"{sandbox.base_url}/_sandbox/faults", json={"latency_ms": ms}).raise_for_status()


def writes_started(sandbox: RunningSandbox) -> bool:
    counts = http.get(f"{sandbox.base_url}/_sandbox/state", params={"summary": "true"}).json()[
        "request_counts"
    ]
    return counts.get("createBulkCustomer", 0) > 0


def hold_until_waiting(
    sandbox: RunningSandbox, waiters: list[Cycle], also: Callable[[], str] = lambda: ""
) -> None:
    """Once a night writes, slow the sandbox until one of ``waiters`` (or ``also``) says it is waiting."""
    wait_until(lambda: writes_started(sandbox), "the first write")
    set_latency(sandbox, CRAWL_MS)
    try:
        wait_until(
            lambda: (
                any(WAITING in c.output or c.process.poll() is not None for c in waiters) or WAITING in also()
            ),
            "a night waiting for the other",
        )
    finally:
        set_latency(sandbox, 0)


def assert_exactly_once(sandbox: RunningSandbox, export: ErpExport) -> None:
    state = http.get(f"{sandbox.base_url}/_sandbox/state", timeout=30).json()
    problems = exactly_once_problems(state, export)
    assert not problems, "EnKash does not hold the export exactly once:\n" + "\n".join(problems)


def test_same_ledger_started_at_once_one_night_waits_and_then_sends_nothing(
    sandbox: RunningSandbox, prefect_server: None, export: ErpExport, tmp_path: Path
) -> None:
    env = cli_env(sandbox, tmp_path / "storage")
    ledger = str(tmp_path / "shared" / "ledger.sqlite3")
    nights = [
        Cycle(env, export, tmp_path / x / "out", AS_OF, "--chunk-size", "40", "--ledger", ledger)
        for x in ("a", "b")
    ]
    hold_until_waiting(sandbox, nights)
    codes = [night.finish() for night in nights]

    assert codes == [0, 0], [night.output for night in nights]
    assert sum(WAITING in night.output for night in nights) == 1, "one of the two nights must have waited"
    assert_exactly_once(sandbox, export)
    # Both report the same night, from the one ledger: what the night did, once.
    summaries = [json.loads((tmp_path / x / "out" / "summary.json").read_text()) for x in ("a", "b")]
    assert (
        summaries[0]["invoices_uploaded"] == summaries[1]["invoices_uploaded"] == len(export.invoice_numbers)
    )


def test_different_ledgers_the_prefect_limit_keeps_them_apart_and_names_the_holder(
    sandbox: RunningSandbox, prefect_server: None, export: ErpExport, tmp_path: Path
) -> None:
    env = cli_env(sandbox, tmp_path / "storage")
    first = Cycle(env, export, tmp_path / "a" / "out", AS_OF, "--chunk-size", "40")
    wait_until(lambda: writes_started(sandbox), "the first night's first write")
    second = Cycle(env, export, tmp_path / "b" / "out", AS_OF, "--chunk-size", "40", "--lock-timeout", "3")
    # The first night crawls until the second has given up waiting for it.
    set_latency(sandbox, CRAWL_MS)
    try:
        busy = second.finish()
    finally:
        set_latency(sandbox, 0)

    assert (first.finish(), busy) == (0, 1), first.output + second.output
    lines = [line for line in second.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, second.output
    assert "seller CEKSANDBX1 is busy: another AR cycle (flow run '" in lines[0]
    assert "since" in lines[0] and "Nothing was sent by this run" in lines[0]
    assert_exactly_once(sandbox, export)


@pytest.mark.slow
def test_a_deployment_run_and_a_cli_run_of_one_seller_never_overlap(
    sandbox: RunningSandbox, prefect_server: None, export: ErpExport, tmp_path: Path
) -> None:
    env = cli_env(sandbox, tmp_path / "storage")
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
        wait_until(lambda: writes_started(sandbox), "the deployment's first write")
        # The deployment's night is writing: a CLI night of the same seller starts now.
        cli = Cycle(env, export, tmp_path / "cli" / "out", AS_OF, "--chunk-size", "40")
        hold_until_waiting(sandbox, [cli])
        code = cli.finish()
        state = _wait_for_state(flow_run.id, lambda state: state.is_final())
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert code == 0, cli.output
    assert state.is_completed(), state
    assert f"{WAITING} (flow run '" in cli.output  # it waited for the deployment's run
    assert_exactly_once(sandbox, export)


#: A deployment served by its own process, as `prefect deploy` + a worker would run it.
SERVE = """
from flows.nightly_ar_cycle import nightly_ar_cycle
nightly_ar_cycle.serve(name="overlap-test", limit=2)
"""


def _wait_for_deployment(name: str, timeout: float = 180) -> str:
    import asyncio

    async def read() -> bool:
        async with get_client() as client:
            try:
                await client.read_deployment_by_name(name)
            except Exception:
                return False
            return True

    wait_until(lambda: asyncio.run(read()), f"deployment {name} being served", timeout)
    return name


def _wait_for_state(flow_run_id: Any, reached: Callable[[Any], bool], timeout: float = 300) -> Any:
    import asyncio

    async def read() -> Any:
        async with get_client() as client:
            return (await client.read_flow_run(flow_run_id)).state

    found: list[Any] = []

    def done() -> bool:
        state = asyncio.run(read())
        found[:] = [state]
        return state is not None and reached(state)

    wait_until(done, f"flow run {flow_run_id} finishing", timeout)
    return found[0]
