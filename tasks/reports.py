"""Publish the night's summary: Prefect artifacts and the report files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from ar_sync import summaries
from ar_sync.collection_summary import collections_markdown
from ar_sync.convergence import customer_twins, invoice_twins
from ar_sync.exactly_once import Night
from ar_sync.night_history import night_trend, remember_night
from ar_sync.night_markdown import files_section, rejected_section
from ar_sync.night_payments import night_collections
from ar_sync.night_summary import NightSummary, RejectedInput, StageFailure
from ar_sync.output_files import (
    BULK_RESULTS_FILE,
    PAYMENT_MISMATCHES_FILE,
    PAYMENTS_CSV_FILE,
    PAYMENTS_PARQUET_FILE,
    REJECTED_ROWS_FILE,
    SUMMARY_FILE,
    write_replacing,
)
from ar_sync.receivables import SUMMARY_INVOICE_COLUMNS, credit_sales, open_invoices_frame
from ar_sync.results import empty_results
from ar_sync.run_report import read_rejected, write_run_report
from tasks.connection import run_ledger
from tasks.run_artifacts import publish_link, publish_markdown, publish_table, root_flow_run_id


def _rejected_counts(out_dir: Path) -> dict[str, int]:
    path = out_dir / REJECTED_ROWS_FILE
    if not path.exists():
        return {}
    rejected = pl.read_csv(path, schema_overrides={"row": pl.Int64}, infer_schema=False)
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
    night: date,
    seller_id: str,
    out_dir: str,
    ledger_path: str | None = None,
    dry_run: bool = False,
    planned: Mapping[str, int] | None = None,
    rejected: RejectedInput | None = None,
    stages_failed: Sequence[StageFailure] = (),
) -> NightSummary:
    """Build the night's summary with polars and publish it (artifacts, summary.json, bulk_results.parquet,
    the HTML run report, linked from the artifacts). The night's collections, when its payments stage
    ran, join the summary, and the ERP's credit sales they carry are DSO's denominator.

    The counts are the night's record in the run ledger, over every attempt of the night; the amounts
    are ``enkash_invoices`` (all of the seller's invoices, one copy per invoice number counted: extra
    copies are listed apart). In a dry run nothing was sent, and ``planned`` says what would have been.
    ``rejected`` (from the input stage: counts, top reasons, the report's path) is what the summary says
    about rejected rows; without it (this stage run alone) the counts are read back from the report.
    ``stages_failed``: the night's stages that failed while the others ran; the summary names them.

    Example:
        >>> summary = publish_summary(invoices, customers, night, "CEKSANDBX1", "out")  # doctest: +SKIP
    """
    folder = Path(out_dir)
    if not dry_run:
        # A night whose record was pruned would be summarised as a night that did nothing.
        run_ledger(ledger_path).check_night_kept(seller_id, night.isoformat())
    folder.mkdir(parents=True, exist_ok=True)
    twins = invoice_twins(enkash_invoices)
    # The columns the summary reads, not every column of every invoice (the night's peak of memory).
    keepers = twins.keepers_of(*SUMMARY_INVOICE_COLUMNS)
    open_invoices = open_invoices_frame(keepers, enkash_customers)
    enkash_credit_sales = credit_sales(keepers, night)
    # The keepers' copy goes before the night's record is read: the two are the summary's largest frames.
    del keepers
    twin_ids = twins.to_report.get_column("invoiceId")
    twins_open = open_invoices_frame(
        enkash_invoices.filter(pl.col("invoiceId").is_in(twin_ids.implode())), enkash_customers
    )
    # The night's record goes to bulk_results.parquet first, a page at a time, and every count below is
    # read from that file: the record (two rows per invoice uploaded and dispatched) is never held whole.
    results_file = folder / BULK_RESULTS_FILE
    if dry_run:
        write_replacing(results_file, empty_results().write_parquet)
    else:
        run_ledger(ledger_path).write_night_results(seller_id, night.isoformat(), results_file)
    results = pl.scan_parquet(results_file)
    if rejected is None:
        counts = _rejected_counts(folder)
        report = folder / REJECTED_ROWS_FILE
        rejected = RejectedInput(
            customers=counts.get("customers", 0),
            invoices=counts.get("invoices", 0),
            file=str(report) if report.exists() else None,
        )
    # The payments stage kept the night's collections; their ERP credit sales are DSO's denominator.
    scope = Night(run_ledger(ledger_path), seller_id, night.isoformat())
    collections = None if dry_run else night_collections(scope)
    sales = collections.erp_credit_sales if collections else None
    summary = summaries.build_night_summary(
        results,
        open_invoices,
        night,
        seller_id=seller_id,
        credit_sales=enkash_credit_sales if sales is None else sales,
        invoice_twins=twins.to_report,
        customer_twins=customer_twins(enkash_customers),
        twins_open_amount=float(twins_open["balance_amount"].sum()),
        dry_run=dry_run,
        planned=planned,
        rejected=rejected,
    )
    if collections is not None:
        summary = summary.model_copy(update={"collections": collections.with_rate(summary.open_amount)})
    if stages_failed:
        summary = summary.model_copy(update={"stages_failed": list(stages_failed)})
    # Before summary.json is replaced: the earlier night it holds joins the trend if the ledger lacks it.
    remember_night(run_ledger(ledger_path), summary, left_behind=folder / SUMMARY_FILE)
    (folder / SUMMARY_FILE).write_text(summary.to_json(), encoding="utf-8")
    report = write_run_report(
        folder, summary, trend=night_trend(run_ledger(ledger_path), summary), results=results
    )
    if not dry_run:
        # The night is summarised and its rows are in bulk_results.parquet: older nights' rows can go.
        run_ledger(ledger_path).prune_night_record(seller_id, night.isoformat())

    stage_counts = summaries.stage_counts(results)
    aging = summaries.aging(open_invoices, night)
    top = summaries.top_overdue_customers(open_invoices, night)
    # On the top-level run: the nightly run when this is its ar-summary stage, this run when alone.
    root = root_flow_run_id()
    publish_link(
        report.resolve().as_uri(),
        f"AR run report of {night.isoformat()} ({report.name})",
        key="ar-run-report",
        description=f"The night's HTML report (charts, failures, rejected rows), in {folder.resolve()}",
        on=root,
    )
    publish_markdown(
        summaries.summary_markdown(summary, stage_counts, aging, top)
        + collections_markdown(summary.collections)
        + "\n"
        + rejected_section(read_rejected(folder / REJECTED_ROWS_FILE), folder / REJECTED_ROWS_FILE)
        + "\n"
        + files_section(
            folder,
            [
                report.name,
                SUMMARY_FILE,
                BULK_RESULTS_FILE,
                REJECTED_ROWS_FILE,
                PAYMENTS_CSV_FILE,
                PAYMENTS_PARQUET_FILE,
                PAYMENT_MISMATCHES_FILE,
            ],
        )
        + f"\n**Run report:** [{report.name}]({report.resolve().as_uri()}) in `{folder.resolve()}`\n",
        key="ar-cycle-summary",
        description=f"EnKash AR night {night.isoformat()} of {seller_id}",
        on=root,
    )
    publish_table(
        _table(stage_counts),
        key="ar-stage-results",
        description="Results per stage: sent by this night, already in EnKash, failed",
        on=root,
    )
    publish_table(_table(aging), key="ar-aging", description=f"Open receivables aging as of {night}", on=root)
    publish_table(
        _table(summaries.failure_reasons(results)),
        key="ar-failure-reasons",
        description="Failures by reason",
        on=root,
    )
    return summary
