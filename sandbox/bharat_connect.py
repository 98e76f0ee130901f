"""Bharat Connect 2.0 AR: paymentConfirmationRequest and changeInvoiceStatusRequest.

Both answer the BcEnvelope ``{response_code, response_message, payload: string}``; errors are HTTP 4xx
with that envelope (``response_code`` 1, ``payload`` "") plus the usual ``errorResponse``.

Rules (x-inferred):

- payment confirmation: ``response`` ACCEPT | REJECT | RETURN, ``type`` ONPLATFORM | OFFPLATFORM.
  ACCEPT marks every invoice PAID, ``totalReceived = netAmount``, ``balanceAmount = 0``; REJECT and
  RETURN leave the invoices unchanged. Every id must be a live invoice of the seller, else 404 and
  nothing changes. A CANCELLED invoice cannot be confirmed (400).
- change status: ``status`` is a ReceivableStatus name. PAID settles as above; UNPAID re-opens
  (``totalReceived = 0``, ``balanceAmount = netAmount``); PARTIALLY_PAID and CANCELLED only set the
  status (CANCELLED keeps the balance for the record but the invoice is no longer open).
"""

from __future__ import annotations

import sqlite3

from enkash_ar.contract import ReceivableStatus
from sandbox.checks import Checker
from sandbox.envelope import SubError, not_found, validation_error
from sandbox.invoices import RECEIVABLE_NAMES
from sandbox.state import Call
from sandbox.store import utc_now_iso

PAYMENT_RESPONSES = ("ACCEPT", "REJECT", "RETURN")
PAYMENT_TYPES = ("ONPLATFORM", "OFFPLATFORM")


def _check_ids(conn: sqlite3.Connection, ids: list[str], seller_id: str) -> dict[str, str]:
    statuses: dict[str, str] = {}
    for invoice_id in ids:
        row = conn.execute(
            "SELECT receivable_status FROM invoices WHERE invoice_id = ? AND seller_id = ? AND deleted = 0",
            (invoice_id, seller_id),
        ).fetchone()
        if row is None:
            raise not_found("Invoice", invoice_id)
        statuses[invoice_id] = row[0]
    return statuses


def _set(conn: sqlite3.Connection, ids: list[str], status: str) -> None:
    now = utc_now_iso()
    if status == ReceivableStatus.PAID:
        sql = "receivable_status = ?, total_received = net_amount, balance_amount = 0"
    elif status == ReceivableStatus.UNPAID:
        sql = "receivable_status = ?, total_received = 0, balance_amount = net_amount"
    else:
        sql = "receivable_status = ?"
    conn.executemany(
        f"UPDATE invoices SET {sql}, modified_on = ? WHERE invoice_id = ?",  # noqa: S608 - fixed fragments
        [(status, now, invoice_id) for invoice_id in ids],
    )


def payment_confirmation_request(call: Call) -> str:
    """paymentConfirmationRequest: the supplier confirms (or rejects) a buyer payment."""
    checker = Checker(call.body)
    ids = checker.string_list("invoiceIds", required=True)
    checker.string("paymentId", required=True)
    checker.string("remarks", required=True)
    response = checker.string("response", required=True, choices=PAYMENT_RESPONSES)
    checker.string("type", required=True, choices=PAYMENT_TYPES)
    checker.done()
    with call.store.tx() as conn:
        statuses = _check_ids(conn, ids, call.company_id)
        cancelled = [i for i, s in statuses.items() if s == ReceivableStatus.CANCELLED]
        if cancelled:
            raise validation_error([SubError("invoiceIds", cancelled, "invoices are CANCELLED")])
        if response == "ACCEPT":
            _set(conn, ids, ReceivableStatus.PAID.value)
    return f"Payment {response} recorded for {len(ids)} invoice(s)"


def change_invoice_status_request(call: Call) -> str:
    """changeInvoiceStatusRequest: set the receivable status of invoices."""
    checker = Checker(call.body)
    ids = checker.string_list("invoiceIds", required=True)
    checker.string("remarks", required=True)
    status = checker.string("status", required=True, choices=RECEIVABLE_NAMES)
    checker.done()
    with call.store.tx() as conn:
        _check_ids(conn, ids, call.company_id)
        _set(conn, ids, status)
    return f"Status {status} set for {len(ids)} invoice(s)"
