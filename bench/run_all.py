"""``make bench``: S1-S5 against a sandbox in its own process; results in bench/results/*.json.

S1 full cycle (10k customers, 100k invoices) against the floor; S2 one createInvoice per invoice;
S3 reruns (no change; 1% changed + 1% new); S4 1M invoices (peak RSS, wall time, summary time);
S5 the sandbox's own ingest rate. ``--quick`` divides the sizes by 10 for a smoke run.
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
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from bench.common import SandboxProcess, sandbox_process, write_result, writes_between
from bench.floor import run_floor
from enkash_ar.client import EnkashClient
from enkash_ar.models import CreateInvoiceRequest
from enkash_ar.sample_data import generate_erp_files, mutate_erp_files
from enkash_ar.summaries import build_summary

AS_OF = date(2026, 11, 24)


def _client(sandbox: SandboxProcess) -> EnkashClient:
    c = sandbox.config
    return EnkashClient(
        base_url=sandbox.base_url,
        client_id=c.client_id,
        client_secret=c.client_secret,
        username=c.username,
        password=c.password,
        seller_id=c.seller_id,
        timeout=300,
    )


def _cycle(customers: Path, invoices: Path, work: Path) -> tuple[float, dict[str, Any]]:
    from flows.nightly_ar_cycle import nightly_ar_cycle
    from flows.options import CycleOptions

    options = CycleOptions(out_dir=str(work / "out"), ledger_path=str(work / "ledger.sqlite3"))
    start = time.perf_counter()
    summary = asyncio.run(nightly_ar_cycle(str(customers), str(invoices), AS_OF, options))
    return time.perf_counter() - start, summary


def _warm_prefect() -> None:
    """Start Prefect's server connection before anything is timed."""
    from prefect import flow

    @flow
    async def warm_up() -> int:
        return 1

    asyncio.run(warm_up())


def s1_s3(sandbox: SandboxProcess, scale: int, work: Path) -> dict[str, Any]:
    customers, invoices = generate_erp_files(
        work / "erp",
        customers=10_000 // scale,
        invoices=100_000 // scale,
        seed=1,
        as_of=AS_OF,
        bad_rows=False,
    )
    sandbox.reset()
    with _client(sandbox) as client:
        start = time.perf_counter()
        run_floor(client, customers, invoices, AS_OF, work / "floor", work / "floor-ledger.sqlite3")
        floor_s = time.perf_counter() - start
    sandbox.reset()
    cycle_s, summary = _cycle(customers, invoices, work)
    uploaded = summary["invoices_uploaded"]
    s1 = {
        "customers": 10_000 // scale,
        "invoices": 100_000 // scale,
        "cycle_seconds": round(cycle_s, 2),
        "floor_seconds": round(floor_s, 2),
        "ratio": round(cycle_s / floor_s, 3),
        "target_ratio": 1.3,
        "invoices_uploaded": uploaded,
        "invoices_per_second": round(uploaded / cycle_s, 1),
    }
    before = sandbox.request_counts()
    rerun_s, _ = _cycle(customers, invoices, work)
    quiet_writes = writes_between(before, sandbox.request_counts())
    changed_c, changed_i = mutate_erp_files(
        customers, invoices, work / "erp-next", as_of=AS_OF, changed_fraction=0.01, new_fraction=0.01
    )
    before = sandbox.request_counts()
    delta_s, _ = _cycle(changed_c, changed_i, work)
    delta_writes = writes_between(before, sandbox.request_counts())
    s3 = {
        "no_change_seconds": round(rerun_s, 2),
        "no_change_fraction_of_s1": round(rerun_s / cycle_s, 3),
        "no_change_writes": quiet_writes,
        "one_percent_seconds": round(delta_s, 2),
        "one_percent_fraction_of_s1": round(delta_s / cycle_s, 3),
        "one_percent_writes": delta_writes,
        "target_no_change_fraction": 0.10,
    }
    return {"S1": s1, "S3": s3}


def s2(sandbox: SandboxProcess, scale: int, work: Path) -> dict[str, Any]:
    """One createInvoice call per invoice (the naive way), customers created in bulk first."""
    count = 10_000 // scale
    customers, invoices = generate_erp_files(
        work / "erp-s2", customers=1_000 // scale, invoices=count, seed=2, as_of=AS_OF, bad_rows=False
    )
    sandbox.reset()
    from enkash_ar.erp_input import load_customers, load_invoices
    from enkash_ar.plan import customer_bulk_rows, customer_id_map, planning_customers

    erp_customers = load_customers(customers).valid
    erp_invoices = load_invoices(invoices, known_customer_refs=erp_customers["customer_ref"]).valid
    with _client(sandbox) as client:
        client.create_bulk_customer(customer_bulk_rows(erp_customers))
        ids = customer_id_map(planning_customers(client.search_all_customers()))
        rows = erp_invoices.join(ids, on="customer_ref")
        start = time.perf_counter()
        for row in rows.iter_rows(named=True):
            client.create_invoice(
                CreateInvoiceRequest(
                    customer_id=row["customerId"],
                    external_id=row["invoice_number"],
                    invoice_number=row["invoice_number"],
                    due_date=row["due_date"],
                    base_amount=row["base_amount"],
                )
            )
        elapsed = time.perf_counter() - start
    return {
        "invoices": rows.height,
        "seconds": round(elapsed, 2),
        "invoices_per_second": round(rows.height / elapsed, 1),
    }


def s4(sandbox: SandboxProcess, scale: int, work: Path) -> dict[str, Any]:
    """1M invoices: the cycle in its own process (peak RSS), and the summary over 1M result rows."""
    customers, invoices = generate_erp_files(
        work / "erp-s4",
        customers=10_000 // scale,
        invoices=1_000_000 // scale,
        seed=4,
        as_of=AS_OF,
        bad_rows=False,
    )
    sandbox.reset()
    command = [sys.executable, "-m", "bench.cycle_process", str(customers), str(invoices), str(work / "s4")]
    env = {**os.environ, **sandbox.env(), "ENKASH_TIMEOUT": "600"}
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"S4 cycle failed:\n{done.stderr[-4000:]}")
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    results = pl.DataFrame(
        {
            "stage": ["invoices_upload"] * (1_000_000 // scale),
            "key": [f"INV{i}" for i in range(1_000_000 // scale)],
            "outcome": ["success"] * (1_000_000 // scale),
            "amount": [1000.0] * (1_000_000 // scale),
            "reason": [None] * (1_000_000 // scale),
        }
    )
    open_invoices = pl.DataFrame(schema={"invoice_number": pl.String})  # summary over results only
    from enkash_ar.summaries import OPEN_INVOICE_SCHEMA

    start = time.perf_counter()
    build_summary(results, pl.DataFrame(schema=OPEN_INVOICE_SCHEMA), AS_OF)
    summary_s = time.perf_counter() - start
    del open_invoices
    return {
        "invoices": 1_000_000 // scale,
        "cycle_seconds": round(elapsed, 1),
        "peak_rss_mib": measured["peak_rss_mib"],
        "target_peak_rss_mib": 2048,
        "invoices_uploaded": measured["invoices_uploaded"],
        "summary_seconds_over_results": round(summary_s, 3),
    }


def s5(sandbox: SandboxProcess, scale: int, work: Path) -> dict[str, Any]:
    """The sandbox's ingest rate for one 100k-row invoice file (so we know it is not what we measure)."""
    from bench.bench_sandbox_ingest import measure_ingest

    return measure_ingest(sandbox.base_url, rows=100_000 // scale, work=work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes, for a smoke run")
    parser.add_argument("--only", nargs="*", default=["S1", "S2", "S3", "S4", "S5"])
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    with tempfile.TemporaryDirectory(prefix="enkash-bench-") as tmp, sandbox_process() as sandbox:
        work = Path(tmp)
        os.environ.update(sandbox.env())
        _warm_prefect()
        if {"S1", "S3"} & set(args.only):
            for name, result in s1_s3(sandbox, scale, work).items():
                write_result(name, result)
        if "S2" in args.only:
            write_result("S2", s2(sandbox, scale, work))
        if "S4" in args.only:
            write_result("S4", s4(sandbox, scale, work))
        if "S5" in args.only:
            write_result("S5", s5(sandbox, scale, work))


if __name__ == "__main__":
    main()
