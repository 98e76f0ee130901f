"""Invoices: create, read, update (JsonNullable), dispatch and delete collections.

Decisions (x-inferred):

- ``netAmount = baseAmount + cgst + sgst + igst - tds`` (what the customer is asked to pay; TDS is
  withheld by the payer), rounded to 2 decimals; a new invoice has ``balanceAmount = netAmount``,
  ``totalReceived = 0``, ``receivableStatus`` UNPAID, ``payoutStatus`` PENDING and, unless given,
  ``approvalStatus`` APPROVER_APPROVED;
- on create, ``netAmount``, ``balanceAmount``, ``totalReceived`` and ``receivableStatus`` are
  server-owned: type-checked, then ignored;
- invoices are NOT deduplicated by ``externalId`` or ``invoiceNumber``: a second upload is a second
  invoice;
- an unknown ``customerId`` in a body answers 404 RECORD_NOT_FOUND;
- dispatch succeeds for any live invoice that is not PAID or CANCELLED, also when it was dispatched
  before (the portal would e-mail again); every successful dispatch adds one to ``dispatchCount``
  (visible in ``GET /_sandbox/state``, never in an answer);
- deleting an invoice is a soft delete: it answers 404 afterwards and no search returns it.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Final

from enkash_ar.contract import (
    CUSTOMER_ID_PATTERN,
    EMAIL_PATTERN,
    MIN_BASE_AMOUNT,
    MOBILE_PATTERN,
    ApprovalStatus,
    ReceivableStatus,
)
from sandbox.backend.checks import MISSING, NULL, Checker, check_company
from sandbox.backend.customer_table import load_customer
from sandbox.backend.invoice_table import (
    InvoiceRecord,
    insert_invoices,
    load_invoice,
    receivable_status,
    save_invoice,
)
from sandbox.backend.store import Store, utc_now_iso

APPROVAL_NAMES: Final = [s.value for s in ApprovalStatus]
RECEIVABLE_NAMES: Final = [s.value for s in ReceivableStatus]
DEFAULT_APPROVAL: Final = ApprovalStatus.APPROVER_APPROVED.value
_CLOSED: Final = {ReceivableStatus.PAID.value, ReceivableStatus.CANCELLED.value}
#: Optional text members of create and update: (member, pattern or None).
INVOICE_STRINGS: tuple[tuple[str, str | None], ...] = (
    ("externalId", None),
    ("invoiceNumber", None),
    ("description", None),
    ("poNumber", None),
    ("payableReferenceId", None),
    ("via", None),
    ("emailAddress", EMAIL_PATTERN),
    ("mobileNumber", MOBILE_PATTERN),
)
INVOICE_BOOLS: Final = ("partialPaymentAllowed", "gstExclusive", "chargeCustomer")
TAX_MEMBERS: Final = ("cgst", "sgst", "igst", "tds")

#: The per-invoice outcome of a collection action: ``{"successInvoices": [...], "failureInvoices": [...]}``.
BulkActionResult = dict[str, list[dict[str, str]]]


def net_amount(
    base: float, cgst: float | None, sgst: float | None, igst: float | None, tds: float | None
) -> float:
    """``baseAmount + cgst + sgst + igst - tds``, rounded to paise."""
    return round(base + (cgst or 0) + (sgst or 0) + (igst or 0) - (tds or 0), 2)


def new_invoice(record: dict[str, Any], seller_id: str, now: str) -> dict[str, Any]:
    """A checked create body (by member name) completed with what the server owns on a new invoice."""
    net = net_amount(record["baseAmount"], *(record.get(t) for t in TAX_MEMBERS))
    record.update(
        sellerId=seller_id,
        netAmount=net,
        balanceAmount=net,
        totalReceived=0.0,
        receivableStatus=ReceivableStatus.UNPAID.value,
        payoutStatus="PENDING",
        dispatched=False,
        dispatchCount=0,
        createdOn=now,
        modifiedOn=now,
    )
    record.setdefault("approvalStatus", DEFAULT_APPROVAL)
    return record


def _check_members(checker: Checker, *, update: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        "customerId": checker.string(
            "customerId", required=not update, pattern=CUSTOMER_ID_PATTERN, nullable=False
        ),
        "dueDate": checker.date("dueDate", required=True),
        "baseAmount": checker.number("baseAmount", required=True, minimum=MIN_BASE_AMOUNT),
        "invoiceDate": checker.date_time("invoiceDate"),
        "approvalStatus": checker.string("approvalStatus", choices=APPROVAL_NAMES),
    }
    for tax in TAX_MEMBERS:
        values[tax] = checker.number(tax, minimum=0)
    for name, pattern in INVOICE_STRINGS:
        values[name] = checker.string(name, pattern=pattern)
    for name in INVOICE_BOOLS:
        values[name] = checker.boolean(name)
    return values


def dispatch_invoices(
    conn: sqlite3.Connection, invoice_ids: list[str], seller_id: str, link_base: str, partial: bool | None
) -> BulkActionResult:
    """Dispatch each invoice (one result item per id, in request order); counts every success.

    ``link_base`` is the URL the payment links start with; ``partial`` sets ``partialPaymentAllowed``
    when not None.
    """
    result: BulkActionResult = {"successInvoices": [], "failureInvoices": []}
    now = utc_now_iso()
    for invoice_id in invoice_ids:
        status = receivable_status(conn, invoice_id, seller_id)
        if status is None:
            result["failureInvoices"].append({"invoiceId": invoice_id, "message": "Invoice not found"})
        elif status in _CLOSED:
            result["failureInvoices"].append({"invoiceId": invoice_id, "message": f"Invoice is {status}"})
        else:
            conn.execute(
                "UPDATE invoices SET dispatched = 1, dispatched_on = ?, dispatch_count = dispatch_count + 1, "
                "payment_link = ?, modified_on = ?, "
                "partial_payment_allowed = COALESCE(?, partial_payment_allowed) WHERE invoice_id = ?",
                (now, f"{link_base}pay/{invoice_id}", now, partial, invoice_id),
            )
            result["successInvoices"].append({"invoiceId": invoice_id, "message": "Invoice dispatched"})
    return result


def _invoice_ids(body: Any) -> tuple[list[str], bool | None]:
    checker = Checker(body)
    ids = checker.string_list("invoiceIds", required=True)
    partial = checker.boolean("partialPaymentAllowed")
    checker.done()
    return ids, None if partial is MISSING else partial


class InvoiceBackend:
    """Invoices of a seller (the token's company) and their collection actions."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, company_id: str, body: Any, link_base: str) -> InvoiceRecord:
        """One invoice for a live customer of the company, dispatched at once when ``dispatchNow``."""
        checker = Checker(body)
        values = _check_members(checker, update=False)
        for owned in ("netAmount", "balanceAmount", "totalReceived"):
            checker.number(owned)
        checker.string("receivableStatus")
        dispatch_now = checker.boolean("dispatchNow")
        seller = checker.string("sellerId")
        checker.done()
        if isinstance(seller, str):
            check_company("sellerId", seller, company_id)
        record = {k: v for k, v in values.items() if v is not MISSING}
        with self.store.tx() as conn:
            load_customer(conn, record["customerId"], company_id)
            (invoice_id,) = insert_invoices(
                self.store, conn, [new_invoice(record, company_id, utc_now_iso())]
            )
            if dispatch_now is True:
                dispatch_invoices(conn, [invoice_id], company_id, link_base, None)
            return load_invoice(conn, invoice_id, company_id)

    def get(self, company_id: str, invoice_id: str) -> InvoiceRecord:
        """One live invoice of the company; 404 otherwise."""
        with self.store.tx() as conn:
            return load_invoice(conn, invoice_id, company_id)

    def update(self, company_id: str, invoice_id: str, body: Any) -> InvoiceRecord:
        """JsonNullable partial update; amounts are recomputed and ``netAmount``, if given, must agree."""
        checker = Checker(body, nullable=True)
        values = _check_members(checker, update=True)
        values["receivableStatus"] = checker.string("receivableStatus", choices=RECEIVABLE_NAMES)
        for owned in ("balanceAmount", "totalReceived"):
            values[owned] = checker.number(owned, minimum=0)
        net_given = checker.number("netAmount")
        checker.boolean("dispatchNow")
        checker.done()
        with self.store.tx() as conn:
            current = load_invoice(conn, invoice_id, company_id)
            if isinstance(values["customerId"], str):
                load_customer(conn, values["customerId"], company_id)
            for name, value in values.items():
                if value is NULL:
                    current[name] = None
                elif value is not MISSING:
                    current[name] = value
            net = net_amount(current["baseAmount"], *(current[t] for t in TAX_MEMBERS))
            if isinstance(net_given, float) and abs(net_given - net) > 0.005:
                checker.fail(
                    "netAmount", net_given, f"must equal baseAmount + cgst + sgst + igst - tds = {net}"
                )
                checker.done()
            current["netAmount"] = net
            if values["balanceAmount"] is MISSING or values["balanceAmount"] is NULL:
                current["balanceAmount"] = max(round(net - (current["totalReceived"] or 0), 2), 0.0)
            current["modifiedOn"] = utc_now_iso()
            save_invoice(conn, current)
            return load_invoice(conn, invoice_id, company_id)

    def dispatch(self, company_id: str, body: Any, link_base: str) -> BulkActionResult:
        """Send payment links for ``invoiceIds``; per-invoice outcome."""
        ids, partial = _invoice_ids(body)
        with self.store.tx() as conn:
            return dispatch_invoices(conn, ids, company_id, link_base, partial)

    def delete(self, company_id: str, body: Any) -> BulkActionResult:
        """Soft-delete each of ``invoiceIds``; per-invoice outcome."""
        ids, _ = _invoice_ids(body)
        result: BulkActionResult = {"successInvoices": [], "failureInvoices": []}
        with self.store.tx() as conn:
            for invoice_id in ids:
                changed = conn.execute(
                    "UPDATE invoices SET deleted = 1, modified_on = ? WHERE invoice_id = ? AND seller_id = ? "
                    "AND deleted = 0",
                    (utc_now_iso(), invoice_id, company_id),
                ).rowcount
                key, message = (
                    ("successInvoices", "Invoice deleted")
                    if changed
                    else ("failureInvoices", "Invoice not found")
                )
                result[key].append({"invoiceId": invoice_id, "message": message})
        return result
