"""The top of the run report: masthead, notices, headline numbers, the aging chart and the trend."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape
from typing import Final

from ar_sync import summaries
from ar_sync.night_history import TrendPoint
from ar_sync.night_summary import NightSummary
from ar_sync.report_charts import Bar, Point, bar_chart, line_chart
from ar_sync.report_format import (
    compact_inr,
    day_text,
    days_text,
    erp_text,
    grouped,
    plural,
    rupees,
    table,
)

#: Aging bucket: its label and the bar's tone, from current to the oldest.
AGING_LABELS: Final = {
    "current": ("Current", "current"),
    "1-30": ("1\u201330 days", "early"),
    "31-60": ("31\u201360 days", "late"),
    "61-90": ("61\u201390 days", "later"),
    "90+": ("Over 90 days", "latest"),
}


def _failed(summary: NightSummary) -> int:
    return (
        summary.customers_failed
        + summary.invoices_failed
        + summary.dispatch_failed
        + summary.reminders_failed
    )


def _status(summary: NightSummary) -> str:
    exceptions = _failed(summary) + summary.customers_rejected + summary.invoices_rejected
    if summary.attention():
        pill = '<span class="status bad">Needs attention</span>'
    elif exceptions:
        pill = '<span class="status warn">Completed with exceptions</span>'
    else:
        pill = '<span class="status good">All in order</span>'
    return pill + ('<span class="status dry">Dry run</span>' if summary.dry_run else "")


def masthead(summary: NightSummary) -> str:
    """The page header: seller, night and the night's status (in order, exceptions, attention)."""
    return f"""<header class="masthead">
<div><p class="eyebrow">Accounts receivable · nightly run report</p>
<h1>Seller {erp_text(summary.seller_id)}</h1></div>
<div class="night"><span class="label">Night of</span>
<time datetime="{summary.as_of.isoformat()}">{day_text(summary.as_of)}</time><br>{_status(summary)}</div>
</header>"""


def attention_notice(summary: NightSummary) -> str:
    """What only a person can fix (twins), with each copy and what to do; empty when nothing."""
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
            table(
                [
                    ("Invoice number", False),
                    ("Extra copy", False),
                    ("Copy kept", False),
                    ("Why not removed", False),
                ],
                (
                    [erp_text(cell) for cell in (t.invoice_number, t.invoice_id, t.keeper_id, t.reason)]
                    for t in summary.invoice_twins
                ),
                css_class="invoice-twins",
            )
        )
    if summary.customer_twins:
        parts.append(
            table(
                [("customer_ref", False), ("EnKash customers holding it (first one used)", False)],
                (
                    (erp_text(t.customer_ref), erp_text(", ".join(t.customer_ids)))
                    for t in summary.customer_twins
                ),
                css_class="customer-twins",
            )
        )
    parts.append("</section>")
    return "\n".join(parts)


def dry_run_notice(summary: NightSummary) -> str:
    """Says that a dry run sent nothing; empty for a real night."""
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
    shown = rupees(abs(change)) if unit == "inr" else f"{abs(change):,.1f} days"
    arrow, tone = ("▲", "up-bad") if change > 0 else ("▼", "down-good")
    return f'<span class="delta {tone}">{arrow} {shown} {when}</span>'


def _kpi(label: str, value: str, detail: str, *, bad: bool = False, key: str) -> str:
    tone = " bad" if bad else ""
    return (
        f'<div class="kpi{tone}" data-kpi="{key}"><div class="label">{label}</div>'
        f'<div class="value">{value}</div><div class="detail">{detail}</div></div>'
    )


def headline(summary: NightSummary, trend: Sequence[TrendPoint]) -> str:
    """The headline numbers, each open amount and DSO with its change since the night before."""
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
            rupees(summary.open_amount),
            f"{plural(summary.open_invoices, 'open invoice')}<br>{open_delta}",
            key="open",
        ),
        _kpi("Overdue", rupees(overdue), share, key="overdue"),
        _kpi("DSO", days_text(summary.dso), f"over 90 days<br>{dso_delta}", key="dso"),
        _kpi(
            "Invoices uploaded",
            grouped(summary.invoices_uploaded),
            f"{grouped(summary.invoices_dispatched)} dispatched · "
            f"{grouped(summary.invoices_updated)} updated",
            key="invoices",
        ),
        _kpi(
            "Customers created",
            grouped(summary.customers_created),
            f"{grouped(summary.customers_updated)} updated · {grouped(summary.reminders_set)} reminders set",
            key="customers",
        ),
        _kpi(
            "Failed",
            grouped(failed),
            f"{plural(rejected, 'input row')} rejected",
            bad=failed > 0 or bool(summary.attention()),
            key="failed",
        ),
    ]
    return '<section class="kpis">\n' + "\n".join(cards) + "\n</section>"


def aging_panel(summary: NightSummary) -> str:
    """Aging as a bar chart: one bar per bucket, its amount over it and its share under it."""
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
        f'<p class="caption">Open balance by days past due on {day_text(summary.as_of)}; '
        f"share of the open amount under each bar.</p>{chart}</section>"
    )


def trend_panel(trend: Sequence[TrendPoint]) -> str:
    """Open receivables and DSO over the nights of ``trend`` (oldest first), as line charts."""
    amounts = [
        Point(p.night, p.open_amount, summaries.format_inr(p.open_amount), compact_inr(p.open_amount))
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
        f'<p class="more">{plural(skipped, "night")} without a DSO (no credit sales) left out.</p>'
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
            tick_label=compact_inr,
        )
        + f"<h3>DSO (days)</h3>{dso_chart}{note}</section>"
    )
