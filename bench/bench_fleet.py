"""Fleet: N sellers' nights on a process work pool with two workers, against the same nights one seller
after another.

Everything real, on loopback: one sandbox process serving every seller (each with its own credentials
and company id, registered through ``POST /_sandbox/sellers``), one Prefect server (``enkash-ar
prefect-server``, ``bench.common.prefect_server``), a process
work pool with ``--workers`` workers (``prefect worker start``), the ``fleet-seller-cycle`` deployment of
the nightly cycle, and the ``ar_fleet`` flow run in this process. Both runs go through the same
machinery (one child flow run per seller, started by ``run_deployment``, picked up by a worker): the
fleet with ``max_parallel`` = the number of sellers, the sequential run with ``max_parallel`` = 1. The
sandbox is emptied between the two, so both send every seller's whole export.

Usage (full size: 8 x 20,000 invoices; ``make bench`` does not run it)::

    .venv/bin/python -m bench.bench_fleet --sellers 8 --invoices 20000
    .venv/bin/python -m bench.bench_fleet --sellers 8 --invoices 2000     # the size BENCHMARKS.md reports
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from bench.common import RESULTS, SandboxProcess, log, prefect_server, sandbox_process, write_result
from sandbox.config import SellerAccount

AS_OF = date(2026, 11, 24)
POOL = "bench-fleet-pool"
DEPLOYMENT = "nightly-ar-cycle/fleet-seller-cycle"
REPO = Path(__file__).resolve().parents[1]


def seller_ids(count: int) -> list[str]:
    """``CEKBENCH01`` ... (company ids: CEK + 7 characters)."""
    return [f"CEKBNCH{n:03d}" for n in range(1, count + 1)]


def register_sellers(sandbox: SandboxProcess, sellers: list[str]) -> dict[str, SellerAccount]:
    """Serve every seller on the sandbox (again after a reset), each with its own credentials."""
    accounts = {seller: SellerAccount.derived(seller) for seller in sellers}
    for account in accounts.values():
        httpx.post(f"{sandbox.base_url}/_sandbox/sellers", json=vars(account), timeout=60).raise_for_status()
    return accounts


def save_blocks(sandbox: SandboxProcess, accounts: dict[str, SellerAccount]) -> dict[str, str]:
    """One EnkashCredentials block per seller; returns the block names."""
    from blocks.credentials import EnkashCredentials

    names = {}
    for seller, account in accounts.items():
        names[seller] = f"bench-{seller.lower()}"
        EnkashCredentials(
            base_url=sandbox.base_url,
            client_id=account.client_id,
            client_secret=account.client_secret,
            username=account.username,
            password=account.password,
            seller_id=seller,
        ).save(names[seller], overwrite=True)
    return names


def deploy_child() -> None:
    """The pool and the nightly cycle's fleet-seller-cycle deployment on it (code from this folder)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    from flows.nightly_ar_cycle import nightly_ar_cycle

    async def create_pool() -> None:
        async with get_client() as client:
            await client.create_work_pool(WorkPoolCreate(name=POOL, type="process"), overwrite=True)

    asyncio.run(create_pool())
    # Called outside any event loop, from_source answers the flow itself (not a coroutine).
    source: Any = nightly_ar_cycle.from_source(
        source=str(REPO), entrypoint="flows/nightly_ar_cycle.py:nightly_ar_cycle"
    )
    source.deploy(name="fleet-seller-cycle", work_pool_name=POOL, print_next_steps=False)


@contextmanager
def workers(count: int, api_url: str, work: Path) -> Iterator[None]:
    """``count`` process workers polling the pool; stopped (by their process ids) at the end."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENKASH_")} | {
        "PREFECT_API_URL": api_url,
        "PREFECT_WORKER_QUERY_SECONDS": "1",
    }
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL, "--name", f"bench-{n}"],
            cwd=REPO,
            env=env,
            stdout=(work / f"worker-{n}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for n in range(1, count + 1)
    ]
    try:
        yield
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(timeout=60)


def make_exports(root: Path, sellers: list[str], invoices: int) -> None:
    """Each seller's ERP export under ``root/<seller>/<night>/`` (a customer per 10 invoices)."""
    from sandbox.sample_data import generate_erp_files

    for number, seller in enumerate(sellers, start=1):
        generate_erp_files(
            root / seller / AS_OF.isoformat(),
            customers=max(invoices // 10, 1),
            invoices=invoices,
            seed=100 + number,
            as_of=AS_OF,
        )


def run_fleet(blocks: dict[str, str], erp: Path, work: Path, parallel: int) -> dict[str, Any]:
    """One ``ar_fleet`` night over every seller, ``parallel`` at a time; its wall time and outcome."""
    from ar_sync.fleet import Fleet, FleetSeller
    from flows.fleet import ar_fleet

    fleet = Fleet(
        sellers=[
            FleetSeller(
                seller_id=seller,
                credentials_block=block,
                customers_file=str(erp / "{seller}" / "{date:%Y-%m-%d}" / "customers.csv"),
                invoices_file=str(erp / "{seller}" / "{date:%Y-%m-%d}" / "invoices.csv"),
            )
            for seller, block in blocks.items()
        ],
        options={
            "out_dir": str(work / "out" / "{seller}"),
            "ledger_path": str(work / "ledgers" / "{seller}.sqlite3"),
        },
        max_parallel=parallel,
        host_limit=parallel,
    )

    async def night() -> Any:
        return await ar_fleet(
            fleet=fleet,
            as_of=AS_OF,
            child_deployment=DEPLOYMENT,
            summary_dir=str(work / "fleet"),
            return_state=True,
        )

    started = time.perf_counter()
    state = asyncio.run(night())
    seconds = time.perf_counter() - started
    totals = json.loads((work / "fleet" / "fleet_summary.json").read_text())["totals"]
    if not state.is_completed():
        log(f"the fleet night failed: {state.message}")
    return {
        "seconds": round(seconds, 1),
        "completed": totals["completed"],
        "failed_sellers": totals["failed_sellers"],
        "uploaded": totals["invoices_uploaded"],
    }


def reset_host_limit(base_url: str) -> None:
    """Delete the host's limit, so that each run creates it with its own size."""
    from prefect.client.orchestration import get_client

    from tasks.fleet_children import nights_limit_name

    name = nights_limit_name(base_url)

    async def delete() -> None:
        async with get_client() as client:
            try:
                await client.delete_global_concurrency_limit_by_name(name)
            except Exception:  # not there yet
                return

    asyncio.run(delete())


def main() -> None:
    """Run both nights and write fleet.json (in bench/results unless ``--results`` says otherwise)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sellers", type=int, default=8)
    parser.add_argument("--invoices", type=int, default=20_000, help="invoices per seller")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of fleet.json")
    args = parser.parse_args()
    sellers = seller_ids(args.sellers)
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        work = Path(tmp)
        (work / "prefect").mkdir()
        os.environ["PREFECT_HOME"] = str(work / "prefect")
        os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
        # The server's SQLite database serialises every write: with several nights at once on 2 busy
        # cores, a statement can wait longer than the 10 s default and the API answers 503. Wait longer,
        # and let clients retry a 503 (a PostgreSQL server needs neither: BENCHMARKS.md, "Fleet").
        os.environ["PREFECT_SERVER_DATABASE_TIMEOUT"] = "60"
        os.environ["PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT"] = "60"
        os.environ["PREFECT_CLIENT_RETRY_EXTRA_CODES"] = "503"
        with sandbox_process() as sandbox, prefect_server(work / "prefect") as api_url:
            os.environ["PREFECT_API_URL"] = api_url
            log(f"{args.sellers} sellers x {args.invoices} invoices; sandbox {sandbox.base_url}")
            make_exports(work / "erp", sellers, args.invoices)
            deploy_child()
            runs: dict[str, dict[str, Any]] = {}
            with workers(args.workers, api_url, work):
                for name, parallel in (("fleet", args.sellers), ("one_after_another", 1)):
                    sandbox.reset()
                    blocks = save_blocks(sandbox, register_sellers(sandbox, sellers))
                    reset_host_limit(sandbox.base_url)
                    log(f"{name}: {parallel} at a time")
                    runs[name] = run_fleet(blocks, work / "erp", work / name, parallel)
                    runs[name]["sandbox_requests"] = sum(sandbox.request_counts().values())
                    # Other sessions share this machine's cores: the 1-minute load says how much.
                    runs[name]["load_average_1min_after"] = round(os.getloadavg()[0], 1)
                    log(f"{name}: {runs[name]['seconds']} s")
    speed_up = round(runs["one_after_another"]["seconds"] / runs["fleet"]["seconds"], 2)
    write_result(
        "fleet",
        {
            "sellers": args.sellers,
            "invoices_per_seller": args.invoices,
            "workers": args.workers,
            "runs": runs,
            "speed_up": speed_up,
        },
        args.results,
    )


if __name__ == "__main__":
    main()
