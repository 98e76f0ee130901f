"""The run report's collections: what came in, what went back, and what the ERP and EnKash dispute."""

from __future__ import annotations

from datetime import date

from ar_sync.collection_summary import Collections, PaymentMismatch, PaymentReversal, collections_markdown
from ar_sync.run_report import render_run_report
from tests.report.test_run_report import HOSTILE, OUR_TAGS, summary, tags_of


def _collections(**fields: object) -> Collections:
    return Collections.model_validate(
        {
            "period_start": date(2026, 11, 23),
            "export_state": "exported",
            "payments_file": "out/payments.csv",
            "invoices_paid": 3,
            "received": 154321.5,
            "collection_rate": 0.4123,
            "erp_credit_sales": 500000.0,
            **fields,
        }
    )


def _mismatch(number: str, kind: str = "paid_in_erp_open_in_enkash") -> PaymentMismatch:
    return PaymentMismatch(
        invoice_number=number,
        customer_ref="CUST1",
        enkash_invoice_id="INV000000000001",
        kind=kind,
        erp_status="paid",
        erp_amount_paid=1180.0,
        enkash_status="UNPAID",
        enkash_received=0.0,
        enkash_balance=1180.0,
        what_to_do="record the payment on the EnKash portal",
    )


def test_the_night_shows_what_came_in_and_the_collection_rate() -> None:
    page = render_run_report(summary(open_amount=220000.0, collections=_collections()))

    assert "Collections" in page and "since the export of 23 Nov 2026" in page
    assert '<span class="figure" data-kpi="received">₹1,54,322</span> on 3 invoices' in page
    assert '<span class="figure" data-kpi="collection-rate">41.2%</span>' in page
    assert "agree on every invoice" in page


def test_disagreements_and_reversals_are_listed_as_text_never_markup() -> None:
    collections = _collections(
        mismatch_count=250,
        mismatches=[_mismatch(name) for name in HOSTILE] + [_mismatch("INV-2", "paid_in_enkash_open_in_erp")],
        reversed=500.0,
        reversals=[
            PaymentReversal(
                payment_ref="INV9-P002",
                invoice_number=HOSTILE[2],
                enkash_invoice_id="INV9",
                amount=500.0,
                total_received=0.0,
            )
        ],
    )
    page = render_run_report(summary(collections=collections))

    assert tags_of(page).tags <= OUR_TAGS and "<script" not in page
    assert "ERP and EnKash disagree on 250 invoices" in page and "Nothing was changed on either side" in page
    assert "Paid in the ERP, open in EnKash" in page and "Paid in EnKash, open in the ERP" in page
    assert "Showing 5 of 250; all of them are in payment_mismatches.csv" in page
    assert "Money taken back on EnKash: ₹500.00" in page and "INV9-P002" in page
    assert "&#x27;=HYPERLINK(" in page


def test_a_night_without_the_payments_stage_has_no_collections_section() -> None:
    assert 'class="panel collections"' not in render_run_report(summary())
    assert collections_markdown(None) == ""


def test_the_markdown_artifact_tells_the_same_story() -> None:
    text = collections_markdown(
        _collections(mismatch_count=1, mismatches=[_mismatch("INV|7")], reversed=10.0, reversals=[])
    )

    assert "**Received since 2026-11-23:** INR 154,321.50 on 3 invoices" in text
    assert "**Collection rate:** 41.2%" in text and "out/payments.csv" in text
    assert "| INV\\|7 | paid in erp open in enkash | paid | UNPAID |" in text
    assert "Reversed on EnKash" in text
