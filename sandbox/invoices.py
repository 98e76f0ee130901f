"""Invoices: createInvoice, getInvoice, updateInvoice (PATCH), dispatch and delete collections.

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
  before (the portal would e-mail again); every successful dispatch adds one to ``dispatch_count``
  (visible in ``GET /_sandbox/state``);
- deleting an invoice is a soft delete: it answers 404 afterwards and no search returns it.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from enkash_ar.contract import (
    CUSTOMER_ID_PATTERN,
    EMAIL_PATTERN,
    MIN_BASE_AMOUNT,
    MOBILE_PATTERN,
    ApprovalStatus,
    ReceivableStatus,
)
from sandbox.checks import MISSING, NULL, Checker, query_company
from sandbox.customers import load_customer
from sandbox.envelope import not_found
from sandbox.state import Call
from sandbox.store import INVOICE_COLUMN_NAMES, INVOICE_FIELDS, utc_now_iso

_SELLER = "sellerId"
_STATUS_MEMBERS = {"approvalStatus", "receivableStatus", "payoutStatus"}
_HIDDEN = {"dispatchCount"}
_CLOSED = {ReceivableStatus.PAID.value, ReceivableStatus.CANCELLED.value}
APPROVAL_NAMES = [s.value for s in ApprovalStatus]
RECEIVABLE_NAMES = [s.value for s in ReceivableStatus]
DEFAULT_APPROVAL = ApprovalStatus.APPROVER_APPROVED.value

SELECT_INVOICE = (
    "SELECT i.*, c.legal_name AS customer_legal_name FROM invoices i "
    "LEFT JOIN customers c ON c.customer_id = i.customer_id"
)
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
INVOICE_BOOLS = ("partialPaymentAllowed", "gstExclusive", "chargeCustomer")
TAX_MEMBERS = ("cgst", "sgst", "igst", "tds")
_COLUMN_OF = {c.member: c.name for c in INVOICE_FIELDS}


def status_value(name: str) -> dict[str, str]:
    """An EnumResponse ``{label, name}`` for a status name."""
    return {"label": name.replace("_", " ").title(), "name": name}


def net_amount(
    base: float, cgst: float | None, sgst: float | None, igst: float | None, tds: float | None
) -> float:
    """``baseAmount + cgst + sgst + igst - tds``, rounded to paise."""
    return round(base + (cgst or 0) + (sgst or 0) + (igst or 0) - (tds or 0), 2)


def invoice_answer(row: sqlite3.Row) -> dict[str, Any]:
    """The Invoice response object of one joined row; members without a value are left out."""
    answer: dict[str, Any] = {}
    for column in INVOICE_FIELDS:
        value = row[column.name]
        if value is None or column.member in _HIDDEN:
            continue
        if column.kind == "bool":
            value = bool(value)
        elif column.member in _STATUS_MEMBERS:
            value = status_value(value)
        answer[column.member] = value
    if row["customer_legal_name"] is not None:
        answer["customerLegalName"] = row["customer_legal_name"]
    answer["hasKeyContacts"] = True
    answer["invoiceAttachments"] = []
    return answer


def load_invoice(conn: sqlite3.Connection, invoice_id: str, seller_id: str) -> sqlite3.Row:
    """The live invoice row of ``seller_id``; 404 otherwise."""
    row: sqlite3.Row | None = conn.execute(
        f"{SELECT_INVOICE} WHERE i.invoice_id = ? AND i.seller_id = ? AND i.deleted = 0",
        (invoice_id, seller_id),
    ).fetchone()
    if row is None:
        raise not_found("Invoice", invoice_id)
    return row


def insert_invoices(call: Call, conn: sqlite3.Connection, records: list[dict[str, Any]]) -> list[str]:
    """Insert invoice records (members by Invoice name); ids, amounts and statuses are set here."""
    ids = call.store.invoice_ids(conn, len(records))
    now = utc_now_iso()
    rows = []
    for record, invoice_id in zip(records, ids, strict=True):
        net = net_amount(record["baseAmount"], *(record.get(t) for t in TAX_MEMBERS))
        record.update(
            invoiceId=invoice_id,
            sellerId=call.company_id,
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
        rows.append(tuple(record.get(c.member) for c in INVOICE_FIELDS))
    marks = ", ".join("?" * len(INVOICE_FIELDS))
    conn.executemany(f"INSERT INTO invoices ({', '.join(INVOICE_COLUMN_NAMES)}) VALUES ({marks})", rows)  # noqa: S608
    return ids


def _check_invoice_members(checker: Checker, *, update: bool) -> dict[str, Any]:
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


def create_invoice(call: Call) -> dict[str, Any]:
    """createInvoice: one invoice for a customer of the token's company."""
    checker = Checker(call.body)
    values = _check_invoice_members(checker, update=False)
    for owned in ("netAmount", "balanceAmount", "totalReceived"):
        checker.number(owned)
    checker.string("receivableStatus")
    dispatch_now = checker.boolean("dispatchNow")
    seller = checker.string("sellerId")
    checker.done()
    if isinstance(seller, str):
        query_company({"sellerId": seller}, "sellerId", call.company_id)
    record = {k: v for k, v in values.items() if v is not MISSING}
    with call.store.tx() as conn:
        load_customer(conn, record["customerId"], call.company_id)
        (invoice_id,) = insert_invoices(call, conn, [record])
        if dispatch_now is True:
            dispatch_rows(conn, [invoice_id], call.company_id, call.base_url, None)
        return invoice_answer(load_invoice(conn, invoice_id, call.company_id))


def get_invoice(call: Call) -> dict[str, Any]:
    """getInvoice: one invoice by id."""
    query_company(call.query, _SELLER, call.company_id)
    with call.store.tx() as conn:
        return invoice_answer(load_invoice(conn, call.path["invoiceId"], call.company_id))


def update_invoice(call: Call) -> dict[str, Any]:
    """updateInvoice: JsonNullable partial update; amounts are recomputed."""
    checker = Checker(call.body, nullable=True)
    values = _check_invoice_members(checker, update=True)
    values["receivableStatus"] = checker.string("receivableStatus", choices=RECEIVABLE_NAMES)
    for owned in ("balanceAmount", "totalReceived"):
        values[owned] = checker.number(owned, minimum=0)
    net_given = checker.number("netAmount")
    checker.boolean("dispatchNow")
    query_company(call.query, _SELLER, call.company_id)
    checker.done()
    with call.store.tx() as conn:
        row = load_invoice(conn, call.path["invoiceId"], call.company_id)
        if isinstance(values["customerId"], str):
            load_customer(conn, values["customerId"], call.company_id)
        current = {c.member: row[c.name] for c in INVOICE_FIELDS}
        for name, value in values.items():
            if value is NULL:
                current[name] = None
            elif value is not MISSING:
                current[name] = value
        net = net_amount(current["baseAmount"], *(current[t] for t in TAX_MEMBERS))
        if isinstance(net_given, float) and abs(net_given - net) > 0.005:
            checker.fail("netAmount", net_given, f"must equal baseAmount + cgst + sgst + igst - tds = {net}")
            checker.done()
        current["netAmount"] = net
        if values["balanceAmount"] is MISSING or values["balanceAmount"] is NULL:
            current["balanceAmount"] = max(round(net - (current["totalReceived"] or 0), 2), 0.0)
        current["modifiedOn"] = utc_now_iso()
        sets = ", ".join(f"{_COLUMN_OF[m]} = ?" for m in current if m != "invoiceId")
        params = [v for m, v in current.items() if m != "invoiceId"]
        conn.execute(f"UPDATE invoices SET {sets} WHERE invoice_id = ?", (*params, current["invoiceId"]))  # noqa: S608
        return invoice_answer(load_invoice(conn, current["invoiceId"], call.company_id))


def dispatch_rows(
    conn: sqlite3.Connection, invoice_ids: list[str], seller_id: str, base_url: str, partial: bool | None
) -> dict[str, list[dict[str, str]]]:
    """Dispatch each invoice; the InvoiceBulkActionResult (one item per id, in request order)."""
    result: dict[str, list[dict[str, str]]] = {"successInvoices": [], "failureInvoices": []}
    now = utc_now_iso()
    for invoice_id in invoice_ids:
        row = conn.execute(
            "SELECT receivable_status FROM invoices WHERE invoice_id = ? AND seller_id = ? AND deleted = 0",
            (invoice_id, seller_id),
        ).fetchone()
        if row is None:
            result["failureInvoices"].append({"invoiceId": invoice_id, "message": "Invoice not found"})
        elif row[0] in _CLOSED:
            result["failureInvoices"].append({"invoiceId": invoice_id, "message": f"Invoice is {row[0]}"})
        else:
            conn.execute(
                "UPDATE invoices SET dispatched = 1, dispatched_on = ?, dispatch_count = dispatch_count + 1, "
                "payment_link = ?, modified_on = ?, "
                "partial_payment_allowed = COALESCE(?, partial_payment_allowed) WHERE invoice_id = ?",
                (now, f"{base_url}pay/{invoice_id}", now, partial, invoice_id),
            )
            result["successInvoices"].append({"invoiceId": invoice_id, "message": "Invoice dispatched"})
    return result


def _invoice_ids(call: Call) -> tuple[list[str], Any]:
    checker = Checker(call.body)
    ids = checker.string_list("invoiceIds", required=True)
    partial = checker.boolean("partialPaymentAllowed")
    checker.done()
    return ids, None if partial is MISSING else partial


def dispatch_invoice_collection(call: Call) -> dict[str, list[dict[str, str]]]:
    """dispatchInvoiceCollection: send payment links; counts every successful dispatch."""
    ids, partial = _invoice_ids(call)
    with call.store.tx() as conn:
        return dispatch_rows(conn, ids, call.company_id, call.base_url, partial)


def delete_invoice_collection(call: Call) -> dict[str, list[dict[str, str]]]:
    """deleteInvoiceCollection: soft-delete each invoice; per-invoice result."""
    ids, _ = _invoice_ids(call)
    result: dict[str, list[dict[str, str]]] = {"successInvoices": [], "failureInvoices": []}
    with call.store.tx() as conn:
        for invoice_id in ids:
            changed = conn.execute(
                "UPDATE invoices SET deleted = 1, modified_on = ? WHERE invoice_id = ? AND seller_id = ? "
                "AND deleted = 0",
                (utc_now_iso(), invoice_id, call.company_id),
            ).rowcount
            key, message = (
                ("successInvoices", "Invoice deleted")
                if changed
                else ("failureInvoices", "Invoice not found")
            )
            result[key].append({"invoiceId": invoice_id, "message": message})
    return result
