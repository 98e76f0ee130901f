"""Run nightly_ar_cycle as its own process, as a deployment's flow run would, and print one JSON line.

``python -m bench.cycle_process CUSTOMERS INVOICES WORK [AS_OF]`` (``ENKASH_*`` and ``PREFECT_API_URL`` set)
prints ``{"seconds", "peak_rss_mib", "failed", "stages", "task_runs", ...}``: the wall time of the
cycle call (imports excluded), the process's peak RSS, the error if the night failed, the seconds of
each stage subflow and the task runs by name and state, as the Prefect server recorded them (so a
retried night's cache hits show as ``Cached``). Used by S1, S3, S4, reminders and the retry case.
"""

from __future__ import annotations

import asyncio
import json
import re
import resource
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

from flows.nightly_ar_cycle import nightly_ar_cycle
from flows.options import CycleOptions

AS_OF = date(2026, 11, 24)
#: The random suffix Prefect adds to a task run's name ("upload-invoices-chunk-4f2").
_RUN_SUFFIX = re.compile(r"-[0-9a-z]{3}$")


def _task_label(name: str) -> str:
    return _RUN_SUFFIX.sub("", name)


async def prefect_record(since: datetime) -> dict[str, Any]:
    """Seconds per flow (the cycle and its stage subflows) and task runs per (name, state) since ``since``."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterStartTime,
        TaskRunFilter,
        TaskRunFilterFlowRunId,
    )

    async with get_client() as client:
        runs = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=since)), limit=200
        )
        flows = {f.id: f.name for f in await client.read_flows(limit=200)}
        stages: dict[str, float] = {}
        for run in runs:
            name = flows.get(run.flow_id, str(run.flow_id))
            if run.start_time and run.end_time:
                seconds = (run.end_time - run.start_time).total_seconds()
                stages[name] = round(stages.get(name, 0.0) + seconds, 3)
        task_runs: Counter[str] = Counter()
        offset = 0
        while runs:
            page = await client.read_task_runs(
                task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=[r.id for r in runs])),
                limit=200,
                offset=offset,
            )
            for task_run in page:
                state = task_run.state.name if task_run.state else "none"
                task_runs[f"{_task_label(task_run.name)} [{state}]"] += 1
            if len(page) < 200:
                break
            offset += 200
    return {"stages": stages, "task_runs": dict(sorted(task_runs.items())), "flow_runs": len(runs)}


def main() -> None:
    """Run one night (``sys.argv``: customers file, invoices file, work folder, night) and print the JSON."""
    customers, invoices, work = sys.argv[1:4]
    as_of = date.fromisoformat(sys.argv[4]) if len(sys.argv) > 4 else AS_OF
    options = CycleOptions(out_dir=f"{work}/out", ledger_path=f"{work}/ledger.sqlite3")
    since = datetime.now(UTC)
    start = time.perf_counter()
    failed = None
    uploaded = None
    try:
        summary = asyncio.run(nightly_ar_cycle(customers, invoices, as_of, options))
        uploaded = summary.invoices_uploaded
    except Exception as exc:  # the retry case makes the night fail on purpose: report, do not crash
        failed = f"{type(exc).__name__}: {str(exc)[:300]}"
    elapsed = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    record = asyncio.run(prefect_record(since))
    result = {
        "seconds": round(elapsed, 3),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "failed": failed,
        "invoices_uploaded": uploaded,
        **record,
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
