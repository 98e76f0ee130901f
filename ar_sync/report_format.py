"""How values read in the run report: amounts the Indian way, counts, dates, and ERP text made safe.

Every text that comes from the ERP or EnKash goes through :func:`erp_text`: HTML-escaped, and with a
leading ``'`` when a spreadsheet would run it as a formula (as in ``rejected_rows.csv``), because a
table copied from the page into Excel is read as typed input.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from html import escape

from ar_sync.csv_safety import escape_formula
from ar_sync.summaries import format_inr


def erp_text(value: object) -> str:
    """Text from the ERP or EnKash, safe in HTML and when pasted into a spreadsheet."""
    return escape(escape_formula(str(value)) or "") if value is not None else ""


def grouped(value: int) -> str:
    """A count grouped the Indian way (1,00,000), the grouping of ``format_inr`` without the rupee."""
    return format_inr(value).removeprefix("₹").removesuffix(".00")


def plural(count: int, word: str) -> str:
    """``1 night``, ``2 nights``: the count grouped the Indian way."""
    return f"{grouped(count)} {word}{'' if count == 1 else 's'}"


def days_text(value: float | None) -> str:
    """DSO as a reader says it (``47.2 days``), ``n/a`` when undefined."""
    return "n/a" if value is None else f"{value:,.1f} days"


def day_text(night: date) -> str:
    """A night as a reader says it: ``24 Nov 2026``."""
    return night.strftime("%d %b %Y").lstrip("0")


def rupees(amount: float) -> str:
    """A headline amount in whole rupees (₹23,45,679): paise only clutter a headline."""
    # Half a rupee rounds up, as on an invoice; round() would round it to even.
    whole = Decimal(str(amount)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return format_inr(float(whole)).removesuffix(".00")


def compact_inr(amount: float) -> str:
    """Axis labels: crores and lakhs, as Indian finance reads large amounts (₹1.2 Cr, ₹45 L)."""
    for size, unit in ((1e7, "Cr"), (1e5, "L")):
        if abs(amount) >= size:
            return f"₹{amount / size:.3g} {unit}"
    return rupees(amount)


def table(
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


def more_rows(shown: int, total: int, where: str) -> str:
    """A note under a table cut at ``shown`` rows, naming the file that holds all ``total``."""
    if total <= shown:
        return ""
    return f'<p class="more">Showing {grouped(shown)} of {grouped(total)}; all of them are in {where}.</p>'
