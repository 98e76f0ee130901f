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

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from html import escape
from importlib import resources
from pathlib import Path
from typing import Final

import polars as pl

from ar_sync import summaries
from ar_sync.csv_safety import escape_formula
from ar_sync.night_history import TrendPoint
from ar_sync.night_summary import NightSummary
from ar_sync.output_files import REJECTED_ROWS_FILE, run_report_file
from ar_sync.rejections import REJECTED_COLUMNS, REJECTED_SCHEMA
from ar_sync.report_charts import Bar, Point, bar_chart, line_chart
from ar_sync.results import RowOutcome, Stage, empty_results

#: Rows shown per table of records (failed rows, rejected rows); the files in out_dir hold them all.
MAX_TABLE_ROWS: Final = 200
_CSP: Final = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STAGE_NAMES: Final = {
    Stage.CUSTOMERS_CREATE: "Customers created",
    Stage.CUSTOMERS_UPDATE: "Customers updated",
    Stage.INVOICES_UPLOAD: "Invoices uploaded",
    Stage.INVOICES_UPDATE: "Invoices updated",
    Stage.INVOICES_DEDUPLICATE: "Invoice twins removed",
    Stage.INVOICES_DISPATCH: "Invoices dispatched",
    Stage.REMINDERS: "Reminder schedules set",
    Stage.REMINDERS_DEDUPLICATE: "Duplicate reminders removed",
}
#: Aging bucket: its label and the bar's tone, from current to the oldest.
AGING_LABELS: Final = {
    "current": ("Current", "current"),
    "1-30": ("1\u201330 days", "early"),
    "31-60": ("31\u201360 days", "late"),
    "61-90": ("61\u201390 days", "later"),
    "90+": ("Over 90 days", "latest"),
}


def _text(value: object) -> str:
    """Text from the ERP or EnKash, safe in HTML and when pasted into a spreadsheet."""
    return escape(escape_formula(str(value)) or "") if value is not None else ""


def _count(value: int) -> str:
    """A count grouped the Indian way (1,00,000), the grouping of ``format_inr`` without the rupee."""
    return summaries.format_inr(value).removeprefix("₹").removesuffix(".00")


def _plural(count: int, word: str) -> str:
    """``1 night``, ``2 nights``: the count grouped the Indian way."""
    return f"{_count(count)} {word}{'' if count == 1 else 's'}"


def _days(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f} days"


def _day(night: date) -> str:
    return night.strftime("%d %b %Y").lstrip("0")


def _rupees(amount: float) -> str:
    """A headline amount in whole rupees (₹23,45,679): paise only clutter a headline."""
    # Half a rupee rounds up, as on an invoice; round() would round it to even.
    whole = Decimal(str(amount)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return summaries.format_inr(float(whole)).removesuffix(".00")


def _compact_inr(amount: float) -> str:
    """Axis labels: crores and lakhs, as Indian finance reads large amounts (₹1.2 Cr, ₹45 L)."""
    for size, unit in ((1e7, "Cr"), (1e5, "L")):
        if abs(amount) >= size:
            return f"₹{amount / size:.3g} {unit}"
    return _rupees(amount)


def _table(
    headers: Sequence[tuple[str, bool]], rows: Iterable[Sequence[str]], *, css_class: str = "", foot: str = ""
) -> str:
    """A table; ``headers`` are ``(title, numeric)``; cells are HTML already (callers escape)."""
    numeric = [is_num for _, is_num in headers]
    head = "".join(f'<th class="num">{title}</th>' if num else f"<th>{title}</th>" for title, num in headers)
    body = "\n".join(
        "<tr>"
        + "".join(
            cell
            if cell.startswith("<td")
            else (f'<td class="num">{cell}</td>' if num else f"<td>{cell}</td>")
            for cell, num in zip(row, numeric, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    attrs = f' class="{css_class}"' if css_class else ""
    return f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody>{foot}</table>"


def _more(shown: int, total: int, where: str) -> str:
    if total <= shown:
        return ""
    return f'<p class="more">Showing {_count(shown)} of {_count(total)}; all of them are in {where}.</p>'


def _status(summary: NightSummary) -> str:
    exceptions = _failed(summary) + summary.customers_rejected + summary.invoices_rejected
    if summary.attention():
        pill = '<span class="status bad">Needs attention</span>'
    elif exceptions:
        pill = '<span class="status warn">Completed with exceptions</span>'
    else:
        pill = '<span class="status good">All in order</span>'
    return pill + ('<span class="status dry">Dry run</span>' if summary.dry_run else "")


def _failed(summary: NightSummary) -> int:
    return (
        summary.customers_failed
        + summary.invoices_failed
        + summary.dispatch_failed
        + summary.reminders_failed
    )


def _masthead(summary: NightSummary) -> str:
    return f"""<header class="masthead">
<div><p class="eyebrow">Accounts receivable · nightly run report</p>
<h1>Seller {_text(summary.seller_id)}</h1></div>
<div class="night"><span class="label">Night of</span>
<time datetime="{summary.as_of.isoformat()}">{_day(summary.as_of)}</time><br>{_status(summary)}</div>
</header>"""


def _attention(summary: NightSummary) -> str:
    notes = summary.attention()
    if not notes:
        return ""
    parts = [
        '<section class="notice bad" id="attention" role="alert"><h2>Needs attention</h2><ul>',
        *(f"<li>{escape(note)}</li>" for note in notes),
        "</ul>",
    ]
    if summary.twins_open_amount:
        parts.append(
            f"<p>{summaries.format_inr(summary.twins_open_amount)} is open on the extra copies and is not "
            "counted in the open amount below.</p>"
        )
    if summary.invoice_twins:
        parts.append(
            _table(
                [
                    ("Invoice number", False),
                    ("Extra copy", False),
                    ("Copy kept", False),
                    ("Why not removed", False),
                ],
                (
                    (_text(t.invoice_number), _text(t.invoice_id), _text(t.keeper_id), _text(t.reason))
                    for t in summary.invoice_twins
                ),
                css_class="invoice-twins",
            )
        )
    if summary.customer_twins:
        parts.append(
            _table(
                [("customer_ref", False), ("EnKash customers holding it (first one used)", False)],
                ((_text(t.customer_ref), _text(", ".join(t.customer_ids))) for t in summary.customer_twins),
                css_class="customer-twins",
            )
        )
    parts.append("</section>")
    return "\n".join(parts)


def _dry_run_notice(summary: NightSummary) -> str:
    if not summary.dry_run:
        return ""
    return (
        '<section class="notice dry"><h2>Dry run</h2><p>Nothing was sent to EnKash. The stage table shows '
        "what the night would have sent; the amounts owed are what EnKash holds now.</p></section>"
    )


def _delta(current: float | None, before: float | None, since: date | None, unit: str) -> str:
    """The change since the night before; a rise of what is owed reads as bad, a fall as good."""
    if current is None or before is None or since is None:
        return ""
    change = current - before
    when = f"since {since.strftime('%d %b')}"
    if abs(change) < 0.005:
        return f'<span class="delta flat">no change {when}</span>'
    shown = _rupees(abs(change)) if unit == "inr" else f"{abs(change):,.1f} days"
    arrow, tone = ("▲", "up-bad") if change > 0 else ("▼", "down-good")
    return f'<span class="delta {tone}">{arrow} {shown} {when}</span>'


def _kpi(label: str, value: str, detail: str, *, bad: bool = False, key: str) -> str:
    tone = " bad" if bad else ""
    return (
        f'<div class="kpi{tone}" data-kpi="{key}"><div class="label">{label}</div>'
        f'<div class="value">{value}</div><div class="detail">{detail}</div></div>'
    )


def _kpis(summary: NightSummary, trend: Sequence[TrendPoint]) -> str:
    earlier = [point for point in trend if point.night < summary.as_of]
    previous = earlier[-1] if earlier else None
    overdue = sum(amount for bucket, amount in summary.aging.items() if bucket != "current")
    share = f"{overdue / summary.open_amount:.0%} of open" if summary.open_amount > 0 else "nothing open"
    failed = _failed(summary)
    rejected = summary.customers_rejected + summary.invoices_rejected
    since = previous.night if previous else None
    open_delta = _delta(summary.open_amount, previous.open_amount if previous else None, since, "inr")
    dso_delta = _delta(summary.dso, previous.dso if previous else None, since, "days")
    cards = [
        _kpi(
            "Open receivables",
            _rupees(summary.open_amount),
            f"{_plural(summary.open_invoices, 'open invoice')}<br>{open_delta}",
            key="open",
        ),
        _kpi("Overdue", _rupees(overdue), share, key="overdue"),
        _kpi("DSO", _days(summary.dso), f"over 90 days<br>{dso_delta}", key="dso"),
        _kpi(
            "Invoices uploaded",
            _count(summary.invoices_uploaded),
            f"{_count(summary.invoices_dispatched)} dispatched · {_count(summary.invoices_updated)} updated",
            key="invoices",
        ),
        _kpi(
            "Customers created",
            _count(summary.customers_created),
            f"{_count(summary.customers_updated)} updated · {_count(summary.reminders_set)} reminders set",
            key="customers",
        ),
        _kpi(
            "Failed",
            _count(failed),
            f"{_plural(rejected, 'input row')} rejected",
            bad=failed > 0 or bool(summary.attention()),
            key="failed",
        ),
    ]
    return '<section class="kpis">\n' + "\n".join(cards) + "\n</section>"


def _aging_panel(summary: NightSummary) -> str:
    total = sum(summary.aging.values())
    bars = []
    for bucket in summaries.AGING_BUCKETS:
        amount = summary.aging.get(bucket, 0.0)
        label, tone = AGING_LABELS[bucket]
        bars.append(
            Bar(
                key=bucket,
                label=label,
                value=amount,
                value_label=summaries.format_inr(amount),
                note=f"{amount / total:.0%}" if total > 0 else "",
                tone=tone,
            )
        )
    chart = bar_chart(bars, chart_id="aging-chart", title="Open balance by days past due", height=400)
    return (
        '<section class="panel"><h2>Aging</h2>'
        f'<p class="caption">Open balance by days past due on {_day(summary.as_of)}; '
        f"share of the open amount under each bar.</p>{chart}</section>"
    )


def _trend_panel(trend: Sequence[TrendPoint]) -> str:
    amounts = [
        Point(p.night, p.open_amount, summaries.format_inr(p.open_amount), _compact_inr(p.open_amount))
        for p in trend
    ]
    dso = [Point(p.night, p.dso, f"{p.dso:.1f}") for p in trend if p.dso is not None]
    nights = len(trend)
    caption = (
        "The first night on record: the trend grows by one point per night."
        if nights == 1
        else f"The last {nights} nights on record, up to this one."
    )
    dso_chart = (
        line_chart(
            dso, chart_id="dso-chart", title="DSO over the last nights", tick_label=lambda v: f"{v:.0f} d"
        ).replace('class="chart line-chart"', 'class="chart line-chart dso-chart"', 1)
        if dso
        else '<p class="empty">No DSO yet: no credit sales in the period.</p>'
    )
    skipped = nights - len(dso)
    note = (
        f'<p class="more">{_plural(skipped, "night")} without a DSO (no credit sales) left out.</p>'
        if skipped
        else ""
    )
    return (
        '<section class="panel trend"><h2>Trend</h2>'
        f'<p class="caption">{caption}</p><h3>Open receivables</h3>'
        + line_chart(
            amounts,
            chart_id="open-trend-chart",
            title="Open receivables over the last nights",
            tick_label=_compact_inr,
        )
        + f"<h3>DSO (days)</h3>{dso_chart}{note}</section>"
    )


def _stage_name(stage: str) -> str:
    try:
        return STAGE_NAMES[Stage(stage)]
    except (ValueError, KeyError):
        return stage.replace("_", " ").capitalize()


def _stages_panel(summary: NightSummary, results: pl.DataFrame) -> str:
    counts = summaries.stage_counts(results)
    planned = summary.planned
    headers = [("Stage", False)]
    headers += [("Would send", True)] if planned is not None else []
    headers += [("Sent tonight", True), ("Already in EnKash", True), ("Failed", True), ("Amount sent", True)]
    rows = []
    for row in counts.iter_rows(named=True):
        cells = [escape(_stage_name(row["stage"]))]
        cells += [_count(planned.get(row["stage"], 0))] if planned is not None else []
        failed = _count(row["failure"])
        cells += [
            _count(row["sent"]),
            _count(row["already_present"]),
            f'<td class="num fail">{failed}</td>' if row["failure"] else failed,
            summaries.format_inr(row["sent_amount"]) if row["sent_amount"] else "&ndash;",
        ]
        rows.append(cells)
    return (
        '<section class="panel"><h2>Stage results</h2><p class="caption">Every attempt of the night counted '
        "once per record: sent by this night, found already in EnKash, or refused.</p>"
        + _table(headers, rows, css_class="stages")
        + "</section>"
    )


def _failures_panel(results: pl.DataFrame, max_rows: int) -> str:
    reasons = summaries.failure_reasons(results)
    if reasons.is_empty():
        return (
            '<section class="panel"><h2>Failures</h2><p class="empty">Nothing failed tonight.</p></section>'
        )
    failed = results.filter(pl.col("outcome") == RowOutcome.FAILURE).sort("stage", "key")
    by_reason = _table(
        [("Stage", False), ("Reason", False), ("Records", True), ("Amount", True)],
        (
            (
                escape(_stage_name(r["stage"])),
                f'<td class="reason">{_text(r["reason"])}</td>',
                _count(r["count"]),
                summaries.format_inr(r["amount"]),
            )
            for r in reasons.iter_rows(named=True)
        ),
        css_class="failure-reasons",
    )
    rows = _table(
        [("Stage", False), ("Key", False), ("Reason", False), ("Amount", True)],
        (
            (
                escape(_stage_name(r["stage"])),
                f'<td class="key">{_text(r["key"])}</td>',
                f'<td class="reason">{_text(r["reason"] or "(no reason given)")}</td>',
                summaries.format_inr(r["amount"] or 0.0),
            )
            for r in failed.head(max_rows).iter_rows(named=True)
        ),
        css_class="failed-rows",
    )
    return (
        '<section class="panel table-panel"><h2>Failures</h2><h3>By reason</h3>'
        f"{by_reason}<h3>Failed records</h3>{rows}"
        f"{_more(min(max_rows, failed.height), failed.height, '<code>bulk_results.parquet</code>')}</section>"
    )


def _overdue_panel(summary: NightSummary) -> str:
    if not summary.top_overdue:
        body = '<p class="empty">Nothing is overdue.</p>'
    else:
        body = _table(
            [
                ("Customer", False),
                ("customer_ref", False),
                ("Overdue", True),
                ("Invoices", True),
                ("Oldest (days past due)", True),
            ],
            (
                (
                    _text(c.customer_name or "(no name)"),
                    f'<td class="key">{_text(c.customer_ref)}</td>',
                    summaries.format_inr(c.overdue_amount),
                    _count(c.invoices),
                    _count(c.oldest_days_past_due),
                )
                for c in summary.top_overdue
            ),
            css_class="top-overdue",
        )
    return f'<section class="panel"><h2>Customers owing most past due</h2>{body}</section>'


def _rejected_panel(rejected: pl.DataFrame, max_rows: int) -> str:
    title = "<h2>Rejected input rows</h2>"
    if rejected.is_empty():
        return f'<section class="panel">{title}<p class="empty">No ERP row was rejected.</p></section>'
    per_entity = ", ".join(
        f"{escape(entity)}: {_count(n)}"
        for entity, n in rejected.group_by("entity").len().sort("entity").iter_rows()
    )
    table = _table(
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
                _text(r["entity"]),
                f'<td title="{_text(r["file"])}">{_text(Path(str(r["file"] or "")).name)}</td>',
                _count(r["row"]) if r["row"] is not None else "",
                f'<td class="key">{_text(r["key"])}</td>',
                _text(r["column"]),
                f'<td class="reason">{_text(r["reason"])}</td>',
                f'<td class="reason">{_text(r["value"])}</td>',
            )
            for r in rejected.head(max_rows).iter_rows(named=True)
        ),
        css_class="rejected-rows",
    )
    return (
        f'<section class="panel table-panel">{title}<p class="caption">{_plural(rejected.height, "record")} '
        f"({per_entity}) were not sent: fix them in the ERP and the next night sends them.</p>{table}"
        f"{_more(min(max_rows, rejected.height), rejected.height, f'<code>{REJECTED_ROWS_FILE}</code>')}"
        "</section>"
    )


def render_run_report(
    summary: NightSummary,
    *,
    trend: Sequence[TrendPoint] = (),
    results: pl.DataFrame | None = None,
    rejected: pl.DataFrame | None = None,
    max_rows: int = MAX_TABLE_ROWS,
) -> str:
    """The night's report as one self-contained HTML page.

    Args:
        summary: the night's summary (headline numbers, aging, twins, top overdue customers).
        trend: the nights to chart, oldest first (``night_history.night_trend``); the night itself is
            added when missing, so an empty trend shows a single point.
        results: the night's result rows (``results.RESULT_SCHEMA``), for stage results and failures.
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
            _masthead(summary),
            _dry_run_notice(summary),
            _attention(summary),
            _kpis(summary, ordered),
            f'<div class="grid-2">{_aging_panel(summary)}\n{_trend_panel(ordered)}</div>',
            _stages_panel(summary, results),
            _failures_panel(results, max_rows),
            _overdue_panel(summary),
            _rejected_panel(rejected, max_rows),
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
        f"{_text(summary.seller_id)}, night {summary.as_of.isoformat()}.</footer>"
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
    results: pl.DataFrame | None = None,
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
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(target)
    return target
