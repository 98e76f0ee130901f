"""Summaries on small hand-made frames whose answers are known."""

from __future__ import annotations

import json
from datetime import date, timedelta

import polars as pl
from polars.testing import assert_frame_equal

from ar_sync.results import RESULT_SCHEMA
from ar_sync.summaries import (
    OPEN_INVOICE_SCHEMA,
    aging,
    build_night_summary,
    dso,
    failure_reasons,
    format_inr,
    stage_counts,
    summary_markdown,
    top_overdue_customers,
)

AS_OF = date(2026, 5, 15)


def open_invoices(rows: list[tuple[str, str, int, float]]) -> pl.DataFrame:
    """(invoice, customer, days past due, balance); invoiced 40 days before due, net = 2 x balance."""
    return pl.DataFrame(
        [
            (
                inv,
                cust,
                f"{cust} Pvt Ltd",
                AS_OF - timedelta(days=d),
                AS_OF - timedelta(days=d + 40),
                2 * b,
                b,
            )
            for inv, cust, d, b in rows
        ],
        schema=OPEN_INVOICE_SCHEMA,
        orient="row",
    )


BULK = pl.DataFrame(
    [
        ("customers_create", "C1", "success", "sent", 0.0, None, "KC1"),
        ("customers_create", "C2", "failure", "sent", 0.0, "bad mobile", None),
        ("customers_create", "C3", "success", "already_present", 0.0, None, "KC3"),
        ("invoices_upload", "I1", "success", "sent", 100.0, None, "IN1"),
        ("invoices_upload", "I2", "failure", "sent", 50.0, "duplicate", None),
        ("invoices_upload", "I3", "failure", "sent", 70.0, "duplicate", None),
        ("invoices_upload", "I4", "failure", "sent", 500.0, "bad gst", None),
        ("invoices_upload", "I5", "success", "already_present", 30.0, None, "IN5"),
        ("invoices_dispatch", "I1", "success", "sent", 0.0, None, "IN1"),
        ("invoices_dispatch", "I5", "success", "already_present", 0.0, None, "IN5"),
        ("reminders", "C1", "success", "sent", 0.0, None, "KC1"),
    ],
    schema=RESULT_SCHEMA,
    orient="row",
)
EDGES = open_invoices(
    [
        ("A", "C1", 0, 10.0),
        ("B", "C1", 30, 20.0),
        ("C", "C2", 31, 40.0),
        ("D", "C2", 91, 80.0),
        ("E", "C3", -5, 1.0),
    ]
)


def test_aging_bucket_edges_and_empty_buckets() -> None:
    expected = pl.DataFrame(
        {
            "bucket": ["current", "1-30", "31-60", "61-90", "90+"],
            "invoices": [2, 1, 1, 0, 1],
            "amount": [11.0, 20.0, 40.0, 0.0, 80.0],
        }
    )
    assert_frame_equal(aging(EDGES.lazy(), AS_OF), expected)


def test_aging_of_nothing_has_all_buckets() -> None:
    result = aging(pl.DataFrame(schema=OPEN_INVOICE_SCHEMA), AS_OF)
    assert result["bucket"].to_list() == ["current", "1-30", "31-60", "61-90", "90+"]
    assert result["amount"].sum() == 0


def test_stage_counts_lists_every_stage_in_order() -> None:
    result = stage_counts(BULK)
    # The order a night runs them: what left the export first, then customers, then invoices.
    assert result["stage"].to_list()[:7] == [
        "invoices_cancel",
        "customers_deactivate",
        "customers_reactivate",
        "customers_create",
        "customers_update",
        "customer_fields_clear",
        "invoices_upload",
    ]
    assert_frame_equal(
        result.filter(pl.col("stage") == "invoices_upload"),
        pl.DataFrame(
            {
                "stage": ["invoices_upload"],
                "sent": [1],
                "already_present": [1],
                "failure": [3],
                "sent_amount": [100.0],
                "failure_amount": [620.0],
            }
        ),
    )
    assert result.filter(pl.col("stage") == "customers_update").row(0)[1:4] == (0, 0, 0)


def test_failure_reasons_most_frequent_first() -> None:
    expected = pl.DataFrame(
        {
            "stage": ["invoices_upload", "invoices_upload", "customers_create"],
            "reason": ["duplicate", "bad gst", "bad mobile"],
            "count": [2, 1, 1],
            "amount": [120.0, 500.0, 0.0],
        }
    )
    assert_frame_equal(failure_reasons(BULK), expected)


def test_top_overdue_customers() -> None:
    expected = pl.DataFrame(
        {
            "customer_ref": ["C2", "C1"],
            "customer_name": ["C2 Pvt Ltd", "C1 Pvt Ltd"],
            "overdue_amount": [120.0, 20.0],
            "invoices": [2, 1],
            "oldest_days_past_due": [91, 30],
        }
    )
    assert_frame_equal(top_overdue_customers(EDGES, AS_OF), expected)
    assert top_overdue_customers(EDGES, AS_OF, n=1).height == 1


def test_dso() -> None:
    # Issued 40, 70, 71, 131 and 35 days ago: all but D fall in the 90 days.
    # Receivables 151; sales in period 2 x (10 + 20 + 40 + 1) = 142; DSO = 151 / 142 x 90.
    assert dso(EDGES, AS_OF) == 151 / 142 * 90
    assert dso(EDGES, AS_OF, credit_sales=302.0, period_days=30) == 15.0
    assert dso(pl.DataFrame(schema=OPEN_INVOICE_SCHEMA), AS_OF) is None


def test_night_summary_counts_sent_apart_from_already_present_and_is_json_and_markdown_ready() -> None:
    summary = build_night_summary(
        BULK, EDGES, AS_OF, seller_id="CEKSANDBX1", customers_rejected=2, invoices_rejected=11
    )
    assert json.loads(summary.to_json())["invoices_uploaded"] == 1
    assert (summary.customers_created, summary.customers_already_present, summary.customers_failed) == (
        1,
        1,
        1,
    )
    assert (summary.invoices_uploaded, summary.invoices_already_present, summary.invoices_failed) == (1, 1, 3)
    assert (summary.invoices_dispatched, summary.invoices_already_dispatched) == (1, 1)
    assert summary.reminders_set == 1
    assert summary.aging == {"current": 11.0, "1-30": 20.0, "31-60": 40.0, "61-90": 0.0, "90+": 80.0}
    assert (summary.open_amount, summary.open_invoices, summary.as_of) == (151.0, 5, AS_OF)
    assert summary.dso == 95.7
    assert summary.top_overdue[0].customer_ref == "C2"
    assert summary.attention() == []
    text = summary_markdown(
        summary, stage_counts(BULK), aging(EDGES, AS_OF), top_overdue_customers(EDGES, AS_OF)
    )
    assert "| invoices_upload | 1 | 1 | 3 |" in text
    assert "| 90+ | 1 | ₹80.00 |" in text
    assert "| C2 Pvt Ltd | C2 | ₹120.00 | 2 | 91 |" in text
    assert "Needs attention" not in text


def test_twins_are_listed_with_what_to_do() -> None:
    twins = pl.DataFrame(
        {
            "externalId": ["I1"],
            "invoiceId": ["IN9"],
            "keeperId": ["IN1"],
            "customerId": ["KC1"],
            "reason": ["dispatched twice: two live payment links for one invoice"],
        }
    )
    customers = pl.DataFrame({"uniqueRefNo": ["C1"], "customerIds": [["KC1", "KC7"]]})
    summary = build_night_summary(
        BULK, EDGES, AS_OF, seller_id="CEKSANDBX1", invoice_twins=twins, customer_twins=customers
    )
    notes = summary.attention()
    assert len(notes) == 2
    assert "I1 (IN9, kept IN1)" in notes[0] and "portal" in notes[0]
    assert "C1 (KC1, KC7)" in notes[1]
    text = summary_markdown(
        summary, stage_counts(BULK), aging(EDGES, AS_OF), top_overdue_customers(EDGES, AS_OF)
    )
    assert "## Needs attention" in text


def test_indian_number_format() -> None:
    assert [format_inr(x) for x in (999.5, 123456.5, 12345678.9)] == [
        "₹999.50",
        "₹1,23,456.50",
        "₹1,23,45,678.90",
    ]
