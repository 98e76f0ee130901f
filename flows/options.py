"""Typed flow parameters, so the Prefect UI shows a form and deployments are checked against a schema."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from pydantic import BaseModel, Field

from ar_sync.reminder_policy import DEFAULT_SCHEDULE, ReminderRule
from ar_sync.run_ledger import DEFAULT_LEDGER_PATH


class CycleOptions(BaseModel):
    """How a cycle (or one stage of it) runs. Secrets never appear here: only a block's name."""

    credentials_block: str | None = Field(
        default=None,
        description="Name of the EnkashCredentials block to use; empty means the ENKASH_* settings.",
    )
    out_dir: str = Field(default="out", description="Folder for summary.json, bulk_results.parquet, reports.")
    ledger_path: str = Field(default=str(DEFAULT_LEDGER_PATH), description="SQLite run ledger file.")
    chunk_size: int = Field(
        default=5000, ge=1, le=100_000, description="Rows per bulk file (one task run each)."
    )
    rejection_threshold: float = Field(
        default=0.2, ge=0, le=1, description="Fail when more than this share of an input file is rejected."
    )
    dry_run: bool = Field(
        default=False, description="Read and plan only: report what would be sent, send nothing."
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


class StageReport(BaseModel):
    """What one stage did: counts only (the rows are in its results file)."""

    stage: str
    planned: int = 0
    success: int = 0
    failure: int = 0
    amount: float = 0.0
    results_file: str | None = None
    dry_run: bool = False


def stage_results_path(out_dir: str, stage: str) -> Path:
    """Where a stage writes its bulk-result rows (read back by ar_summary)."""
    return Path(out_dir) / "stages" / f"{stage}.parquet"


def write_stage_results(
    options: CycleOptions, stage: str, results: pl.DataFrame, planned: int
) -> StageReport:
    """Write a stage's results file (even when empty, so a stale file of an earlier night never lingers)."""
    path = stage_results_path(options.out_dir, stage)
    path.parent.mkdir(parents=True, exist_ok=True)
    results.write_parquet(path)
    outcome = results.get_column("outcome") if results.height else pl.Series(dtype=pl.String)
    report = StageReport(
        stage=stage,
        planned=planned,
        success=int((outcome == "success").sum()),
        failure=int((outcome == "failure").sum()),
        amount=float(results.filter(pl.col("outcome") == "success").get_column("amount").sum() or 0.0),
        results_file=str(path),
        dry_run=options.dry_run,
    )
    path.with_suffix(".json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    return report
