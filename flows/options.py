"""Typed flow parameters, so the Prefect UI shows a form and deployments are checked against a schema."""

from datetime import date
from decimal import Decimal
from typing import Final

import polars as pl
from prefect.runtime import flow_run
from pydantic import BaseModel, ConfigDict, Field

from ar_sync.erp_fields import DEFAULT_MAX_INVOICE_AMOUNT, MAX_CEILING
from ar_sync.lifecycle import DEFAULT_MAX_CANCEL_SHARE
from ar_sync.nights import night_of
from ar_sync.reminder_policy import DEFAULT_SCHEDULE, ReminderRule
from ar_sync.results import Origin, RowOutcome, Stage
from ar_sync.run_ledger import DEFAULT_LEDGER_PATH
from tasks.host_limit import DEFAULT_HOST_CONCURRENCY, MAX_HOST_CONCURRENCY


class CycleOptions(BaseModel):
    """How a cycle (or one stage of it) runs. Secrets never appear here: only a block's name.

    In a deployment run, options the run does not set keep the deployment's values.
    """

    model_config = ConfigDict(extra="forbid")

    credentials_block: str | None = Field(
        default=None,
        description="Name of the EnkashCredentials block to use; empty means the ENKASH_* settings.",
    )
    out_dir: str = Field(default="out", description="Folder for summary.json, bulk_results.parquet, reports.")
    ledger_path: str = Field(default=str(DEFAULT_LEDGER_PATH), description="SQLite run ledger file.")
    cache_dir: str | None = Field(
        default=None,
        description="Folder for the validated ERP exports a retried night reuses (they hold the ERP's rows); "
        "default: 'cache' next to the ledger.",
    )
    host_concurrency: int = Field(
        default=DEFAULT_HOST_CONCURRENCY,
        ge=1,
        le=MAX_HOST_CONCURRENCY,
        description="Write tasks (upload chunks, dispatch and reminder batches) in flight at once per EnKash "
        "host, across every cycle on the Prefect server.",
    )
    host_limit: bool = Field(
        default=False,
        description="Each write task also holds a slot of the Prefect global concurrency limit "
        "enkash-ar-host-<host> (shared by every cycle on the server). Off by default: a killed run's "
        "slots come back only when the server's repossessor revokes their leases.",
    )
    chunk_size: int = Field(
        default=5000, ge=1, le=100_000, description="Rows per bulk file (one task run each)."
    )
    rejection_threshold: float = Field(
        default=0.2, ge=0, le=1, description="Fail when more than this share of an input file is rejected."
    )
    dry_run: bool = Field(
        default=False,
        description="Read and plan only: predict, per stage, what a real run would send; send nothing.",
    )
    max_invoice_amount: Decimal = Field(
        default=DEFAULT_MAX_INVOICE_AMOUNT,
        gt=0,
        le=MAX_CEILING,
        decimal_places=2,
        description="Ceiling per invoice (INR): an amount or invoice total above it is rejected.",
    )
    max_cancel_share: float = Field(
        default=DEFAULT_MAX_CANCEL_SHARE,
        ge=0,
        le=1,
        description="Refuse a night that would cancel more than this share of the open invoices (or "
        "deactivate more than this share of the active customers): the export may be truncated.",
    )
    confirm_cancellations: bool = Field(
        default=False,
        description="Confirm a night above max_cancel_share: the invoices and customers really left the ERP.",
    )
    customer_columns: dict[str, str] = Field(
        default_factory=dict, description="ERP customer column -> canonical column, for other ERPs' exports."
    )
    invoice_columns: dict[str, str] = Field(
        default_factory=dict, description="ERP invoice column -> canonical column, for other ERPs' exports."
    )
    reminder_schedule: list[ReminderRule] = Field(
        default_factory=lambda: list(DEFAULT_SCHEDULE),
        description="Reminders every active customer should have (default: 3 days before, on and after due).",
    )
    partial_payment_allowed: bool | None = Field(
        default=None, description="Sent with every dispatch; empty leaves EnKash's default."
    )
    full_read_every_days: float = Field(
        default=7,
        ge=0,
        le=366,
        description="A nightly cycle reads every EnKash invoice at least this often; between, it starts from "
        "the last night's read (kept next to the ledger) and reads only what may have changed. "
        "0: every night.",
    )
    lock_timeout_seconds: float = Field(
        default=1800.0,
        ge=0,
        description="How long a cycle waits for another cycle of the same seller to finish before failing.",
    )


class StageReport(BaseModel):
    """What one run of a stage did: counts only (the rows are in the ledger and bulk_results.parquet)."""

    stage: Stage
    planned: int = 0
    sent: int = 0
    already_present: int = 0
    failed: int = 0
    dry_run: bool = False


#: The column of a :func:`tally` holding how many result rows each line counts.
_TALLY_ROWS: Final = "rows"


def tally(results: pl.DataFrame) -> pl.DataFrame:
    """``results`` counted by stage, outcome and origin: all :func:`stage_report` needs of them. A stage
    of many batches keeps each batch's tally, not its rows (a million dispatches' answers were ~150 MiB
    held to the end of the stage)."""
    return results.group_by("stage", "outcome", "origin").len(_TALLY_ROWS)


def stage_report(stage: Stage, results: pl.DataFrame, planned: int, dry_run: bool) -> StageReport:
    """Count one stage's result rows of this run (``results``: the rows, or their :func:`tally`)."""
    counted = results if _TALLY_ROWS in results.columns else tally(results)
    rows = counted.filter(pl.col("stage") == stage)
    success = pl.col("outcome") == RowOutcome.SUCCESS

    def count(where: pl.Expr) -> int:
        return int(rows.filter(where).get_column(_TALLY_ROWS).sum())

    return StageReport(
        stage=stage,
        planned=planned,
        sent=count(success & (pl.col("origin") == Origin.SENT)),
        already_present=count(success & (pl.col("origin") == Origin.ALREADY_PRESENT)),
        failed=count(pl.col("outcome") == RowOutcome.FAILURE),
        dry_run=dry_run,
    )


def resolve_night(as_of: date | None) -> date:
    """The night this flow run belongs to: ``as_of``, else its scheduled date in Asia/Kolkata."""
    return night_of(as_of, flow_run.scheduled_start_time if flow_run.get_id() else None)
