"""searchCollectionInvoices and searchCustomer: filters, ordering and offset paging.

Query: ``offset`` >= 0 (default 0), ``limit`` 1..5000 (default 100), ``orderBy`` one of the member
names in ``INVOICE_ORDER`` / ``CUSTOMER_ORDER`` (default ``createdOn``), ``direction`` ASC | DESC
(default ASC). Ties are broken by the id in the same direction, so paging with ``offset`` is
deterministic. List filters are matched exactly; ``customerLegalName`` / ``legalName`` are
case-insensitive substrings; range filters are inclusive and read as UTC ``yyyy-MM-dd HH:mm:ss``.

Beyond the documented invoice filters, the sandbox honours ``externalIds``, ``invoiceNumbers``,
``invoiceIds`` and ``receivableStatuses`` (lists); the body allows additional members. Unknown members
are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from enkash_ar.contract import CUSTOMER_ID_PATTERN, MAX_SEARCH_LIMIT, SortDirection
from sandbox.checks import MISSING, Checker, query_int
from sandbox.customers import customer_answer
from sandbox.envelope import SubError, validation_error
from sandbox.invoices import APPROVAL_NAMES, RECEIVABLE_NAMES, SELECT_INVOICE, invoice_answer
from sandbox.state import Call

DEFAULT_LIMIT = 100
INVOICE_ORDER = {
    "createdOn": "i.created_on",
    "modifiedOn": "i.modified_on",
    "dueDate": "i.due_date",
    "invoiceDate": "i.invoice_date",
    "invoiceNumber": "i.invoice_number",
    "externalId": "i.external_id",
    "invoiceId": "i.invoice_id",
    "baseAmount": "i.base_amount",
    "netAmount": "i.net_amount",
    "balanceAmount": "i.balance_amount",
    "dispatchedOn": "i.dispatched_on",
    "customerId": "i.customer_id",
}
CUSTOMER_ORDER = {
    "createdOn": "created_on",
    "modifiedOn": "modified_on",
    "legalName": "legal_name",
    "uniqueRefNo": "unique_ref_no",
    "customerId": "customer_id",
}


def _paging(query: Mapping[str, str], order: Mapping[str, str]) -> tuple[int, int, str, str]:
    errors: list[SubError] = []
    offset, err = query_int(query, "offset", 0, 0, 2**31 - 1)
    errors += [err] if err else []
    limit, err = query_int(query, "limit", DEFAULT_LIMIT, 1, MAX_SEARCH_LIMIT)
    errors += [err] if err else []
    order_by = query.get("orderBy", "createdOn")
    if order_by not in order:
        errors.append(SubError("orderBy", order_by, f"must be one of {sorted(order)}"))
    direction = query.get("direction", "ASC")
    if direction not in {d.value for d in SortDirection}:
        errors.append(SubError("direction", direction, "must be ASC or DESC"))
    if errors:
        raise validation_error(errors)
    return offset, limit, order.get(order_by, ""), direction


class _Where:
    """SQL conditions and their parameters, built from checked filters."""

    def __init__(self) -> None:
        self.parts: list[str] = ["1 = 1"]
        self.params: list[Any] = []

    def add(self, value: Any, sql: str, param: Any = None) -> None:
        if value is MISSING:
            return
        self.parts.append(sql)
        self.params.append(value if param is None else param)

    def add_list(self, value: Any, column: str) -> None:
        # json_each keeps one bound parameter however long the list is; an empty list filters nothing.
        if value is MISSING or not value:
            return
        self.add(value, f"{column} IN (SELECT value FROM json_each(?))", json.dumps(value))  # noqa: S608

    @property
    def sql(self) -> str:
        return " AND ".join(self.parts)


def search_collection_invoices(call: Call) -> list[dict[str, Any]]:
    """searchCollectionInvoices: a page of invoices matching the body filters."""
    f = Checker(call.body)
    where = _Where()
    where.parts.append("i.deleted = 0 AND i.seller_id = ?")
    where.params.append(call.company_id)
    where.add_list(f.string_list("approvalStatuses", choices=APPROVAL_NAMES), "i.approval_status")
    where.add_list(f.string_list("receivableStatuses", choices=RECEIVABLE_NAMES), "i.receivable_status")
    where.add_list(f.string_list("customerIds", pattern=CUSTOMER_ID_PATTERN), "i.customer_id")
    for name, column in (
        ("externalIds", "i.external_id"),
        ("invoiceNumbers", "i.invoice_number"),
        ("invoiceIds", "i.invoice_id"),
    ):
        where.add_list(f.string_list(name), column)
    f.string_list("collectionMode")
    for prefix, column in (("balanceAmount", "i.balance_amount"), ("baseAmount", "i.base_amount")):
        where.add(f.number(prefix + "From"), f"{column} >= ?")
        where.add(f.number(prefix + "To"), f"{column} <= ?")
    for prefix, column in (
        ("createdOn", "i.created_on"),
        ("dispatchedOn", "i.dispatched_on"),
        ("dueDate", "(i.due_date || 'T00:00:00')"),
    ):
        where.add(f.timestamp(prefix + "From"), f"{column} >= ?")
        to = f.timestamp(prefix + "To")
        # "~" sorts after every character of an ISO timestamp, so the whole "To" second is included.
        where.add(to, f"{column} <= ?", None if to is MISSING else to + "~")
    where.add(f.string("createdVia"), "i.via = ?")
    deleted = f.boolean("customerDeleted")
    where.add(deleted, "COALESCE(c.deleted, 0) = ?", None if deleted is MISSING else int(deleted))
    name = f.string("customerLegalName")
    where.add(name, "instr(lower(c.legal_name), lower(?)) > 0")
    where.add(f.string("customerStatus", choices=["ACTIVE", "INACTIVE"]), "c.status = ?")
    dispatched = f.boolean("dispatched")
    where.add(dispatched, "i.dispatched = ?", None if dispatched is MISSING else int(dispatched))
    offset, limit, column, direction = _paging(call.query, INVOICE_ORDER)
    f.done()
    sql = (
        f"{SELECT_INVOICE} WHERE {where.sql} ORDER BY {column} {direction}, i.invoice_id {direction} "
        "LIMIT ? OFFSET ?"
    )
    with call.store.tx() as conn:
        rows = conn.execute(sql, (*where.params, limit, offset)).fetchall()
    return [invoice_answer(r) for r in rows]


def search_customer(call: Call) -> list[dict[str, Any]]:
    """searchCustomer: a page of live customers of the company matching the body filters."""
    f = Checker(call.body)
    where = _Where()
    where.parts.append("deleted = 0 AND company_id = ?")
    where.params.append(call.company_id)
    where.add(f.string("legalName"), "instr(lower(legal_name), lower(?)) > 0")
    where.add_list(f.string_list("uniqueRefNos"), "unique_ref_no")
    where.add_list(f.string_list("customerIds", pattern=CUSTOMER_ID_PATTERN), "customer_id")
    where.add(f.string("status", choices=["ACTIVE", "INACTIVE"]), "status = ?")
    where.add(f.string("accountNumber"), "account_number = ?")
    where.add(f.string("assignedAgent"), "assigned_agent = ?")
    offset, limit, column, direction = _paging(call.query, CUSTOMER_ORDER)
    f.done()
    sql = (
        f"SELECT doc FROM customers WHERE {where.sql} "  # noqa: S608 - whitelisted columns only
        f"ORDER BY {column} {direction}, customer_id {direction} LIMIT ? OFFSET ?"
    )
    with call.store.tx() as conn:
        docs = [json.loads(r[0]) for r in conn.execute(sql, (*where.params, limit, offset))]
        return [customer_answer(conn, d) for d in docs]
