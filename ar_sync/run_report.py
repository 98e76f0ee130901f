"""The night's run report: one self-contained HTML page a finance lead opens, prints or forwards.

:func:`render_run_report` is a pure function of plain data (the night's ``NightSummary``, the trend of
the nights before it, the night's result rows and the rejected input rows) and returns the page as
text; :func:`write_run_report` reads what it needs from ``out_dir`` and writes the page there.

The page needs no network to be read: the CSS is inlined, the charts are inline SVG, system fonts only.
A Content-Security-Policy forbids scripts and every outside fetch, so even a name that slipped past
escaping could not run or call home. Every text that comes from the ERP or EnKash (customer names,
keys, reasons, cell values) is HTML-escaped, and one a spreadsheet would run as a formula carries a
leading ``'``, as in ``rejected_rows.csv``, because a table copied from the page into Excel is read as
typed input.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from importlib import resources
from pathlib import Path
from typing import Final

import polars as pl

from ar_sync.night_history import TrendPoint
from ar_sync.night_summary import NightSummary
from ar_sync.output_files import REJECTED_ROWS_FILE, run_report_file, write_replacing
from ar_sync.rejections import REJECTED_COLUMNS, REJECTED_SCHEMA
from ar_sync.report_collections import collections_panel
from ar_sync.report_format import erp_text
from ar_sync.report_sections import (
    aging_panel,
    attention_notice,
    dry_run_notice,
    headline,
    masthead,
    trend_panel,
)
from ar_sync.report_tables import (
    MAX_TABLE_ROWS,
    failures_panel,
    overdue_panel,
    rejected_panel,
    stages_panel,
)
from ar_sync.results import empty_results
from ar_sync.summaries import Frame

_CSP: Final = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def render_run_report(
    summary: NightSummary,
    *,
    trend: Sequence[TrendPoint] = (),
    results: Frame | None = None,
    rejected: pl.DataFrame | None = None,
    max_rows: int = MAX_TABLE_ROWS,
) -> str:
    """The night's report as one self-contained HTML page.

    Args:
        summary: the night's summary (headline numbers, aging, twins, top overdue customers).
        trend: the nights to chart, oldest first (``night_history.night_trend``); the night itself is
            added when missing, so an empty trend shows a single point.
        results: the night's result rows (``results.RESULT_SCHEMA``; a lazy frame, e.g. a scan of
            ``bulk_results.parquet``, is read only for what the tables show), for stage results and failures.
        rejected: the rejected input rows (``rejections.REJECTED_SCHEMA``).
        max_rows: rows shown per table of records; the files in out_dir hold them all.

    Example:
        >>> page = render_run_report(NightSummary(seller_id="CEKSANDBX1", as_of=date(2026, 11, 24)))
        >>> page.startswith("<!DOCTYPE html>")
        True
    """
    points = {point.night: point for point in trend}
    points.setdefault(summary.as_of, TrendPoint.of(summary.model_dump(mode="json")))
    ordered = [points[night] for night in sorted(points)]
    results = results if results is not None else empty_results()
    rejected = rejected if rejected is not None else pl.DataFrame(schema=REJECTED_SCHEMA)
    style = resources.files("ar_sync").joinpath("run_report.css").read_text(encoding="utf-8")
    title = f"AR run report · {summary.seller_id} · {summary.as_of.isoformat()}"
    body = "\n".join(
        [
            masthead(summary),
            dry_run_notice(summary),
            attention_notice(summary),
            headline(summary, ordered),
            f'<div class="grid-2">{aging_panel(summary)}\n{trend_panel(ordered)}</div>',
            collections_panel(summary),
            stages_panel(summary, results),
            failures_panel(results, max_rows),
            overdue_panel(summary),
            rejected_panel(rejected, max_rows),
            _footer(summary),
        ]
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>
{style}</style>
</head>
<body>
<main class="report">
{body}
</main>
</body>
</html>
"""


def _footer(summary: NightSummary) -> str:
    return (
        "<footer>Counts cover every attempt of the night (from the run ledger); amounts are what EnKash "
        f"showed open after it. The night's files sit beside this report: <code>summary.json</code>, "
        f"<code>bulk_results.parquet</code>, <code>{REJECTED_ROWS_FILE}</code>. Seller "
        f"{erp_text(summary.seller_id)}, night {summary.as_of.isoformat()}.</footer>"
    )


def read_rejected(path: Path) -> pl.DataFrame:
    """The rejected-rows report at ``path`` (``REJECTED_SCHEMA``), empty when the file is missing.

    Columns are picked by name, so a report that gains a column still reads.
    """
    if not path.is_file():
        return pl.DataFrame(schema=REJECTED_SCHEMA)
    return pl.read_csv(path, infer_schema=False).select(REJECTED_COLUMNS).cast(REJECTED_SCHEMA)


def write_run_report(
    out_dir: str | Path,
    summary: NightSummary,
    *,
    trend: Sequence[TrendPoint] = (),
    results: Frame | None = None,
) -> Path:
    """Write the night's report into ``out_dir`` (name: ``output_files.run_report_file``); return its path.

    The rejected rows are read from the night's ``rejected_rows.csv`` beside it. The page replaces the
    night's earlier report in one step, so a reader never opens half a page.
    """
    folder = Path(out_dir)
    page = render_run_report(
        summary, trend=trend, results=results, rejected=read_rejected(folder / REJECTED_ROWS_FILE)
    )
    target = folder / run_report_file(summary.seller_id, summary.as_of)
    return write_replacing(target, lambda partial: partial.write_text(page, encoding="utf-8"))
