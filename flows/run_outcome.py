"""What a run says when it ends, in its own logs and artifacts.

- every stage logs one INFO line with its counts (:func:`finish_stage`), and a stage run alone (not
  inside the nightly cycle) also carries them as a table artifact;
- a night logs its headline counts in the run that holds it (:func:`log_night`);
- a nightly run that stopped before its summary leaves a markdown artifact saying why, naming contract
  drift when that was the cause (:func:`publish_stopped_night`, an ``on_failure`` hook).
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

from prefect.artifacts import MarkdownArtifact
from prefect.logging import get_run_logger
from prefect.runtime import flow_run as current_run

from ar_sync.night_markdown import stopped_night_markdown
from ar_sync.night_summary import NeedsAttentionError, NightSummary, StagesFailedError
from ar_sync.nights import night_of
from enkash_ar.errors import ContractMismatchError
from flows.options import StageReport
from flows.prepare import top_level
from tasks.connection import connection
from tasks.run_artifacts import publish_table


def stage_line(stage: str, reports: Sequence[StageReport], rejected: int | None = None) -> str:
    """One line of a stage's counts, e.g. ``sync-customers: customers_create planned 3, sent 3, ...``."""
    parts = [
        f"{r.stage} planned {r.planned}, sent {r.sent}, already present {r.already_present}, "
        f"failed {r.failed}"
        for r in reports
    ]
    line = f"{stage}: " + "; ".join(parts)
    if rejected is not None:
        line += f"; rejected input rows {rejected}"
    if any(r.dry_run for r in reports):
        line += " (dry run: nothing sent)"
    return line


def finish_stage(reports: list[StageReport], rejected: int | None = None) -> list[StageReport]:
    """Log the stage's counts (one INFO line); run alone, also publish them as a table. Returns ``reports``.

    ``rejected``: the input rows the stage's ERP file lost to validation (None for stages that read no file).
    """
    name = current_run.flow_name or "stage"
    get_run_logger().info(stage_line(name, reports, rejected))
    if top_level() and current_run.get_id():
        publish_table(
            [r.model_dump(mode="json") for r in reports],
            key=f"ar-stage-{name}",
            description=f"What this {name} run did: planned, sent, already in EnKash, failed",
        )
    return reports


def night_line(summary: NightSummary) -> str:
    """The night's headline counts and what is owed, in one line."""
    counts = ", ".join(f"{name} {value}" for name, value in summary.counts().items())
    dry = " (dry run: nothing sent)" if summary.dry_run else ""
    return (
        f"Night {summary.as_of.isoformat()} of {summary.seller_id}{dry}: {counts}; "
        f"open {summary.open_invoices} invoices, {summary.open_amount:,.2f} INR"
    )


def log_night(summary: NightSummary) -> NightSummary:
    """Log the night's headline (one INFO line) in the current run; returns ``summary``."""
    get_run_logger().info(night_line(summary))
    return summary


async def publish_stopped_night(flow: Any, flow_run: Any, state: Any) -> None:
    """``on_failure`` hook: a night that failed before publishing its summary says why on its run.

    A night that failed only because something needs a person (twins), or because a stage failed while
    the others ran, has published its summary already, which says so; it is left as it is.
    """
    error = await state.aresult(raise_on_failure=False)
    if isinstance(error, NeedsAttentionError | StagesFailedError):
        return
    reason = str(error) if isinstance(error, BaseException) else (state.message or state.name)
    parameters = flow_run.parameters or {}
    # The run's parameters as the API holds them: JSON (a date as text, options as a mapping).
    as_of = parameters.get("as_of")
    night = night_of(date.fromisoformat(str(as_of)) if as_of else None, flow_run.expected_start_time)
    try:
        options = parameters.get("options") or {}
        block = options.get("credentials_block") if isinstance(options, dict) else options.credentials_block
        seller = connection(block).seller_id
    except Exception:  # the connection itself may be what failed: the note still goes out
        seller = "the seller"
    drift = isinstance(error, ContractMismatchError)
    await MarkdownArtifact(
        markdown=stopped_night_markdown(seller, night, reason, drift=drift),
        key="ar-cycle-summary",
        description=f"EnKash AR night {night.isoformat()}: stopped" + (" on contract drift" if drift else ""),
        flow_run_id=flow_run.id,
    ).acreate()
