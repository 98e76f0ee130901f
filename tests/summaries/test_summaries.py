"""Summaries on small hand-made frames whose answers are known."""

from __future__ import annotations

import json
from datetime import date, timedelta

import polars as pl
from polars.testing import assert_frame_equal

from ar_sync.summaries import (
    BULK_RESULT_SCHEMA,
    OPEN_INVOICE_SCHEMA,
    aging,
    build_summary,
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
        ("customers_create", "success", 0.0, None, "C1"),
        ("customers_create", "failure", 0.0, "bad mobile", "C2"),
        ("invoices_upload", "success", 100.0, None, "I1"),
        ("invoices_upload", "failure", 50.0, "duplicate", "I2"),
        ("invoices_upload", "failure", 70.0, "duplicate", "I3"),
        ("invoices_upload", "failure", 500.0, "bad gst", "I4"),
        ("invoices_dispatch", "warn", 100.0, "no e-mail", "I1"),
        ("reminders", "success", 0.0, None, "I1"),
    ],
    schema=BULK_RESULT_SCHEMA,
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
    assert result["stage"].to_list()[:3] == ["customers_create", "customers_update", "invoices_upload"]
    assert_frame_equal(
        result.filter(pl.col("stage") == "invoices_upload"),
        pl.DataFrame(
            {
                "stage": ["invoices_upload"],
                "success": [1],
                "failure": [3],
                "warn": [0],
                "success_amount": [100.0],
                "failure_amount": [620.0],
                "warn_amount": [0.0],
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


def test_build_summary_is_json_and_markdown_ready() -> None:
    summary = build_summary(BULK, EDGES, AS_OF, customers_rejected=2, invoices_rejected=11)
    assert json.loads(json.dumps(summary)) == summary
    assert {k: summary[k] for k in ("customers_created", "invoices_uploaded", "invoices_failed")} == {
        "customers_created": 1,
        "invoices_uploaded": 1,
        "invoices_failed": 3,
    }
    assert summary["aging"] == {"current": 11.0, "1-30": 20.0, "31-60": 40.0, "61-90": 0.0, "90+": 80.0}
    assert (summary["open_amount"], summary["open_invoices"], summary["as_of"]) == (151.0, 5, "2026-05-15")
    assert summary["dso"] == 95.7
    assert summary["top_overdue"][0]["customer_ref"] == "C2"
    text = summary_markdown(
        summary, stage_counts(BULK), aging(EDGES, AS_OF), top_overdue_customers(EDGES, AS_OF)
    )
    assert "| invoices_upload | 1 | 3 | 0 |" in text
    assert "| 90+ | 1 | ₹80.00 |" in text
    assert "| C2 Pvt Ltd | C2 | ₹120.00 | 2 | 91 |" in text


def test_indian_number_format() -> None:
    assert [format_inr(x) for x in (999.5, 123456.5, 12345678.9)] == [
        "₹999.50",
        "₹1,23,456.50",
        "₹1,23,45,678.90",
    ]
