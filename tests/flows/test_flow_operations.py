"""What an operator sees of a night in Prefect, read back through the API of a real Prefect server:
the project's log lines in the runs that wrote them (also from the reminder pool's threads), one
count line per stage, the summary artifacts on the nightly run itself, the stages' progress.

One small night serves every check, started the way a notebook does (the synchronous entry point,
called while an event loop runs), so the end-to-end cost is one cycle.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from prefect import tags
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterTags,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.client.schemas.objects import Artifact, FlowRun, Log, TaskRun
from prefect.logging.handlers import APILogHandler
from prefect.states import State

from ar_sync.erp_input import load_customers, load_invoices
from ar_sync.night_summary import NightSummary
from enkash_ar.alternative_profiles import named_profile
from flows.entry_points import run_nightly_cycle
from flows.nightly_ar_cycle import nightly_ar_cycle
from flows.options import CycleOptions
from sandbox.sample_data import generate_erp_files
from sandbox.server import RunningSandbox, SandboxConfig, running_sandbox
from tasks.connection import close_all
from tests.flows.night_helpers import night_markdown
from tests.loopback import http

AS_OF = date(2026, 11, 24)


@dataclass
class Night:
    """One night as Prefect recorded it: its runs, their logs and artifacts."""

    summary: NightSummary
    options: CycleOptions
    nightly: FlowRun
    stages: dict[str, FlowRun]
    task_runs: list[TaskRun]
    logs: list[Log]
    artifacts: list[Artifact]
    rejected_rows: int

    def logs_of(self, run: FlowRun) -> list[Log]:
        """The log records of one flow run (its own and its task runs')."""
        return [log for log in self.logs if log.flow_run_id == run.id]

    def artifacts_of(self, run: FlowRun) -> dict[str, Artifact]:
        """The artifacts on one flow run, by key."""
        return {a.key: a for a in self.artifacts if a.flow_run_id == run.id and a.key}


def _read_night(tag: str, summary: NightSummary, options: CycleOptions, rejected: int) -> Night:
    # Log records travel in batches: send what is still queued before reading.
    APILogHandler().flush()
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[tag])))
        ids = [run.id for run in runs]
        task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[tag])))
        logs: list[Log] = []
        while page := client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids)), limit=200, offset=len(logs)
        ):
            logs += page
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=ids))
        )
    [nightly] = [run for run in runs if run.parent_task_run_id is None]
    flow_names = {run.flow_id: run for run in runs}
    with get_client(sync_client=True) as client:
        stages = {client.read_flow(flow_id).name: run for flow_id, run in flow_names.items()}
    return Night(summary, options, nightly, stages, task_runs, logs, artifacts, rejected)


@pytest.fixture(scope="module")
def night(sandbox_server: RunningSandbox, prefect_server: None, tmp_path_factory: Any) -> Iterator[Night]:
    """A night of 10 customers and 30 invoices (one rejected), run from a running event loop.

    Module-scoped: every test of this file reads the same night, so it runs once.
    """
    tmp_path = tmp_path_factory.mktemp("operations")
    customers, invoices = generate_erp_files(tmp_path / "erp", customers=10, invoices=30, seed=7, as_of=AS_OF)
    known = load_customers(customers)
    loaded = load_invoices(invoices, known_customer_refs=known.valid["customer_ref"])
    base = sandbox_server.base_url
    http.post(f"{base}/_sandbox/reset").raise_for_status()
    # Lost reminder creates make the reminder pool read the customer's reminders, and failed reads make
    # the SDK retry (INFO lines written in the pool's threads); lost bulk uploads make the engine
    # reconcile (WARNING lines written in the chunk's task run).
    http.post(
        f"{base}/_sandbox/faults",
        json={
            "error_500": 0.25,
            "drop": 0.25,
            "seed": 3,
            "operations": ["createCustomerReminder", "getCustomerReminders", "invoiceBulkUpload"],
        },
    ).raise_for_status()
    options = CycleOptions(
        out_dir=str(tmp_path / "out"), ledger_path=str(tmp_path / "ledger.sqlite3"), chunk_size=10
    )
    tag = f"ops-{uuid.uuid4().hex[:8]}"

    async def notebook_cell() -> NightSummary:
        # As in Jupyter: a loop runs in this thread, and the cell calls the synchronous entry point.
        with tags(tag):
            return run_nightly_cycle(str(customers), str(invoices), AS_OF, options)

    with pytest.MonkeyPatch.context() as env:
        for name, value in {**sandbox_server.enkash_env(), "ENKASH_MAX_RETRIES": "6"}.items():
            env.setenv(name, value)
        try:
            summary = asyncio.run(notebook_cell())
        finally:
            close_all()
            http.post(f"{base}/_sandbox/reset").raise_for_status()
    yield _read_night(tag, summary, options, known.rejected_rows + loaded.rejected_rows)


def test_project_log_lines_land_in_the_runs_that_wrote_them_at_their_level(night: Night) -> None:
    tasks = {t.id: t.name for t in night.task_runs}
    retries = [log for log in night.logs if log.name == "enkash_ar" and "getCustomerReminders" in log.message]
    # Written in the reminder pool's threads (and by the read of the new customers' reminders), filed
    # under the task run that made the call, as INFO.
    assert retries, "the SDK's retry lines never reached Prefect"
    writers = {
        re.sub(r"-chunk.*|-[0-9a-f]{3}$", "", tasks[log.task_run_id]) for log in retries if log.task_run_id
    }
    assert "ensure-reminders" in writers and writers <= {"ensure-reminders", "read-customer-reminders"}
    assert all(log.task_run_id for log in retries)
    assert {log.level for log in retries} == {20} and all(" retry " in log.message for log in retries)
    reconciled = [log for log in night.logs if log.name == "ar_sync.exactly_once"]
    assert reconciled, "the engine's reconciliation lines never reached Prefect"
    assert {log.level for log in reconciled} == {30}
    assert all(log.message.startswith("invoiceBulkUpload: ") for log in reconciled)
    assert {tasks[log.task_run_id] for log in reconciled if log.task_run_id} <= {
        name for name in tasks.values() if name.startswith("upload-invoices-chunk")
    }
    # Nothing was sent twice for all that: the night uploaded each invoice once.
    assert night.summary.invoices_uploaded == night.summary.invoices_dispatched == 29


def test_each_stage_logs_one_line_of_counts_and_the_night_its_headline(night: Night) -> None:
    summary = night.summary
    created, uploaded = summary.customers_created, summary.invoices_uploaded
    expected = {
        "sync-customers": f"customers_create planned {created}, sent {created}",
        "upload-invoices": f"invoices_upload planned {uploaded}, sent {uploaded}",
        "dispatch-invoices": f"invoices_dispatch planned {summary.invoices_dispatched}",
        "setup-reminders": f"reminders planned {summary.reminders_set}, sent {summary.reminders_set}",
    }
    for stage, counts in expected.items():
        lines = [log for log in night.logs_of(night.stages[stage]) if log.message.startswith(f"{stage}: ")]
        assert len(lines) == 1, f"{stage} logged {len(lines)} count lines"
        assert counts in lines[0].message and lines[0].level == 20
    upload_line = next(
        log.message
        for log in night.logs_of(night.stages["upload-invoices"])
        if log.message.startswith("upload")
    )
    assert f"rejected input rows {summary.invoices_rejected}" in upload_line
    headline = [log for log in night.logs_of(night.nightly) if log.message.startswith("Night 2026-11-24 of")]
    assert len(headline) == 1 and f"invoices_uploaded {summary.invoices_uploaded}" in headline[0].message


def test_the_nightly_run_carries_the_summary_tables_and_report_link(night: Night) -> None:
    on_nightly = night.artifacts_of(night.nightly)
    assert {"ar-cycle-summary", "ar-stage-results", "ar-aging", "ar-failure-reasons", "ar-run-report"} <= set(
        on_nightly
    )
    assert not night.artifacts_of(night.stages["ar-summary"]), "the summary stage keeps none for itself"
    markdown = str(on_nightly["ar-cycle-summary"].data)
    out = Path(night.options.out_dir).resolve()
    assert f"**{night.rejected_rows} rows rejected**" in markdown
    assert "must be at least 0.1" in markdown or "not a" in markdown  # a top reason, as the loader words it
    assert f"in `{out}`" in markdown
    for name in ("rejected_rows.csv", "summary.json", "bulk_results.parquet"):
        assert f"({(out / name).as_uri()})" in markdown
    assert "ar-report-" in str(on_nightly["ar-run-report"].data)


def test_long_stages_publish_their_progress(night: Night) -> None:
    uploads = night.artifacts_of(night.stages["upload-invoices"])["ar-progress-invoices-upload"]
    reminders = night.artifacts_of(night.stages["setup-reminders"])["ar-progress-reminders"]
    dispatches = night.artifacts_of(night.stages["dispatch-invoices"])["ar-progress-invoices-dispatch"]
    assert uploads.type == "progress" and float(str(uploads.data)) == 100.0
    uploaded = night.summary.invoices_uploaded
    assert f"{uploaded:,} of {uploaded:,} rows done" in str(uploads.description)
    assert float(str(reminders.data)) == float(str(dispatches.data)) == 100.0


def test_a_night_stopped_by_contract_drift_says_so_on_its_run(
    prefect_server: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # This EnKash pages its searches as Spring pages; the shipped profile expects plain lists.
    drifted = named_profile("spring-page")
    assert drifted is not None
    customers, invoices = generate_erp_files(tmp_path / "erp", customers=3, invoices=4, seed=2, as_of=AS_OF)
    options = CycleOptions(out_dir=str(tmp_path / "out"), ledger_path=str(tmp_path / "ledger.sqlite3"))
    with running_sandbox(replace(SandboxConfig(), profile=drifted)) as drifting:
        for name, value in drifting.enkash_env().items():
            monkeypatch.setenv(name, value)
        try:
            state: State[Any] = asyncio.run(
                nightly_ar_cycle(str(customers), str(invoices), AS_OF, options, return_state=True)  # type: ignore[arg-type]
            )
        finally:
            close_all()

    assert state.is_failed()
    markdown = night_markdown(state.state_details.flow_run_id)
    assert "2026-11-24: the night stopped" in markdown and "CEKSANDBX1" in markdown
    assert "## Contract drift" in markdown and "enkash-ar doctor" in markdown
    assert "search" in markdown  # the reason names what answered otherwise
