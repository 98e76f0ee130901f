"""Publish the night's summary: Prefect artifacts and the report files."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from ar_sync import summaries
from ar_sync.exactly_once import RESULT_SCHEMA
from ar_sync.receivables import credit_sales, open_invoices_frame

SUMMARY_FILE = "summary.json"
BULK_RESULTS_FILE = "bulk_results.parquet"
REJECTED_ROWS_FILE = "rejected_rows.csv"
#: Nightly runs are scheduled in India; "today" means today there.
TIMEZONE = ZoneInfo("Asia/Kolkata")


def today() -> date:
    """Today's date in Asia/Kolkata."""
    return datetime.now(TIMEZONE).date()


def _bulk_results(out_dir: Path) -> pl.DataFrame:
    files = sorted((out_dir / "stages").glob("*.parquet"))
    frames = [pl.read_parquet(f) for f in files]
    return pl.concat([pl.DataFrame(schema=RESULT_SCHEMA), *frames], how="vertical_relaxed")


def _rejected_counts(out_dir: Path) -> dict[str, int]:
    path = out_dir / REJECTED_ROWS_FILE
    if not path.exists():
        return {}
    rejected = pl.read_csv(path, schema_overrides={"row": pl.Int64, "value": pl.String})
    counts = rejected.group_by("entity").agg(pl.struct("file", "row").n_unique().alias("rows"))
    return dict(zip(counts["entity"].to_list(), counts["rows"].to_list(), strict=True))


def _table(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()} for row in frame.to_dicts()
    ]


@task(name="publish-summary", cache_policy=NO_CACHE)
def publish_summary(
    enkash_invoices: pl.DataFrame,
    enkash_customers: pl.DataFrame,
    as_of: date | None,
    out_dir: str,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Build the summary with polars and publish it (artifacts, summary.json, bulk_results.parquet).

    ``enkash_invoices`` are all of the seller's invoices: the open ones are aged, and those invoiced in
    the last 90 days are DSO's credit sales.

    Example:
        >>> summary = publish_summary(open_invoices, customers, date(2026, 11, 24), "out")  # doctest: +SKIP
    """
    as_of = as_of or today()
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    results = _bulk_results(folder)
    open_invoices = open_invoices_frame(enkash_invoices, enkash_customers)
    rejected = _rejected_counts(folder)
    summary = summaries.build_summary(
        results,
        open_invoices,
        as_of,
        customers_rejected=rejected.get("customers", 0),
        invoices_rejected=rejected.get("invoices", 0),
        credit_sales=credit_sales(enkash_invoices, as_of),
    )
    summary["dry_run"] = dry_run
    if dry_run:
        summary["planned"] = _planned(folder)
    results.write_parquet(folder / BULK_RESULTS_FILE)
    (folder / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    stage_counts = summaries.stage_counts(results)
    aging = summaries.aging(open_invoices, as_of)
    top = summaries.top_overdue_customers(open_invoices, as_of)
    create_markdown_artifact(
        summaries.summary_markdown(summary, stage_counts, aging, top),
        key="ar-cycle-summary",
        description=f"EnKash AR cycle as of {as_of.isoformat()}",
        _sync=True,  # type: ignore[call-arg]
    )
    create_table_artifact(
        _table(stage_counts),
        key="ar-stage-results",
        description="Bulk results per stage",
        _sync=True,  # type: ignore[call-arg]
    )
    create_table_artifact(
        _table(aging),
        key="ar-aging",
        description=f"Open receivables aging as of {as_of}",
        _sync=True,  # type: ignore[call-arg]
    )
    create_table_artifact(
        _table(summaries.failure_reasons(results)),
        key="ar-failure-reasons",
        description="Failures by reason",
        _sync=True,  # type: ignore[call-arg]
    )
    return summary


def _planned(folder: Path) -> dict[str, int]:
    """In a dry run, how many rows each stage would have sent (from the stage reports)."""
    reports = [json.loads(p.read_text()) for p in sorted((folder / "stages").glob("*.json"))]
    return {report["stage"]: int(report["planned"]) for report in reports}
