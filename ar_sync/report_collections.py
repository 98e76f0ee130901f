"""The run report's collections: what EnKash received since the last export, the payments file, and the
invoices the ERP and EnKash disagree on (listed for a person; the cycle changes neither side)."""

from __future__ import annotations

from html import escape

from ar_sync.collection_summary import Collections
from ar_sync.night_summary import NightSummary
from ar_sync.output_files import PAYMENT_MISMATCHES_FILE, PAYMENTS_CSV_FILE
from ar_sync.report_format import day_text, erp_text, more_rows, plural, rupees, table
from ar_sync.summaries import format_inr

#: What the report says about a payments file that was not written tonight.
_STATE_TEXT = {
    "exported": "written tonight",
    "rewritten": "written again from the run ledger, identical to the night's first export",
    "kept": "left alone: a later night's export is in it (this night's lines stay in the run ledger)",
    "superseded": "not written: a later night has exported, and this night's payments are in its file",
    "preview": "not written (dry run)",
}
#: How each kind of disagreement reads.
_KIND_TEXT = {
    "paid_in_erp_open_in_enkash": "Paid in the ERP, open in EnKash",
    "paid_in_enkash_open_in_erp": "Paid in EnKash, open in the ERP",
    "amounts_differ": "Amounts paid differ",
}


def _amount(value: float | None) -> str:
    return "&ndash;" if value is None else format_inr(value)


def _mismatches(collections: Collections) -> str:
    if not collections.mismatch_count:
        return (
            '<p class="caption">The ERP export and EnKash agree on every invoice whose payment the ERP '
            "states (or the export has no amount_paid / status columns).</p>"
        )
    rows = (
        [
            erp_text(m.invoice_number),
            erp_text(m.customer_ref),
            erp_text(_KIND_TEXT.get(m.kind, m.kind)),
            erp_text(m.erp_status),
            _amount(m.erp_amount_paid),
            erp_text(m.enkash_status),
            _amount(m.enkash_received),
            erp_text(m.what_to_do),
        ]
        for m in collections.mismatches
    )
    headers = [
        ("Invoice", False),
        ("Customer", False),
        ("Disagreement", False),
        ("ERP says", False),
        ("ERP paid", True),
        ("EnKash says", False),
        ("EnKash received", True),
        ("What to do", False),
    ]
    return (
        f"<h3>ERP and EnKash disagree on {plural(collections.mismatch_count, 'invoice')}</h3>"
        '<p class="caption">Nothing was changed on either side. "EnKash received" is as of the earlier '
        "payments files: tonight's payments are on their way to the ERP, not a disagreement.</p>"
        + table(headers, rows, css_class="payment-mismatches")
        + more_rows(len(collections.mismatches), collections.mismatch_count, PAYMENT_MISMATCHES_FILE)
    )


def _reversals(collections: Collections) -> str:
    if not collections.reversals:
        return ""
    rows = (
        [
            erp_text(r.invoice_number),
            erp_text(r.payment_ref),
            format_inr(r.amount),
            format_inr(r.total_received),
        ]
        for r in collections.reversals
    )
    headers = [("Invoice", False), ("Line", False), ("Reversed", True), ("Received after it", True)]
    return (
        f"<h3>Money taken back on EnKash: {format_inr(collections.reversed)}</h3>"
        '<p class="caption">Refunds or charge-backs since the last export, REVERSAL lines (negative) in '
        f"{PAYMENTS_CSV_FILE}: reverse them in the ERP.</p>" + table(headers, rows, css_class="reversals")
    )


def collections_panel(summary: NightSummary) -> str:
    """Money received since the last export, the collection rate, the payments file, reversals and
    ERP/EnKash disagreements; empty when the night's payments stage did not run."""
    collections = summary.collections
    if collections is None:
        return ""
    since = (
        f"since the export of {day_text(collections.period_start)}"
        if collections.period_start
        else "since the first export"
    )
    rate = "n/a" if collections.collection_rate is None else f"{collections.collection_rate:.1%}"
    written = _STATE_TEXT.get(collections.export_state, collections.export_state)
    return (
        '<section class="panel collections"><h2>Collections</h2>'
        f'<p class="caption">Received on EnKash {since}: <span class="figure" data-kpi="received">'
        f"{rupees(collections.received)}</span> on {plural(collections.invoices_paid, 'invoice')}; "
        f'collection rate <span class="figure" data-kpi="collection-rate">{rate}</span> (received, as a '
        f"share of received plus still open). The aging above is what is still open after these payments. "
        f"<code>{PAYMENTS_CSV_FILE}</code> (for the ERP): {escape(written)}.</p>"
        + _reversals(collections)
        + _mismatches(collections)
        + "</section>"
    )
