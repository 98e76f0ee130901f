"""A fleet night on a real Prefect server, a process work pool and two workers started here.

Three sellers on one sandbox, each with its own credentials block and company: two good exports and
one broken export. While the fleet runs, a person also clicks Run for one good seller, so that seller
has two nights at once. What a user checks afterwards: the good sellers completed and EnKash holds each
of their invoices once, dispatched once; the broken seller failed alone and the fleet run names it; the
fleet summary says so; and the two nights of one seller never held the seller at the same time.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import polars as pl
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.flow_runs import wait_for_flow_run
from prefect.settings import PREFECT_API_URL

from ar_sync.fleet import Fleet, FleetSeller
from blocks.credentials import EnkashCredentials
from flows.fleet import ar_fleet
from flows.nightly_ar_cycle import nightly_ar_cycle
from sandbox.config import SellerAccount
from sandbox.server import RunningSandbox
from tests.cli.cli_helpers import REPO
from tests.enkash_checks import ErpExport, erp_export, exactly_once_problems
from tests.loopback import http

AS_OF = date(2026, 11, 24)
POOL = "fleet-test-pool"
GOOD = ("CEKFLEETA1", "CEKFLEETB2")
BROKEN = "CEKFLEETC3"
DEPLOYMENT = "nightly-ar-cycle/fleet-seller-cycle"

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def register_seller(sandbox: RunningSandbox, seller_id: str) -> SellerAccount:
    account = SellerAccount.derived(seller_id)
    http.post(f"{sandbox.base_url}/_sandbox/sellers", json=vars(account)).raise_for_status()
    return account


def save_block(sandbox: RunningSandbox, account: SellerAccount) -> str:
    name = f"fleet-{account.seller_id.lower()}"
    EnkashCredentials(
        base_url=sandbox.base_url,
        client_id=account.client_id,
        client_secret=account.client_secret,  # type: ignore[arg-type]
        username=account.username,
        password=account.password,  # type: ignore[arg-type]
        seller_id=account.seller_id,
        max_retries=6,
    ).save(name, overwrite=True)
    return name


def worker_env(storage: Path) -> dict[str, str]:
    """A worker machine's environment: the Prefect server, and no ENKASH_* (blocks carry the seller)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENKASH_")}
    return env | {
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_LOCAL_STORAGE_PATH": str(storage),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PREFECT_WORKER_PREFETCH_SECONDS": "5",
        # The test server is SQLite on busy cores: a write may wait past its timeout (503); retry it.
        "PREFECT_CLIENT_RETRY_EXTRA_CODES": "503",
    }


@pytest.fixture
def workers(prefect_server: None, tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """A process work pool with the nightly cycle deployed on it, and two workers polling it."""

    async def create_pool() -> None:
        async with get_client() as client:
            await client.create_work_pool(WorkPoolCreate(name=POOL, type="process"), overwrite=True)

    asyncio.run(create_pool())
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL, "--name", f"worker-{n}"],
            cwd=REPO,
            env=worker_env(tmp_path / "storage"),
            stdout=(tmp_path / f"worker-{n}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for n in (1, 2)
    ]
    nightly_ar_cycle.from_source(  # type: ignore[attr-defined]
        source=str(REPO), entrypoint="flows/nightly_ar_cycle.py:nightly_ar_cycle"
    ).deploy(
        name="fleet-seller-cycle",
        work_pool_name=POOL,
        parameters={"options": {"chunk_size": 5000}},
        print_next_steps=False,
    )
    try:
        yield started
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(timeout=30)


def seller_files(root: Path, seller_id: str, seed: int) -> ErpExport:
    return erp_export(root / seller_id / AS_OF.isoformat(), customers=4, invoices=8, seed=seed, as_of=AS_OF)


def test_a_fleet_night_on_two_workers(
    sandbox: RunningSandbox,
    workers: list[subprocess.Popen[bytes]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("tasks.fleet_children.POLL_SECONDS", 0.5)
    exports = {seller: seller_files(tmp_path / "erp", seller, seed) for seed, seller in enumerate(GOOD, 1)}
    broken = seller_files(tmp_path / "erp", BROKEN, 3)
    broken.invoices_file.write_text("this is not,an invoice export\nat,all\n")
    blocks = {s: save_block(sandbox, register_seller(sandbox, s)) for s in (*GOOD, BROKEN)}
    fleet = Fleet(
        sellers=[
            FleetSeller(
                seller_id=seller,
                credentials_block=blocks[seller],
                customers_file=str(tmp_path / "erp" / "{seller}" / "{date:%Y-%m-%d}" / "customers.csv"),
                invoices_file=str(tmp_path / "erp" / "{seller}" / "{date:%Y-%m-%d}" / "invoices.csv"),
            )
            for seller in (*GOOD, BROKEN)
        ],
        options={
            "out_dir": str(tmp_path / "out" / "{seller}" / "{date:%Y-%m-%d}"),
            "ledger_path": str(tmp_path / "ledgers" / "{seller}.sqlite3"),
        },
        max_parallel=3,
        host_limit=3,
    )
    # A person clicks Run (a dry run: reads and plans, so it is cheap) for the first good seller while
    # the fleet runs: same files and ledger; it must wait for the fleet's night of that seller, or that
    # night for it.
    first = GOOD[0]
    clicked = run_deployment(
        DEPLOYMENT,
        parameters={
            "customers_file": str(exports[first].customers_file),
            "invoices_file": str(exports[first].invoices_file),
            "as_of": AS_OF.isoformat(),
            "options": {
                "credentials_block": blocks[first],
                "out_dir": str(tmp_path / "clicked"),
                "ledger_path": str(tmp_path / "ledgers" / f"{first}.sqlite3"),
                "dry_run": True,
            },
        },
        timeout=0,
        as_subflow=False,
    )
    assert isinstance(clicked, FlowRun)

    started = time.monotonic()
    state = asyncio.run(
        ar_fleet(  # type: ignore[call-overload]
            fleet=fleet,
            as_of=AS_OF,
            child_deployment=DEPLOYMENT,
            summary_dir=str(tmp_path / "fleet"),
            return_state=True,
        )
    )
    elapsed = time.monotonic() - started

    logs = "".join((tmp_path / f"worker-{n}.log").read_text(errors="replace") for n in (1, 2))
    assert state.is_failed(), logs[-3000:]
    assert state.message is not None
    assert f"1 of 3 sellers failed: {BROKEN} (failed: " in state.message
    assert all(seller not in state.message for seller in GOOD)

    # Exactly once, per seller, on EnKash itself: each invoice once, dispatched once.
    for seller, export in exports.items():
        seller_state = http.get(f"{sandbox.base_url}/_sandbox/state", params={"company": seller}).json()
        problems = exactly_once_problems(seller_state, export)
        assert not problems, f"{seller}: " + "; ".join(problems)
        live = [i for i in seller_state["invoices"] if not i["deleted"]]
        assert len(live) == len(export.invoice_numbers)
        assert all(i["dispatch_count"] == 1 for i in live)
    assert (
        http.get(f"{sandbox.base_url}/_sandbox/state", params={"company": BROKEN}).json()["invoices_count"]
        == 0
    )

    # The fleet summary: a row per seller, totals, from each child's own summary.json.
    document = json.loads((tmp_path / "fleet" / "fleet_summary.json").read_text())
    rows = {row["seller_id"]: row for row in document["sellers"]}
    assert document["totals"]["completed"] == 2 and document["totals"]["failed_sellers"] == [BROKEN]
    for seller, export in exports.items():
        assert rows[seller]["status"] == "COMPLETED"
        assert rows[seller]["invoices_uploaded"] == len(export.invoice_numbers)
        assert rows[seller]["invoices_dispatched"] == len(export.invoice_numbers)
        assert rows[seller]["open_invoices"] == len(export.invoice_numbers)
        assert rows[seller]["open_amount"] > 0 and rows[seller]["flow_run"]
        assert Path(rows[seller]["report"]).is_file()
    assert rows[BROKEN]["status"] == "FAILED" and "invoices.csv" in rows[BROKEN]["message"]
    assert document["totals"]["open_invoices"] == sum(len(e.invoice_numbers) for e in exports.values())
    assert pl.read_parquet(tmp_path / "fleet" / "fleet_summary.parquet").height == 3

    # The clicked run may still be waiting for the seller (the fleet's night of it held the lock), or
    # finishing its own dry run: it must end, and end well, on its own.
    clicked_end = asyncio.run(wait_for_flow_run(clicked.id, timeout=180, poll_interval=1))
    assert clicked_end.state is not None and clicked_end.state.is_completed(), clicked_end.state
    children, artifacts = asyncio.run(_children_and_artifacts(state.state_details.flow_run_id, clicked.id))
    assert {c.state.type.value for c in children if c.state} == {"COMPLETED", "FAILED"}
    assert len({c.id for c in children}) == 4  # three fleet children and the clicked run
    # The workers shared the pool's runs: each run was started by exactly one of them (both may try
    # to take a run; the server lets one have it and aborts the other's submission).
    taken = [_submitted(tmp_path / f"worker-{n}.log") for n in (1, 2)]
    assert not taken[0] & taken[1], f"a run was started by both workers: {taken}"
    assert taken[0] | taken[1] == {c.name for c in children}
    intervals = asyncio.run(
        _holding_intervals([c for c in children if first in c.name or c.id == clicked.id])
    )
    assert len(intervals) == 2
    earlier, later = sorted(intervals)
    assert earlier[1] <= later[0], f"two nights of {first} held the seller at once: {intervals}"
    assert {"ar-fleet-sellers", "ar-fleet-summary"} <= artifacts
    assert "client_secret" not in json.dumps(document) and "sandbox-secret" not in json.dumps(document)
    print(f"fleet night took {elapsed:.1f} s")


def _submitted(log: Path) -> set[str]:
    """The flow runs (by name) a worker's log says it started on its infrastructure."""
    return set(re.findall(r"Flow run '([^']+)' submitted to infrastructure", log.read_text(errors="replace")))


async def _children_and_artifacts(
    fleet_run_id: UUID | None, clicked_id: UUID
) -> tuple[list[FlowRun], set[str]]:
    assert fleet_run_id is not None
    async with get_client() as client:
        children = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"fleet-run:{fleet_run_id}"]))
        )
        clicked = await client.read_flow_run(clicked_id)
        # Filtered on the server: the session's server holds every other test's artifacts too, and an
        # unfiltered read stops at the API's default limit.
        artifacts = await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[fleet_run_id]))
        )
    keys = {a.key for a in artifacts if a.key}
    return [*children, clicked], keys


async def _holding_intervals(runs: list[FlowRun]) -> list[tuple[Any, Any]]:
    """When each night did its work: from its first task run's start to its last one's end (every task
    run of a night happens while it holds the seller)."""
    from prefect.client.schemas.filters import FlowRunFilterId

    intervals = []
    async with get_client() as client:
        for run in runs:
            task_runs = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id]))
            )
            starts = [t.start_time for t in task_runs if t.start_time]
            ends = [t.end_time for t in task_runs if t.end_time]
            intervals.append((min(starts), max(ends)))
    return intervals
