"""The run report in a real headless Chromium: a real night's page renders cleanly, charts and all.

Set UPDATE_SCREENSHOT=1 to write the screenshot to docs/run-report.png (the README shows it); otherwise
it goes to the test's temporary folder.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from prefect.artifacts import Artifact

from ar_sync.night_history import TrendPoint
from ar_sync.night_summary import InvoiceTwin, NightSummary
from ar_sync.output_files import run_report_file
from ar_sync.run_report import render_run_report
from ar_sync.summaries import AGING_BUCKETS
from flows.nightly_ar_cycle import nightly_ar_cycle
from flows.options import CycleOptions
from sandbox.sample_data import generate_erp_files, mutate_erp_files
from tests.report.browser import WINDOW, Capture, capture, capture_with_chromium
from tests.report.png_pixels import colours

AS_OF = date(2026, 11, 24)
#: Every test here starts Chromium (and the real night a Prefect server): end to end, ``make test`` only.
pytestmark = pytest.mark.e2e
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "run-report.png"
#: Fills of run_report.css that only the charts use: the aging bars, and the DSO line and points.
BAR_FILLS = {
    "current": (0x2F, 0x8A, 0x6F),
    "1-30": (0xD9, 0xA6, 0x2E),
    "31-60": (0xE0, 0x7A, 0x38),
    "61-90": (0xC4, 0x50, 0x2C),
    "90+": (0x96, 0x20, 0x20),
}
DSO_STROKE = (0x6A, 0x4C, 0x9C)


class _Svg(HTMLParser):
    """The elements of each chart of a rendered DOM: chart id to ``(tag, attributes)`` in order."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: dict[str, list[tuple[str, dict[str, str]]]] = {}
        self._chart: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "svg":
            self._chart = attributes.get("id", "")
            self.charts[self._chart] = []
        elif self._chart is not None:
            self.charts[self._chart].append((tag, attributes))

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._chart = None


def chart_elements(dom: str, chart: str, tag: str, css_class: str) -> list[dict[str, str]]:
    parser = _Svg()
    parser.feed(dom)
    return [
        a for t, a in parser.charts.get(chart, []) if t == tag and css_class in a.get("class", "").split()
    ]


def pixels_near(counts: dict[tuple[int, int, int], int], colour: tuple[int, int, int]) -> int:
    """Pixels within 3 of ``colour`` on every channel (antialiasing and colour profiles move a little)."""
    return sum(n for c, n in counts.items() if all(abs(a - b) <= 3 for a, b in zip(c, colour, strict=True)))


def assert_rendered(shot: Capture, *, nights: int, dso_nights: int, filled: list[str]) -> None:
    """What a person would see: no error, every chart element in the DOM and painted in the screenshot."""
    assert shot.problems == [], f"{shot.driver}: the page complained: {shot.problems}"
    assert shot.requests == [], f"the report fetched something: {shot.requests}"
    bars = chart_elements(shot.dom, "aging-chart", "rect", "bar")
    assert len(bars) == len(AGING_BUCKETS)
    assert len(chart_elements(shot.dom, "open-trend-chart", "polyline", "trend-line")) == (nights > 1)
    assert len(chart_elements(shot.dom, "open-trend-chart", "circle", "trend-point")) == nights
    assert len(chart_elements(shot.dom, "dso-chart", "circle", "trend-point")) == dso_nights

    assert shot.screenshot.stat().st_size > 20_000
    width, height, counts = colours(shot.screenshot)
    assert (width, height) == WINDOW
    assert len(counts) > 200, "the screenshot is nearly blank"
    assert counts.most_common(1)[0][1] < 0.9 * width * height
    for bucket in filled:
        assert pixels_near(counts, BAR_FILLS[bucket]) > 200, f"the {bucket} bar is not painted"
    if dso_nights:
        assert pixels_near(counts, DSO_STROKE) > 30, "the DSO line is not painted"


def _night(customers: Path, invoices: Path, night: date, options: CycleOptions) -> NightSummary:
    return asyncio.run(nightly_ar_cycle(str(customers), str(invoices), night, options))


def test_a_real_nights_report_renders_in_chromium_with_its_charts(
    chromium: Path, say: Callable[[str], None], enkash_env: Any, tmp_path: Path
) -> None:
    options = CycleOptions(out_dir=str(tmp_path / "out"), ledger_path=str(tmp_path / "ledger.sqlite3"))
    customers, invoices = generate_erp_files(tmp_path / "erp", customers=8, invoices=40, seed=5, as_of=AS_OF)
    _night(customers, invoices, AS_OF, options)
    # The next night brings new invoices, so the trend has two different points.
    next_customers, next_invoices = mutate_erp_files(
        customers, invoices, tmp_path / "erp-next", as_of=AS_OF + timedelta(days=1), new_fraction=0.25
    )
    summary = _night(next_customers, next_invoices, AS_OF + timedelta(days=1), options)
    report = Path(options.out_dir) / run_report_file(summary.seller_id, summary.as_of)
    screenshot = (
        DOCS_SCREENSHOT if os.environ.get("UPDATE_SCREENSHOT") == "1" else tmp_path / "run-report.png"
    )

    shot = capture(chromium, report, screenshot, tmp_path, say)

    filled = [bucket for bucket in AGING_BUCKETS if summary.aging.get(bucket, 0.0) > 0]
    assert filled, "the sample night should owe something"
    assert_rendered(shot, nights=2, dso_nights=2 if summary.dso is not None else 0, filled=filled)
    assert summary.invoices_uploaded > 0 and "Completed with exceptions" in shot.dom  # rejected rows
    link = Artifact.get("ar-run-report")
    assert link is not None and report.resolve().as_uri() in str(link.data)
    markdown = Artifact.get("ar-cycle-summary")
    assert markdown is not None and report.name in str(markdown.data)


def test_chromium_alone_renders_the_report_when_playwright_cannot(chromium: Path, tmp_path: Path) -> None:
    night = NightSummary(
        seller_id="CEKSANDBX1",
        as_of=AS_OF,
        open_invoices=3,
        open_amount=450_000.0,
        aging={"current": 100_000.0, "1-30": 0.0, "31-60": 0.0, "61-90": 50_000.0, "90+": 300_000.0},
        dso=None,
        invoice_twins=[InvoiceTwin(invoice_number="INV-1", invoice_id="IN9", keeper_id="IN1", reason="paid")],
    )
    trend = [TrendPoint(AS_OF - timedelta(days=d), 400_000.0 + d, 30.0) for d in (1, 2, 3)]
    page = tmp_path / "report.html"
    page.write_text(render_run_report(night, trend=trend), encoding="utf-8")

    shot = capture_with_chromium(chromium, page, tmp_path / "shot.png", tmp_path / "profile")

    assert_rendered(shot, nights=4, dso_nights=3, filled=["current", "61-90", "90+"])
    assert "Needs attention" in shot.dom


@pytest.mark.parametrize(
    "mark", ["<script>console.error('boom')</script>", "<img src='http://x.invalid/a.png'>"]
)
def test_the_browser_check_catches_a_page_that_misbehaves(
    chromium: Path, say: Callable[[str], None], tmp_path: Path, mark: str
) -> None:
    page = tmp_path / "report.html"
    page.write_text(
        render_run_report(NightSummary(seller_id="CEKSANDBX1", as_of=AS_OF)).replace("</main>", mark)
    )

    shot = capture(chromium, page, tmp_path / "shot.png", tmp_path, say)

    # The report's Content-Security-Policy blocks both, and the block is reported as a console error.
    assert any("Content Security Policy" in problem for problem in shot.problems), shot.problems
