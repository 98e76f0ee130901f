"""Markdown tables of a run's results, for BENCHMARKS.md: ``python -m bench.report [bench/results]``.

Prints the targets table (every verdict the run recorded), then, per night compared with a floor,
the seconds per stage against the floor phase doing the same work and the requests per operationId
of both. Reads only the JSON files ``bench.run_all`` wrote.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.breakdown import breakdown
from bench.common import RESULTS


def _load(folder: Path, name: str) -> dict[str, Any] | None:
    path = folder / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


#: The sizes issue 14 sets its targets at; a verdict at another size is labelled as such.
TARGET_SIZES = {(10_000, 100_000), (2_000, 50_000), (10_000, 1_000_000)}


def _verdict_row(verdict: dict[str, Any], size: str, at_size: bool = True) -> str:
    met = {True: "met", False: "**missed**", None: "not measured"}[verdict["met"]]
    if not at_size:
        met += " (at a reduced size)"
    value = "-" if verdict["value"] is None else f"{verdict['value']} {verdict['unit']}"
    return f"| {verdict['target']} | {size} | <= {verdict['limit']} {verdict['unit']} | {value} | {met} |"


def targets(folder: Path) -> list[str]:
    """The targets table: one row per verdict in the results."""
    lines = ["| target | size (customers + invoices) | limit | measured | |", "|---|---|---|---|---|"]
    s1 = _load(folder, "S1")
    for run in s1["runs"] if s1 else []:
        at_size = (run["customers"], run["invoices"]) in TARGET_SIZES
        lines.append(_verdict_row(run["verdict"], f"{run['customers']:,} + {run['invoices']:,}", at_size))
    for name in ("S3", "S4", "reminders", "retry"):
        result = _load(folder, name)
        if result is None:
            continue
        size = (
            f"{result['customers']:,} + {result['invoices']:,}"
            if "invoices" in result
            else (f"{result['customers']:,} new customers")
        )
        at_size = (result["customers"], result.get("invoices", 100_000)) in TARGET_SIZES
        for verdict in result.get("verdicts", [result.get("verdict")]):
            lines.append(_verdict_row(verdict, size, at_size))
    return lines


def breakdown_table(cycle: dict[str, Any], floor: dict[str, Any]) -> list[str]:
    """Seconds per cycle stage against the matching floor phases."""
    lines = [
        "| cycle stage | cycle s | floor phase | floor s | extra s |",
        "|---|---|---|---|---|",
    ]
    for row in breakdown(cycle["seconds"], cycle.get("stages", {}), floor["phases"]):
        lines.append(
            f"| {row['stage']} | {row['cycle_seconds']:.1f} | {row['floor_phases'] or '-'} "
            f"| {row['floor_seconds']:.1f} | {row['extra_seconds']:.1f} |"
        )
    return lines


def requests_table(cycle: dict[str, int], floor: dict[str, int]) -> list[str]:
    """Requests per operationId, cycle and floor side by side."""
    lines = ["| operationId | cycle | floor | extra |", "|---|---|---|---|"]
    for op in sorted(set(cycle) | set(floor)):
        c, f = cycle.get(op, 0), floor.get(op, 0)
        lines.append(f"| {op} | {c:,} | {f:,} | {c - f:+,} |")
    return lines


def quiet_pairs(pairs: list[dict[str, Any]]) -> str:
    """The quiet pairs of an S3 run, in the order they ran.

    Example:
        >>> quiet_pairs([{"cycle_s": 18.1, "floor_s": 11.6, "ratio": 1.56}])
        '18.1 s / 11.6 s = 1.56'
    """
    return ", ".join(f"{p['cycle_s']:.1f} s / {p['floor_s']:.1f} s = {p['ratio']}" for p in pairs)


def nights(folder: Path) -> list[str]:
    """Per compared night: totals, the per-stage breakdown and the requests."""
    lines: list[str] = []
    s1 = _load(folder, "S1")
    pairs = []
    for run in s1["runs"] if s1 else []:
        pairs.append((f"S1 first night, {run['customers']:,} + {run['invoices']:,}", run, run))
    s3 = _load(folder, "S3")
    if s3:
        for kind in ("quiet", "delta", "history"):
            if f"{kind}_cycle" not in s3:
                continue
            night = {"cycle": s3[f"{kind}_cycle"], "floor": s3[f"{kind}_floor"]}
            what = {
                "quiet": "quiet night",
                "delta": "delta night",
                "history": f"quiet night, {s3.get('paid_share', 0):.0%} of the invoices paid",
            }[kind]
            title = f"S3 {what}, {s3['customers']:,} + {s3['invoices']:,}"
            if s3.get(f"{kind}_pairs"):
                measured = s3[f"{kind}_pairs"]
                title += f" (the median of {len(measured)} pairs: {quiet_pairs(measured)})"
            pairs.append((title, night, s3[kind]))
    s4 = _load(folder, "S4")
    if s4 and "floor" in s4:
        pairs.append((f"S4 first night, {s4['customers']:,} + {s4['invoices']:,}", s4, s4))
    for title, night, compared in pairs:
        cycle, floor = night["cycle"], night["floor"]
        locked = cycle.get("prefect_locked_answers")
        stalls = (
            []
            if locked is None
            else [
                f"Prefect's server refused {locked} of the cycle's requests as \"database is locked\" "
                f"(SQLite; answered 503, each retried after a 2 s client sleep).",
                "",
            ]
        )
        lines += [
            f"#### {title}: {cycle['seconds']:.1f} s / {floor['seconds']:.1f} s = {compared['ratio']}",
            "",
            *breakdown_table(cycle, floor),
            "",
            *stalls,
            *requests_table(cycle["requests"], floor["requests"]),
            "",
        ]
    return lines


def main() -> None:
    """Print the tables of the results folder given (default bench/results)."""
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS
    print("\n".join([*targets(folder), "", *nights(folder)]))


if __name__ == "__main__":
    main()
