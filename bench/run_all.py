"""``make bench``: S1-S5 against a sandbox in its own process; results in bench/results/*.json.

S1 full cycle (10k customers, 100k invoices) against the floor; S2 one createInvoice per invoice;
S3 reruns (no change; 1% changed + 1% new); S4 1M invoices (peak RSS, wall time, summary time);
S5 the sandbox's own ingest rate. ``--quick`` divides the sizes by 10 for a smoke run; ``--only S1 S4``
runs some of them (S1 and S3 always run together: S3 reruns S1's night). ``--s4-invoices N`` sets S4's
size (default 1M, a tenth with ``--quick``).

The sandbox and a Prefect server (``prefect server start``, PREFECT_HOME in a temporary folder) run as
separate processes on loopback; the cycle talks to both over real HTTP, in this process (S1, S3) or in
a subprocess of its own (S4, for its peak RSS).
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
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from ar_sync.night_summary import NightSummary
from bench.common import (
    WRITE_OPERATIONS,
    SandboxProcess,
    log,
    prefect_server,
    sandbox_process,
    write_result,
    writes_between,
)
from bench.floor import run_floor
from enkash_ar.client import EnkashClient
from enkash_ar.models import CreateInvoiceRequest
from sandbox.sample_data import generate_erp_files, mutate_erp_files

AS_OF = date(2026, 11, 24)
ALL = ("S1", "S2", "S3", "S4", "S5")


def _client(sandbox: SandboxProcess) -> EnkashClient:
    c = sandbox.config
    return EnkashClient(
        base_url=sandbox.base_url,
        client_id=c.client_id,
        client_secret=c.client_secret,
        username=c.username,
        password=c.password,
        seller_id=c.seller_id,
        timeout=600,
    )


def _cycle(customers: Path, invoices: Path, work: Path) -> tuple[float, NightSummary]:
    from flows.nightly_ar_cycle import nightly_ar_cycle
    from flows.options import CycleOptions

    options = CycleOptions(out_dir=str(work / "out"), ledger_path=str(work / "ledger.sqlite3"))
    start = time.perf_counter()
    summary = asyncio.run(nightly_ar_cycle(str(customers), str(invoices), AS_OF, options))
    return time.perf_counter() - start, summary


def _warm_prefect() -> None:
    """Connect to the Prefect server (and import the flows) before anything is timed."""
    from prefect import flow

    import flows.nightly_ar_cycle  # noqa: F401

    @flow
    async def warm_up() -> int:
        return 1

    asyncio.run(warm_up())


def _requests(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    ops = sorted(set(before) | set(after))
    delta = {op: after.get(op, 0) - before.get(op, 0) for op in ops}
    return {op: n for op, n in delta.items() if n}


def _writes(calls: dict[str, int]) -> dict[str, int]:
    return {op: n for op, n in calls.items() if op in WRITE_OPERATIONS}


def s1_s3(sandbox: SandboxProcess, scale: int, work: Path) -> dict[str, Any]:
    n_customers, n_invoices = 10_000 // scale, 100_000 // scale
    log(f"S1: generating {n_customers} customers, {n_invoices} invoices")
    customers, invoices = generate_erp_files(
        work / "erp", customers=n_customers, invoices=n_invoices, seed=1, as_of=AS_OF, bad_rows=False
    )

    sandbox.reset()
    log("S1: floor (client only)")
    with _client(sandbox) as client:
        start = time.perf_counter()
        run_floor(client, customers, invoices, AS_OF, work / "floor", work / "floor-ledger.sqlite3")
        floor_s = time.perf_counter() - start
    floor_calls = sandbox.request_counts()
    log(f"S1: floor {floor_s:.1f} s; cycle (Prefect)")

    sandbox.reset()
    cycle_s, summary = _cycle(customers, invoices, work)
    cycle_calls = sandbox.request_counts()
    uploaded = summary.invoices_uploaded
    log(f"S1: cycle {cycle_s:.1f} s")
    s1 = {
        "customers": n_customers,
        "invoices": n_invoices,
        "cycle_seconds": round(cycle_s, 2),
        "floor_seconds": round(floor_s, 2),
        "ratio": round(cycle_s / floor_s, 3),
        "target_ratio": 1.3,
        "invoices_uploaded": uploaded,
        "invoices_per_second": round(uploaded / cycle_s, 1),
        "floor_requests": floor_calls,
        "cycle_requests": cycle_calls,
    }

    log("S3: rerun, no change")
    before = sandbox.request_counts()
    rerun_s, _ = _cycle(customers, invoices, work)
    quiet = _requests(before, sandbox.request_counts())
    log(f"S3: no-change rerun {rerun_s:.1f} s; rerun with 1% changed + 1% new")
    changed_c, changed_i = mutate_erp_files(
        customers, invoices, work / "erp-next", as_of=AS_OF, changed_fraction=0.01, new_fraction=0.01
    )
    before = sandbox.request_counts()
    delta_s, _ = _cycle(changed_c, changed_i, work)
    delta = _requests(before, sandbox.request_counts())
    log(f"S3: 1% rerun {delta_s:.1f} s")
    s3 = {
        "customers": n_customers,
        "invoices": n_invoices,
        "s1_cycle_seconds": round(cycle_s, 2),
        "no_change_seconds": round(rerun_s, 2),
        "no_change_fraction_of_s1": round(rerun_s / cycle_s, 3),
        "no_change_writes": writes_between({}, quiet),
        "no_change_requests": quiet,
        "one_percent_seconds": round(delta_s, 2),
        "one_percent_fraction_of_s1": round(delta_s / cycle_s, 3),
        "one_percent_writes": writes_between({}, delta),
        "one_percent_write_calls": _writes(delta),
        "one_percent_requests": delta,
        "target_no_change_fraction": 0.10,
        "target_no_change_writes": 0,
    }
    return {"S1": s1, "S3": s3}


def s2(sandbox: SandboxProcess, scale: int, work: Path) -> dict[str, Any]:
    """One createInvoice call per invoice (the naive way), customers created in bulk first (untimed)."""
    count = 10_000 // scale
    customers, invoices = generate_erp_files(
        work / "erp-s2", customers=1_000 // scale, invoices=count, seed=2, as_of=AS_OF, bad_rows=False
    )
    sandbox.reset()
    from ar_sync.erp_input import load_customers, load_invoices
    from ar_sync.planner import customer_bulk_rows, customer_id_map, planning_customers

    erp_customers = load_customers(customers).valid
    erp_invoices = load_invoices(invoices, known_customer_refs=erp_customers["customer_ref"]).valid
    log(f"S2: {count} invoices, one createInvoice each")
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
    s1_file = Path(__file__).parent / "results" / "S1.json"
    result: dict[str, Any] = {
        "invoices": rows.height,
        "seconds": round(elapsed, 2),
        "invoices_per_second": round(rows.height / elapsed, 1),
        "target_s1_over_s2": 20,
    }
    if s1_file.exists():
        s1 = json.loads(s1_file.read_text())
        result["s1_invoices_per_second"] = s1["invoices_per_second"]
        result["s1_over_s2"] = round(s1["invoices_per_second"] / result["invoices_per_second"], 2)
    return result


def _summary_seconds(rows: int) -> dict[str, float]:
    """Time build_night_summary over ``rows`` result rows and ``rows`` open invoices (synthetic)."""
    from ar_sync.results import RESULT_SCHEMA
    from ar_sync.summaries import OPEN_INVOICE_SCHEMA, build_night_summary

    i = pl.int_range(rows, eager=True)
    results = pl.DataFrame(
        {
            "stage": pl.Series(["invoices_upload", "invoices_dispatch"]).gather(i % 2),
            "key": "INV" + i.cast(pl.String),
            "outcome": pl.Series(["success"] * 99 + ["failure"]).gather(i % 100),
            "origin": pl.lit("sent"),
            "amount": (1000 + i % 5000).cast(pl.Float64),
            "reason": pl.Series([None] * 99 + ["dueDate must not be before invoiceDate"]).gather(i % 100),
            "remote_id": "KI" + i.cast(pl.String),
        }
    ).cast(RESULT_SCHEMA)
    open_invoices = pl.DataFrame(
        {
            "invoice_number": "INV" + i.cast(pl.String),
            "customer_ref": "C" + (i % 10_000).cast(pl.String),
            "customer_name": "Customer " + (i % 10_000).cast(pl.String),
            "due_date": pl.Series([AS_OF - timedelta(days=d) for d in range(-30, 150)]).gather(i % 180),
            "invoice_date": pl.Series([AS_OF - timedelta(days=d) for d in range(0, 180)]).gather(i % 180),
            "net_amount": (1000 + i % 5000).cast(pl.Float64),
            "balance_amount": (500 + i % 5000).cast(pl.Float64),
        }
    ).cast(dict(OPEN_INVOICE_SCHEMA))  # type: ignore[arg-type]
    start = time.perf_counter()
    build_night_summary(results, pl.DataFrame(schema=OPEN_INVOICE_SCHEMA), AS_OF, seller_id="CEKSANDBX1")
    results_only = time.perf_counter() - start
    start = time.perf_counter()
    build_night_summary(results, open_invoices, AS_OF, seller_id="CEKSANDBX1", credit_sales=1.0)
    both = time.perf_counter() - start
    return {
        "summary_seconds_over_results": round(results_only, 3),
        "summary_seconds_over_results_and_open_invoices": round(both, 3),
    }


def s4(sandbox: SandboxProcess, customers_count: int, invoices_count: int, work: Path) -> dict[str, Any]:
    """1M invoices: the cycle in its own process (peak RSS), and the summary over 1M result rows."""
    log(f"S4: generating {customers_count} customers, {invoices_count} invoices")
    customers, invoices = generate_erp_files(
        work / "erp-s4",
        customers=customers_count,
        invoices=invoices_count,
        seed=4,
        as_of=AS_OF,
        bad_rows=False,
    )
    sandbox.reset()
    command = [sys.executable, "-m", "bench.cycle_process", str(customers), str(invoices), str(work / "s4")]
    env = {**os.environ, **sandbox.env(), "ENKASH_TIMEOUT": "600"}
    log("S4: cycle in a subprocess")
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"S4 cycle failed:\n{done.stderr[-4000:]}")
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    log(f"S4: cycle {elapsed:.1f} s, peak RSS {measured['peak_rss_mib']} MiB; summary over 1M rows")
    return {
        "customers": customers_count,
        "invoices": invoices_count,
        "cycle_seconds": round(elapsed, 1),
        "cycle_seconds_in_process": measured["cycle_seconds"],
        "peak_rss_mib": measured["peak_rss_mib"],
        "target_peak_rss_mib": 2048,
        "invoices_uploaded": measured["invoices_uploaded"],
        "summary_rows": 1_000_000,
        **_summary_seconds(1_000_000),
    }


def s5(sandbox: SandboxProcess, scale: int, work: Path) -> dict[str, Any]:
    """The sandbox's ingest rate for one 100k-row invoice file (so we know it is not what we measure)."""
    from bench.bench_sandbox_ingest import measure_ingest

    sandbox.reset()
    log(f"S5: sandbox ingest of {100_000 // scale} rows")
    return measure_ingest(sandbox.base_url, rows=100_000 // scale, work=work, config=sandbox.config)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes, for a smoke run")
    parser.add_argument("--only", nargs="*", default=list(ALL), choices=ALL)
    parser.add_argument("--s4-invoices", type=int, default=None, help="S4 size (default 1,000,000)")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    only = set(args.only)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="enkash-bench-") as tmp:
        work = Path(tmp)
        (work / "prefect").mkdir()
        os.environ["PREFECT_HOME"] = str(work / "prefect")
        os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
        with prefect_server(work / "prefect") as api_url, sandbox_process() as sandbox:
            os.environ["PREFECT_API_URL"] = api_url
            os.environ.update(sandbox.env())
            log(f"Prefect server {api_url}, sandbox {sandbox.base_url}")
            _warm_prefect()
            if {"S1", "S3"} & only:
                for name, result in s1_s3(sandbox, scale, work).items():
                    write_result(name, result)
            if "S2" in only:
                write_result("S2", s2(sandbox, scale, work))
            if "S5" in only:
                write_result("S5", s5(sandbox, scale, work))
            if "S4" in only:
                write_result("S4", s4(sandbox, 10_000 // scale, args.s4_invoices or 1_000_000 // scale, work))
    log(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
