"""Charts of the run report, drawn as inline SVG text: a labelled bar chart and a line chart over nights.

The report must open with no network (a mail attachment, a file share, a printout), so charts are
plain SVG elements styled by the page's own CSS classes, never a chart library or a web font. Every
label passes through ``html.escape``: a label can carry an ERP-originated name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Final

#: Point labels on a line chart with more points than this go to the last, first, highest and lowest.
MAX_LABELLED_POINTS: Final = 6
#: Horizontal room a point or date label needs, in chart units; closer labels are left out.
LABEL_GAP: Final = 64


@dataclass(frozen=True)
class Bar:
    """One bar: its category label under it, its value label over it, a note (a share) under the label."""

    key: str
    label: str
    value: float
    value_label: str
    note: str = ""
    tone: str = "neutral"


@dataclass(frozen=True)
class Point:
    """A night on a line chart: its value, its label (the tooltip) and a short one drawn beside it."""

    night: date
    value: float
    label: str
    short_label: str = ""


def _num(value: float) -> str:
    """SVG coordinates with two decimals at most (short files, stable text in tests)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _svg_open(chart_id: str, css_class: str, title: str, width: int, height: int) -> list[str]:
    return [
        f'<svg class="chart {escape(css_class)}" id="{escape(chart_id)}" viewBox="0 0 {width} {height}"'
        f' role="img" aria-labelledby="{escape(chart_id)}-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
    ]


def nice_ceiling(value: float) -> float:
    """The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 or 10 times a power of ten) that is
    at least ``value``; 1 for nothing. Fine steps keep a line in the upper part of its chart."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if step * power >= value)


def bar_chart(bars: Sequence[Bar], *, chart_id: str, title: str, width: int = 560, height: int = 300) -> str:
    """A vertical bar chart, one ``rect.bar`` per bar (also for a zero value: a hairline on the axis)."""
    top, bottom, side = 34, 52, 8
    plot_height = height - top - bottom
    slot = (width - 2 * side) / max(len(bars), 1)
    bar_width = slot * 0.62
    highest = max((bar.value for bar in bars), default=0.0)
    scale = plot_height / highest if highest > 0 else 0.0
    baseline = top + plot_height
    parts = _svg_open(chart_id, "bar-chart", title, width, height)
    parts.append(
        f'<line class="axis" x1="{side}" y1="{_num(baseline)}" x2="{width - side}" y2="{_num(baseline)}"/>'
    )
    for index, bar in enumerate(bars):
        centre = side + slot * (index + 0.5)
        # A zero bar stays visible as a hairline, so five buckets always read as five.
        bar_height = max(bar.value * scale, 1.0)
        y = baseline - bar_height
        parts += [
            f'<g class="bar-group" data-key="{escape(bar.key)}">',
            f'<rect class="bar tone-{escape(bar.tone)}" x="{_num(centre - bar_width / 2)}" y="{_num(y)}"'
            f' width="{_num(bar_width)}" height="{_num(bar_height)}" rx="3">'
            f"<title>{escape(bar.label)}: {escape(bar.value_label)}</title></rect>",
            f'<text class="value-label" x="{_num(centre)}" y="{_num(y - 8)}" text-anchor="middle">'
            f"{escape(bar.value_label)}</text>",
            f'<text class="category-label" x="{_num(centre)}" y="{_num(baseline + 20)}" text-anchor="middle">'
            f"{escape(bar.label)}</text>",
        ]
        if bar.note:
            parts.append(
                f'<text class="note-label" x="{_num(centre)}" y="{_num(baseline + 38)}" text-anchor="middle">'
                f"{escape(bar.note)}</text>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


def _spread(priority: Sequence[int], xs: Sequence[float]) -> set[int]:
    """The indexes of ``priority`` (most wanted first) whose labels keep ``LABEL_GAP`` from each other."""
    chosen: list[int] = []
    for index in priority:
        if index not in chosen and all(abs(xs[index] - xs[other]) >= LABEL_GAP for other in chosen):
            chosen.append(index)
    return set(chosen)


def _point_labels(points: Sequence[Point], xs: Sequence[float]) -> set[int]:
    """Points that get a value label: all of a short series, else the last, first, highest and lowest."""
    last = len(points) - 1
    if len(points) <= MAX_LABELLED_POINTS:
        return _spread([last, *range(last)], xs)
    values = [point.value for point in points]
    return _spread([last, 0, values.index(max(values)), values.index(min(values))], xs)


def _date_labels(xs: Sequence[float]) -> set[int]:
    """Nights that get a date label: the last and the first, then as many between as fit."""
    last = len(xs) - 1
    return _spread([last, 0, *range(1, last)], xs) if xs else set()


def _anchor(x: float, low: float, high: float) -> str:
    """Text anchor that keeps a label at the plot's left or right edge inside the frame."""
    if x - low < 30:
        return "start"
    if high - x < 30:
        return "end"
    return "middle"


def line_chart(
    points: Sequence[Point],
    *,
    chart_id: str,
    title: str,
    tick_label: Callable[[float], str],
    width: int = 560,
    height: int = 210,
) -> str:
    """A line chart over nights from zero up: ``polyline.trend-line`` (two points or more), one
    ``circle.trend-point`` per point, value labels, gridlines labelled by ``tick_label``.

    Nights are placed by date, so a missed night shows as a wider step, not as a neighbour.
    """
    left, right, top, bottom = 78, 28, 26, 30
    plot_width, plot_height = width - left - right, height - top - bottom
    ordered = sorted(points, key=lambda point: point.night)
    ceiling = nice_ceiling(max((point.value for point in ordered), default=0.0) * 1.12)
    first = ordered[0].night.toordinal() if ordered else 0
    span = (ordered[-1].night.toordinal() - first) if ordered else 0

    def x(point: Point) -> float:
        # One night alone sits in the middle; otherwise the first and last nights take the edges.
        if span == 0:
            return left + plot_width / 2
        return left + plot_width * (point.night.toordinal() - first) / span

    def y(value: float) -> float:
        return top + plot_height * (1 - value / ceiling)

    parts = _svg_open(chart_id, "line-chart", title, width, height)
    for step in range(5):
        tick = ceiling * step / 4
        level = _num(y(tick))
        parts += [
            f'<line class="grid" x1="{left}" y1="{level}" x2="{width - right}" y2="{level}"/>',
            f'<text class="tick-label" x="{left - 8}" y="{_num(y(tick) + 4)}" text-anchor="end">'
            f"{escape(tick_label(tick))}</text>",
        ]
    coordinates = [(x(point), y(point.value)) for point in ordered]
    if len(ordered) >= 2:
        line = " ".join(f"{_num(px)},{_num(py)}" for px, py in coordinates)
        area = f"M{_num(coordinates[0][0])},{_num(y(0))} L{line.replace(' ', ' L')} "
        area += f"L{_num(coordinates[-1][0])},{_num(y(0))} Z"
        parts += [
            f'<path class="trend-area" d="{area}"/>',
            f'<polyline class="trend-line" points="{line}"/>',
        ]
    xs = [px for px, _ in coordinates]
    labelled = _point_labels(ordered, xs)
    for index, (point, (px, py)) in enumerate(zip(ordered, coordinates, strict=True)):
        parts.append(
            f'<circle class="trend-point" cx="{_num(px)}" cy="{_num(py)}" r="4" '
            f'data-night="{point.night.isoformat()}"><title>{point.night.isoformat()}: '
            f"{escape(point.label)}</title></circle>"
        )
        if index in labelled:
            parts.append(
                f'<text class="point-label" x="{_num(px)}" y="{_num(py - 10)}" '
                f'text-anchor="{_anchor(px, left, width - right)}">'
                f"{escape(point.short_label or point.label)}</text>"
            )
    for index in sorted(_date_labels(xs)):
        day = ordered[index].night.strftime("%d %b")
        parts.append(
            f'<text class="date-label" x="{_num(xs[index])}" y="{height - 8}" '
            f'text-anchor="{_anchor(xs[index], left, width - right)}">{day}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)
