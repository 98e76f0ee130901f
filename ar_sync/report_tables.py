"""The tables of the run report: stage results, failures, customers owing most, rejected input rows."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Final

import polars as pl

from ar_sync import summaries
from ar_sync.night_summary import NightSummary
from ar_sync.output_files import REJECTED_ROWS_FILE
from ar_sync.report_format import erp_text, grouped, more_rows, plural, table
from ar_sync.results import RowOutcome, Stage
from ar_sync.summaries import Frame

#: Rows shown per table of records (failed rows, rejected rows); the files in out_dir hold them all.
MAX_TABLE_ROWS: Final = 200
STAGE_NAMES: Final = {
    Stage.CUSTOMERS_CREATE: "Customers created",
    Stage.CUSTOMERS_UPDATE: "Customers updated",
    Stage.INVOICES_UPLOAD: "Invoices uploaded",
    Stage.INVOICES_UPDATE: "Invoices updated",
    Stage.INVOICES_DEDUPLICATE: "Invoice twins removed",
    Stage.INVOICES_DISPATCH: "Invoices dispatched",
    Stage.PAYMENTS_EXPORT: "Payments exported to the ERP",
    Stage.REMINDERS: "Reminder schedules set",
    Stage.REMINDERS_DEDUPLICATE: "Duplicate reminders removed",
}


def _stage_name(stage: str) -> str:
    try:
        return STAGE_NAMES[Stage(stage)]
    except (ValueError, KeyError):
        return stage.replace("_", " ").capitalize()


def stages_panel(summary: NightSummary, results: Frame) -> str:
    """Per stage: sent tonight, already in EnKash, failed, amount sent (and planned in a dry run)."""
    counts = summaries.stage_counts(results)
    planned = summary.planned
    headers = [("Stage", False)]
    headers += [("Would send", True)] if planned is not None else []
    headers += [("Sent tonight", True), ("Already in EnKash", True), ("Failed", True), ("Amount sent", True)]
    rows = []
    for row in counts.iter_rows(named=True):
        cells = [escape(_stage_name(row["stage"]))]
        cells += [grouped(planned.get(row["stage"], 0))] if planned is not None else []
        failed = grouped(row["failure"])
        cells += [
            grouped(row["sent"]),
            grouped(row["already_present"]),
            f'<td class="num fail">{failed}</td>' if row["failure"] else failed,
            summaries.format_inr(row["sent_amount"]) if row["sent_amount"] else "&ndash;",
        ]
        rows.append(cells)
    return (
        '<section class="panel"><h2>Stage results</h2><p class="caption">Every attempt of the night counted '
        "once per record: sent by this night, found already in EnKash, or refused.</p>"
        + table(headers, rows, css_class="stages")
        + "</section>"
    )


def failures_panel(results: Frame, max_rows: int) -> str:
    """Failures by reason, then the failed records with their keys (the first ``max_rows``)."""
    reasons = summaries.failure_reasons(results)
    if reasons.is_empty():
        return (
            '<section class="panel"><h2>Failures</h2><p class="empty">Nothing failed tonight.</p></section>'
        )
    failed = results.lazy().filter(pl.col("outcome") == RowOutcome.FAILURE).sort("stage", "key").collect()
    by_reason = table(
        [("Stage", False), ("Reason", False), ("Records", True), ("Amount", True)],
        (
            (
                escape(_stage_name(r["stage"])),
                f'<td class="reason">{erp_text(r["reason"])}</td>',
                grouped(r["count"]),
                summaries.format_inr(r["amount"]),
            )
            for r in reasons.iter_rows(named=True)
        ),
        css_class="failure-reasons",
    )
    rows = table(
        [("Stage", False), ("Key", False), ("Reason", False), ("Amount", True)],
        (
            (
                escape(_stage_name(r["stage"])),
                f'<td class="key">{erp_text(r["key"])}</td>',
                f'<td class="reason">{erp_text(r["reason"] or "(no reason given)")}</td>',
                summaries.format_inr(r["amount"] or 0.0),
            )
            for r in failed.head(max_rows).iter_rows(named=True)
        ),
        css_class="failed-rows",
    )
    return (
        '<section class="panel table-panel"><h2>Failures</h2><h3>By reason</h3>'
        f"{by_reason}<h3>Failed records</h3>{rows}"
        + more_rows(min(max_rows, failed.height), failed.height, "<code>bulk_results.parquet</code>")
        + "</section>"
    )


def overdue_panel(summary: NightSummary) -> str:
    """The customers owing most past due (``NightSummary.top_overdue``)."""
    if not summary.top_overdue:
        body = '<p class="empty">Nothing is overdue.</p>'
    else:
        body = table(
            [
                ("Customer", False),
                ("customer_ref", False),
                ("Overdue", True),
                ("Invoices", True),
                ("Oldest (days past due)", True),
            ],
            (
                (
                    erp_text(c.customer_name or "(no name)"),
                    f'<td class="key">{erp_text(c.customer_ref)}</td>',
                    summaries.format_inr(c.overdue_amount),
                    grouped(c.invoices),
                    grouped(c.oldest_days_past_due),
                )
                for c in summary.top_overdue
            ),
            css_class="top-overdue",
        )
    return f'<section class="panel"><h2>Customers owing most past due</h2>{body}</section>'


def rejected_panel(rejected: pl.DataFrame, max_rows: int) -> str:
    """The rejected input rows with their keys and reasons (the first ``max_rows``)."""
    title = "<h2>Rejected input rows</h2>"
    if rejected.is_empty():
        return f'<section class="panel">{title}<p class="empty">No ERP row was rejected.</p></section>'
    per_entity = ", ".join(
        f"{escape(entity)}: {grouped(n)}"
        for entity, n in rejected.group_by("entity").len().sort("entity").iter_rows()
    )
    rows = table(
        [
            ("Entity", False),
            ("File", False),
            ("Row", True),
            ("Key", False),
            ("Column", False),
            ("Reason", False),
            ("Value", False),
        ],
        (
            (
                erp_text(r["entity"]),
                f'<td title="{erp_text(r["file"])}">{erp_text(Path(str(r["file"] or "")).name)}</td>',
                grouped(r["row"]) if r["row"] is not None else "",
                f'<td class="key">{erp_text(r["key"])}</td>',
                erp_text(r["column"]),
                f'<td class="reason">{erp_text(r["reason"])}</td>',
                f'<td class="reason">{erp_text(r["value"])}</td>',
            )
            for r in rejected.head(max_rows).iter_rows(named=True)
        ),
        css_class="rejected-rows",
    )
    return (
        f'<section class="panel table-panel">{title}<p class="caption">{plural(rejected.height, "record")} '
        f"({per_entity}) were not sent: fix them in the ERP and the next night sends them.</p>{rows}"
        f"{more_rows(min(max_rows, rejected.height), rejected.height, f'<code>{REJECTED_ROWS_FILE}</code>')}"
        "</section>"
    )
