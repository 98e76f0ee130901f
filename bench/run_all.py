"""``make bench``: the cycle against the physical floors, side by side in one run; raw JSON in bench/results.

Scenarios (issue 14; the targets are in ``bench/targets.py``):

- S1: a first night (EnKash empty) of ``nightly_ar_cycle`` against ``physical_floor.first_night``, at
  every ``--s1-sizes`` size (default 10,000 customers + 100,000 invoices, and 2,000 + 50,000);
- S3 (on the first S1 size): the next nights on the same files against ``physical_floor.quiet_night``,
  and a night with 1% changed + 1% new rows against ``physical_floor.delta_night``. The quiet night is
  measured ``QUIET_PAIRS`` times, each time as a pair run back to back on the same EnKash (the one the
  cycle's first night left), the pairs' order alternating: its ratio is the median pair's, with every
  pair kept in the JSON. The nights are a day apart on the sandbox's clock (``POST /_sandbox/clock``),
  as in the field, though they run minutes apart here;
- reminders (from the first S1 size): the cycle's setup-reminders stage against the floor's
  reminder phase;
- retry (on the last S1 size): a night whose dispatch fails (the sandbox answers 500 to every
  dispatchInvoiceCollection), then the same night again with the fault gone: uploads and validations
  redone, cache hits, and its time against the full night of the same size;
- S4: the cycle at 1M invoices + 10k customers (``--s4-invoices``): wall time and peak RSS, with the
  physical floor's first night at the same size beside it;
- S5: the sandbox's own ingest and search rates (so we know it is not what we measure).

Every night, cycle or floor, runs as its own process (``bench.cycle_process``,
``bench.physical_floor``), one at a time, against one sandbox process and one Prefect server
(``enkash-ar prefect-server``, as the README deploys it; ``--stock-prefect-server``: ``prefect server
start``; PREFECT_HOME in a temporary folder), as under a deployment. Each result records the requests per
operationId (the sandbox's counters) of the cycle and of the floor, and the cycle's seconds per stage
subflow and task runs per state (from the Prefect server).

``--quick`` divides every size by 10 and writes to bench/results/quick/. ``--only`` picks scenarios;
``--profile`` also runs every cycle under cProfile (``*.prof`` next to the results).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.breakdown import breakdown
from bench.common import (
    RESULTS,
    SERVER_LOG,
    SandboxProcess,
    locked_answers,
    log,
    prefect_server,
    sandbox_process,
    write_result,
)
from bench.phases import extra_requests, request_delta
from bench.targets import (
    REMINDERS_RATIO,
    RETRY_FRACTION,
    RETRY_UPLOADS,
    S1_RATIO,
    S3_DELTA_RATIO,
    S3_PAID_HISTORY_RATIO,
    S3_QUIET_RATIO,
    S3_QUIET_WRITES,
    S4_RSS,
    S4_SECONDS,
    ratio,
)
from sandbox.routes import WRITE_OPERATIONS
from sandbox.sample_data import generate_erp_files, mutate_erp_files

PROJECT = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 11, 24)
ALL = ("S1", "S3", "reminders", "retry", "S4", "S5")
ONE_PERCENT: dict[str, Any] = {"changed_fraction": 0.01, "new_fraction": 0.01}
FULL_S1 = ((10_000, 100_000), (2_000, 50_000))
#: Quiet nights measured per S3 run, each a (floor, cycle) pair back to back: a single pair minutes apart
#: moved the ratio by up to 20% between runs on this shared machine; the median of a few does not
#: depend on one pair.
QUIET_PAIRS = 3
#: The share of invoices paid in full before the paid-history quiet nights: a seller's history, where
#: most invoices EnKash holds are paid (the night reads the owed ones, the quiet floor every one).
PAID_SHARE = 0.9


@dataclass(frozen=True)
class Run:
    """Where results go and how processes are started."""

    sandbox: SandboxProcess
    work: Path
    results: Path
    env: dict[str, str]
    profile: bool

    def process(self, label: str, argv: list[str], cwd: Path | None = None) -> dict[str, Any]:
        """Run ``python -m <argv>`` to completion; its JSON line, outside wall time and requests made.

        ``cwd`` (default: the run's work folder) is the process's working folder, and its
        ``prefect-storage`` holds the process's Prefect results and cache records: a scenario's nights
        share them (a retry finds what the failed night cached), two scenarios never do (each starts
        from an empty sandbox), and so does any local state the engine keeps relative to the working
        folder (the default ledger is ``.enkash-ar/ledger.sqlite3``).
        """
        folder = cwd or self.work
        folder.mkdir(parents=True, exist_ok=True)
        env = {
            **self.env,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), self.env.get("PYTHONPATH")])),
            "PREFECT_LOCAL_STORAGE_PATH": str(folder / "prefect-storage"),
        }
        before = self.sandbox.request_counts()
        server_log = self.work / "prefect" / SERVER_LOG
        _, log_at = locked_answers(server_log, 0)
        command = [sys.executable]
        if self.profile and argv[0] == "bench.cycle_process":
            name = re.sub(r"[^0-9A-Za-z]+", "-", label).strip("-")
            command += ["-m", "cProfile", "-o", str(self.results / f"{name}.prof")]
        command += ["-m", *argv]
        log(f"{label}: {' '.join(argv[:2])}")
        start = time.perf_counter()
        done = subprocess.run(command, env=env, cwd=folder, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"{label} failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        result["process_seconds"] = round(wall, 3)
        result["requests"] = request_delta(before, self.sandbox.request_counts())
        result["writes"] = sum(n for op, n in result["requests"].items() if op in WRITE_OPERATIONS)
        # Requests Prefect's SQLite refused during the night: each cost the night a 2 s client sleep.
        result["prefect_locked_answers"], _ = locked_answers(server_log, log_at)
        log(f"{label}: {result['seconds']:.1f} s in process ({wall:.1f} s with start-up)")
        return result

    def cycle(self, label: str, customers: Path, invoices: Path, work: Path, as_of: date) -> dict[str, Any]:
        """One night of ``nightly_ar_cycle`` in its own process, working in ``work``."""
        argv = ["bench.cycle_process", str(customers), str(invoices), str(work), as_of.isoformat()]
        return self.process(label, argv, cwd=work)

    def floor(self, label: str, night: str, customers: Path, invoices: Path) -> dict[str, Any]:
        """One night of a physical floor in its own process."""
        return self.process(label, ["bench.physical_floor", night, str(customers), str(invoices)])

    def night_of(self, as_of: date, last: date) -> None:
        """Set the sandbox's clock so that the night ``as_of`` is as far behind the night ``last`` as
        their dates say: the nights of a scenario run minutes apart, the field's a day apart, and what
        the cycle reads "since the last night" (dispatchedOn) must see the same."""
        url = f"{self.sandbox.base_url}/_sandbox/clock"
        offset = (as_of - last).total_seconds()
        httpx.post(url, json={"offset_seconds": offset}, timeout=60).raise_for_status()

    def pay(self, share: float) -> None:
        """Pay ``share`` of the dispatched open invoices in full, dated today on the sandbox's clock."""
        url = f"{self.sandbox.base_url}/_sandbox/payments/simulate"
        body = {"seed": 1, "share": share, "partialShare": 0, "bharatConnectShare": 0, "days": 1}
        httpx.post(url, json=body, timeout=600).raise_for_status()

    def faults(self, **settings: object) -> None:
        """Change the sandbox's fault settings (``POST /_sandbox/faults``)."""
        url = f"{self.sandbox.base_url}/_sandbox/faults"
        httpx.post(url, json=settings, timeout=60).raise_for_status()


def _erp(run: Run, customers: int, invoices: int) -> tuple[Path, Path]:
    folder = run.work / f"erp-{customers}x{invoices}"
    log(f"generating {customers} customers, {invoices} invoices")
    return generate_erp_files(
        folder, customers=customers, invoices=invoices, seed=1, as_of=AS_OF, bad_rows=False
    )


def _compare(cycle: dict[str, Any], floor: dict[str, Any]) -> dict[str, Any]:
    return {
        "ratio": ratio(cycle["seconds"], floor["seconds"]),
        "extra_requests": extra_requests(cycle["requests"], floor["requests"]),
        "breakdown": breakdown(cycle["seconds"], cycle.get("stages", {}), floor["phases"]),
    }


def _quiet_pairs(
    run: Run, files: tuple[Path, Path], work: Path, nights: list[date], last: date, label: str = "S3 quiet"
) -> list[Any]:
    """The quiet night measured on each of ``nights``: the quiet floor and the cycle's quiet night back to
    back on the EnKash the cycle's earlier nights left (both only read it), the order alternating."""
    pairs = []
    for index, night in enumerate(nights):
        run.night_of(night, last)
        tag = f"{index + 1}/{len(nights)}"
        measured: dict[str, Any] = {}
        for kind in ("floor", "cycle") if index % 2 == 0 else ("cycle", "floor"):
            if kind == "floor":
                measured[kind] = run.floor(f"{label} floor {tag}", "quiet", *files)
            else:
                measured[kind] = run.cycle(f"{label} cycle {tag}", *files, work, night)
        cycle, floor = measured["cycle"], measured["floor"]
        pairs.append({"night": night.isoformat(), "cycle": cycle, "floor": floor, **_compare(cycle, floor)})
    return pairs


def median_pair(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    """The pair whose ratio is the median (the lower middle one of an even number).

    Example:
        >>> median_pair([{"ratio": 1.6}, {"ratio": 1.2}, {"ratio": 1.4}])
        {'ratio': 1.4}
    """
    ranked = sorted(pairs, key=lambda pair: pair["ratio"])
    return ranked[(len(ranked) - 1) // 2]


def s1(run: Run, customers: int, invoices: int, with_s3: bool) -> dict[str, Any]:
    """S1 at one size (and, with ``with_s3``, S3 and the reminders on the nights it leaves behind)."""
    c_file, i_file = _erp(run, customers, invoices)
    tag = f"{customers}x{invoices}"
    # The nights on the sandbox's clock, a day apart: S1, the quiet nights, the delta night, the night
    # after most invoices were paid, then the quiet nights on that paid history.
    quiet_nights = [AS_OF + timedelta(day) for day in range(1, QUIET_PAIRS + 1)]
    delta_night = AS_OF + timedelta(QUIET_PAIRS + 1)
    paid_night = delta_night + timedelta(1)
    history_nights = [paid_night + timedelta(day) for day in range(1, QUIET_PAIRS + 1)]
    last = history_nights[-1] if with_s3 else AS_OF
    run.sandbox.reset()
    run.night_of(AS_OF, last)
    floor = run.floor(f"S1 floor {tag}", "first", c_file, i_file)
    nights: dict[str, Any] = {}
    if with_s3:
        c_next, i_next = mutate_erp_files(
            c_file,
            i_file,
            run.work / f"erp-next-{tag}",
            as_of=AS_OF,
            changed_fraction=0.01,
            new_fraction=0.01,
        )
        run.night_of(delta_night, last)
        nights["delta_floor"] = run.floor(f"S3 delta floor {tag}", "delta", c_next, i_next)
    run.sandbox.reset()
    run.night_of(AS_OF, last)
    work = run.work / f"s1-{tag}"
    cycle = run.cycle(f"S1 cycle {tag}", c_file, i_file, work, AS_OF)
    if with_s3:
        nights["quiet_pairs"] = _quiet_pairs(run, (c_file, i_file), work, quiet_nights, last)
        run.night_of(delta_night, last)
        nights["delta_cycle"] = run.cycle(f"S3 delta cycle {tag}", c_next, i_next, work, delta_night)
        # Most invoices paid: the next night exports the payments and keeps its read; the quiet nights
        # after it start from that read (ar_sync.kept_reads), the floor reads every invoice.
        run.night_of(paid_night, last)
        run.pay(PAID_SHARE)
        run.cycle(f"S3 night after {PAID_SHARE:.0%} paid {tag}", c_next, i_next, work, paid_night)
        history = (c_next, i_next)
        nights["history_pairs"] = _quiet_pairs(run, history, work, history_nights, last, "S3 paid-history")
    compared = _compare(cycle, floor)
    result = {
        "customers": customers,
        "invoices": invoices,
        "cycle": cycle,
        "floor": floor,
        **compared,
        "verdict": S1_RATIO.verdict(compared["ratio"]),
    }
    return {"S1": result, **nights}


def s3(night: dict[str, Any], customers: int, invoices: int) -> dict[str, Any]:
    """S3 from the nights ``s1`` ran: the median quiet pair's cycle / floor (every pair kept, and every
    quiet cycle's writes counted), and delta cycle / delta floor."""
    pairs, history_pairs = night["quiet_pairs"], night["history_pairs"]
    quiet, history = median_pair(pairs), median_pair(history_pairs)
    delta = _compare(night["delta_cycle"], night["delta_floor"])
    return {
        "customers": customers,
        "invoices": invoices,
        "quiet_cycle": quiet["cycle"],
        "quiet_floor": quiet["floor"],
        "quiet_pairs": _pair_lines(pairs),
        "delta_cycle": night["delta_cycle"],
        "delta_floor": night["delta_floor"],
        "history_cycle": history["cycle"],
        "history_floor": history["floor"],
        "history_pairs": _pair_lines(history_pairs),
        "paid_share": PAID_SHARE,
        "quiet": {k: quiet[k] for k in ("ratio", "extra_requests", "breakdown")},
        "delta": delta,
        "history": {k: history[k] for k in ("ratio", "extra_requests", "breakdown")},
        "verdicts": [
            S3_QUIET_RATIO.verdict(quiet["ratio"]),
            # Every quiet night's writes, on the unpaid and on the paid history.
            S3_QUIET_WRITES.verdict(max(p["cycle"]["writes"] for p in pairs + history_pairs)),
            S3_DELTA_RATIO.verdict(delta["ratio"]),
            S3_PAID_HISTORY_RATIO.verdict(history["ratio"]),
        ],
    }


def _pair_lines(pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "night": p["night"],
            "ratio": p["ratio"],
            "cycle_s": p["cycle"]["seconds"],
            "floor_s": p["floor"]["seconds"],
        }
        for p in pairs
    ]


def reminders(first: dict[str, Any]) -> dict[str, Any]:
    """The cycle's setup-reminders stage against the floor's reminder phase, from one S1 size."""
    from ar_sync import reminder_policy

    cycle_s = first["cycle"].get("stages", {}).get("setup-reminders")
    floor_s = first["floor"]["phases"].get("reminders")
    ops = ("getCustomerReminders", "createCustomerReminder", "updateCustomerReminder", "deleteReminder")
    return {
        "customers": first["customers"],
        "invoices": first["invoices"],
        "cycle_stage_seconds": cycle_s,
        "floor_phase_seconds": floor_s,
        "ratio": ratio(cycle_s, floor_s),
        "cycle_workers": getattr(reminder_policy, "REMINDER_WORKERS", None),
        "floor_workers": 8,
        "cycle_requests": {op: first["cycle"]["requests"].get(op, 0) for op in ops},
        "floor_requests": {op: first["floor"]["requests"].get(op, 0) for op in ops},
        "verdict": REMINDERS_RATIO.verdict(ratio(cycle_s, floor_s)),
    }


def retry(run: Run, customers: int, invoices: int, full_night: dict[str, Any]) -> dict[str, Any]:
    """A night that fails in dispatch, then the same night again (same files, ledger, output folder)."""
    c_file, i_file = _erp(run, customers, invoices)
    run.sandbox.reset()
    run.faults(error_500=1.0, operations=["dispatchInvoiceCollection"])
    work = run.work / f"retry-{customers}x{invoices}"
    try:
        failed = run.cycle("retry: failing night", c_file, i_file, work, AS_OF)
    finally:
        run.faults(error_500=0.0, operations=[])
    again = run.cycle("retry: the same night again", c_file, i_file, work, AS_OF)
    tasks = again.get("task_runs", {})
    # Run, not served from Prefect's cache: what a retry redoes of the validation (issue 14 wants 0).
    validations = sum(n for name, n in tasks.items() if name == "load-erp-inputs [Completed]")
    uploads = again["requests"].get("invoiceBulkUpload", 0)
    fraction = ratio(again["seconds"], full_night["seconds"])
    return {
        "customers": customers,
        "invoices": invoices,
        "failing_night": failed,
        "retry": again,
        "full_night_seconds": full_night["seconds"],
        "fraction_of_full_night": fraction,
        "uploads_redone": uploads,
        "load_erp_inputs_runs_not_cached": validations,
        "cache_hits": sum(n for name, n in tasks.items() if name.endswith("[Cached]")),
        "verdicts": [RETRY_FRACTION.verdict(fraction), RETRY_UPLOADS.verdict(uploads)],
    }


def s4(run: Run, customers: int, invoices: int) -> dict[str, Any]:
    """The cycle at S4's size in its own process: wall time and peak RSS (the targets are absolute),
    and the physical floor's first night at the same size beside it (what the calls alone cost)."""
    c_file, i_file = _erp(run, customers, invoices)
    tag = f"{customers}x{invoices}"
    run.sandbox.reset()
    floor = run.floor(f"S4 floor {tag}", "first", c_file, i_file)
    run.sandbox.reset()
    cycle = run.cycle(f"S4 cycle {tag}", c_file, i_file, run.work / "s4", AS_OF)
    return {
        "customers": customers,
        "invoices": invoices,
        "cycle": cycle,
        "floor": floor,
        **_compare(cycle, floor),
        "verdicts": [S4_SECONDS.verdict(cycle["seconds"]), S4_RSS.verdict(cycle["peak_rss_mib"])],
    }


def s5(run: Run, rows: int) -> dict[str, Any]:
    """The sandbox's ingest rate for one invoice bulk file, and its search rate."""
    from bench.bench_sandbox_ingest import measure_ingest

    run.sandbox.reset()
    log(f"S5: sandbox ingest of {rows} rows")
    return measure_ingest(run.sandbox.base_url, rows=rows, work=run.work, config=run.sandbox.config)


def _size(text: str) -> tuple[int, int]:
    customers, invoices = text.lower().split("x")
    return int(customers), int(invoices)


def main() -> None:
    """Parse the options, start the Prefect server and the sandbox, run the scenarios one at a time."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="a tenth of every size; results in results/quick"
    )
    parser.add_argument("--only", nargs="*", default=list(ALL), choices=ALL)
    parser.add_argument(
        "--s1-sizes",
        nargs="*",
        type=_size,
        default=None,
        help="CxI ... (first: S3, reminders)",
    )
    parser.add_argument("--s4-invoices", type=int, default=None, help="S4 size (default 1,000,000)")
    parser.add_argument("--profile", action="store_true", help="run every cycle under cProfile too")
    parser.add_argument(
        "--stock-prefect-server",
        action="store_true",
        help="`prefect server start` instead of `enkash-ar prefect-server` (SQLite transactions DEFERRED)",
    )
    parser.add_argument("--results", type=Path, default=None, help="results folder (default bench/results)")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    sizes = args.s1_sizes or [(c // scale, i // scale) for c, i in FULL_S1]
    only = set(args.only)
    results = args.results or (RESULTS / "quick" if args.quick else RESULTS)
    results.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="enkash-bench-") as tmp:
        work = Path(tmp)
        (work / "prefect").mkdir()
        os.environ["PREFECT_HOME"] = str(work / "prefect")
        os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
        with (
            prefect_server(work / "prefect", stock=args.stock_prefect_server) as api_url,
            sandbox_process() as sandbox,
        ):
            env = {**os.environ, **sandbox.env(), "PREFECT_API_URL": api_url, "ENKASH_TIMEOUT": "600"}
            run = Run(sandbox, work, results, env, args.profile)
            log(f"Prefect server {api_url}, sandbox {sandbox.base_url}; sizes {sizes}")
            s1_runs = []
            if {"S1", "S3", "reminders", "retry"} & only:
                for index, (customers, invoices) in enumerate(sizes):
                    first = index == 0 and bool({"S3", "reminders"} & only)
                    nights = s1(run, customers, invoices, with_s3=first and "S3" in only)
                    s1_runs.append(nights["S1"])
                    if "S3" in only and first:
                        write_result("S3", s3(nights, customers, invoices), results)
                    if "reminders" in only and index == 0:
                        write_result("reminders", reminders(nights["S1"]), results)
                write_result("S1", {"runs": s1_runs}, results)
            if "retry" in only:
                last = s1_runs[-1]
                write_result("retry", retry(run, last["customers"], last["invoices"], last["cycle"]), results)
            if "S5" in only:
                write_result("S5", s5(run, 100_000 // scale), results)
            if "S4" in only:
                write_result("S4", s4(run, 10_000 // scale, args.s4_invoices or 1_000_000 // scale), results)
    log(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
