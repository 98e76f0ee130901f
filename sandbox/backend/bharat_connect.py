"""Bharat Connect 2.0 AR: payment confirmation and receivable status changes of invoices.

(On the wire both answer the BcEnvelope; see ``sandbox.answers``.)

Rules (x-inferred):

- payment confirmation: ``response`` ACCEPT | REJECT | RETURN, ``type`` ONPLATFORM | OFFPLATFORM.
  When ``paymentId`` is a buyer's payment waiting for the supplier (``sandbox.backend.payments``), ACCEPT
  books that payment (in full or in part) and REJECT or RETURN drops it. Any other ``paymentId`` is a
  payment EnKash did not see (off platform): ACCEPT marks every invoice PAID, ``totalReceived =
  netAmount``, ``balanceAmount = 0``, the payment id as its reference; REJECT and RETURN leave the
  invoices unchanged. Every id must be a live invoice of the seller, else 404 and
  nothing changes. A CANCELLED invoice cannot be confirmed (400).
- change status: ``status`` is a ReceivableStatus name. PAID settles as above; UNPAID re-opens
  (``totalReceived = 0``, ``balanceAmount = netAmount``); PARTIALLY_PAID and CANCELLED only set the
  status (CANCELLED keeps the balance for the record but the invoice is no longer open).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from enkash_ar.contract import ReceivableStatus
from sandbox.backend.checks import Checker
from sandbox.backend.invoice_table import receivable_status
from sandbox.backend.invoices import RECEIVABLE_NAMES
from sandbox.backend.payments import PaymentBackend
from sandbox.backend.store import Store, utc_now_iso
from sandbox.errors import SubError, not_found, validation_error

PAYMENT_RESPONSES = ("ACCEPT", "REJECT", "RETURN")
PAYMENT_TYPES = ("ONPLATFORM", "OFFPLATFORM")


def _check_ids(conn: sqlite3.Connection, ids: list[str], seller_id: str) -> dict[str, str]:
    statuses: dict[str, str] = {}
    for invoice_id in ids:
        status = receivable_status(conn, invoice_id, seller_id)
        if status is None:
            raise not_found("Invoice", invoice_id)
        statuses[invoice_id] = status
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


class BharatConnectBackend:
    """Receivable status changes that come through Bharat Connect."""

    def __init__(self, store: Store, payments: PaymentBackend | None = None) -> None:
        self.store = store
        self.payments = payments or PaymentBackend(store)

    def confirm_payment(self, company_id: str, body: Any) -> tuple[str, int]:
        """The supplier confirms (ACCEPT) or refuses a buyer payment; (response, invoice count)."""
        checker = Checker(body)
        ids = checker.string_list("invoiceIds", required=True)
        payment_id = checker.string("paymentId", required=True)
        checker.string("remarks", required=True)
        response = checker.string("response", required=True, choices=PAYMENT_RESPONSES)
        checker.string("type", required=True, choices=PAYMENT_TYPES)
        checker.done()
        with self.store.tx() as conn:
            statuses = _check_ids(conn, ids, company_id)
            cancelled = [i for i, s in statuses.items() if s == ReceivableStatus.CANCELLED]
            if cancelled:
                raise validation_error([SubError("invoiceIds", cancelled, "invoices are CANCELLED")])
            waiting = self.payments.confirm(conn, payment_id, ids, accept=response == "ACCEPT")
            if response == "ACCEPT" and not waiting:
                _set(conn, ids, ReceivableStatus.PAID.value)
                conn.executemany(
                    "UPDATE invoices SET last_payment_on = ?, last_payment_reference = ?"
                    " WHERE invoice_id = ?",
                    [(utc_now_iso(), payment_id, invoice_id) for invoice_id in ids],
                )
        return response, len(ids)

    def change_status(self, company_id: str, body: Any) -> tuple[str, int]:
        """Set the receivable status of invoices; (status, invoice count)."""
        checker = Checker(body)
        ids = checker.string_list("invoiceIds", required=True)
        checker.string("remarks", required=True)
        status = checker.string("status", required=True, choices=RECEIVABLE_NAMES)
        checker.done()
        with self.store.tx() as conn:
            _check_ids(conn, ids, company_id)
            _set(conn, ids, status)
        return status, len(ids)
