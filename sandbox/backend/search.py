"""Invoice and customer searches: filters, ordering, and pages (keyset inside, offset outside).

Ordering is by one member of ``INVOICE_ORDER`` / ``CUSTOMER_ORDER`` (default ``createdOn``), ASC or DESC;
ties are broken by the id in the same direction, so paging with ``offset`` is deterministic. List filters
are matched exactly; ``customerLegalName`` / ``legalName`` are case-insensitive substrings; range filters
are inclusive and read as UTC ``yyyy-MM-dd HH:mm:ss``.

Beyond the documented invoice filters, the sandbox honours ``externalIds``, ``invoiceNumbers``,
``invoiceIds`` and ``receivableStatuses`` (lists); the body allows additional members. Unknown members
are ignored.

A page is found by seeking from where an earlier page ended when one did (``sandbox.backend.keyset_paging``
says why the result is the same as OFFSET's); otherwise by OFFSET.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Generic, Literal, TypeVar

from enkash_ar.contract import CUSTOMER_ID_PATTERN
from sandbox.backend.checks import MISSING, Checker
from sandbox.backend.customers import with_reminders
from sandbox.backend.invoice_table import FROM_INVOICES, RECORD_COLUMNS, InvoiceRecord, record_of
from sandbox.backend.invoices import APPROVAL_NAMES, RECEIVABLE_NAMES
from sandbox.backend.keyset_paging import SeekKey, SeekMarks, seek_condition
from sandbox.backend.store import Store

T = TypeVar("T")
Bound = Literal["lower", "upper"]

DEFAULT_LIMIT: Final = 100
INVOICE_ORDER: Final = {
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
CUSTOMER_ORDER: Final = {
    "createdOn": "created_on",
    "modifiedOn": "modified_on",
    "legalName": "legal_name",
    "uniqueRefNo": "unique_ref_no",
    "customerId": "customer_id",
}


@dataclass(frozen=True)
class PageRequest:
    """Which page: rows ``offset`` .. ``offset + limit - 1`` in ``order_by`` (a member name) ``direction``."""

    offset: int = 0
    limit: int = DEFAULT_LIMIT
    order_by: str = "createdOn"
    direction: Literal["ASC", "DESC"] = "ASC"
    #: also count every match (for answers that carry a total, such as a Spring Page)
    count_total: bool = False


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of search results and the request it answers."""

    items: list[T]
    request: PageRequest
    #: every match, when the request asked for the count
    total: int | None = None


@dataclass(frozen=True)
class _Term:
    sql: str
    params: tuple[Any, ...]
    #: a range on this column expression: (column, which end), for dropping what a seek implies
    bound: tuple[str, Bound] | None = None


class _Where:
    """SQL conditions and their parameters, built from checked filters."""

    def __init__(self, scope_sql: str, company_id: str) -> None:
        self.terms: list[_Term] = [_Term(scope_sql, (company_id,))]

    def add(self, value: Any, sql: str, param: Any = None, bound: tuple[str, Bound] | None = None) -> None:
        if value is MISSING:
            return
        self.terms.append(_Term(sql, (value if param is None else param,), bound))

    def add_list(self, value: Any, column: str) -> None:
        # json_each keeps one bound parameter however long the list is; an empty list filters nothing.
        if value is MISSING or not value:
            return
        self.add(value, f"{column} IN (SELECT value FROM json_each(?))", json.dumps(value))  # noqa: S608

    def bounds_on(self, column: str) -> bool:
        """Whether a range filter is set on ``column`` (so no row with a NULL there can match)."""
        return any(t.bound is not None and t.bound[0] == column for t in self.terms)

    def sql(self, *, implied: tuple[str, Bound] | None = None) -> tuple[str, list[Any]]:
        """The conditions ANDed, leaving out the terms that are ``implied`` bounds."""
        kept = [t for t in self.terms if implied is None or t.bound != implied]
        return " AND ".join(t.sql for t in kept), [p for t in kept for p in t.params]

    def key(self) -> tuple[Any, ...]:
        """What identifies these filters (for the seek marks)."""
        return tuple((t.sql, t.params) for t in self.terms)


class SearchBackend:
    """Pages of invoices and customers matching body filters."""

    def __init__(self, store: Store, marks: SeekMarks | None = None) -> None:
        self.store = store
        self.marks = marks or SeekMarks()

    def _rows(
        self,
        conn: sqlite3.Connection,
        columns: str,
        source: str,
        where: _Where,
        order: tuple[str, str],
        page: PageRequest,
    ) -> list[sqlite3.Row]:
        """The rows of ``page``: ``columns``, then the row's order value and id (for the next seek)."""
        order_sql, id_sql = order
        direction = page.direction
        query = (source, where.key(), order_sql, direction)
        version = self.store.data_version(conn)
        mark = self.marks.nearest(query, version, page.offset)
        if mark is None:
            conditions, params = where.sql()
            skip = page.offset
        else:
            position, key = mark
            bounded = where.bounds_on(order_sql)
            # The seek already keeps every row on the far side of the key: the range filter's own end
            # on that side adds nothing and would only compete with the seek for the order index.
            implied: tuple[str, Bound] = (order_sql, "lower" if direction == "ASC" else "upper")
            conditions, params = where.sql(implied=implied if bounded else None)
            seek_sql, seek_params = seek_condition(
                order_sql, id_sql, direction, key, nulls_possible=not bounded
            )
            conditions, params = f"{conditions} AND {seek_sql}", [*params, *seek_params]
            skip = page.offset - position
        sql = (
            f"SELECT {columns}, {order_sql}, {id_sql} {source} WHERE {conditions} "
            f"ORDER BY {order_sql} {direction}, {id_sql} {direction} LIMIT ? OFFSET ?"
        )
        rows: list[sqlite3.Row] = conn.execute(sql, (*params, page.limit, skip)).fetchall()
        if rows:
            self.marks.remember(query, version, page.offset + len(rows), SeekKey(rows[-1][-2], rows[-1][-1]))
        return rows

    def _total(self, conn: sqlite3.Connection, source: str, where: _Where, page: PageRequest) -> int | None:
        """Every row matching ``where``, when ``page`` asks for the count."""
        if not page.count_total:
            return None
        conditions, params = where.sql()
        count: int = conn.execute(f"SELECT COUNT(*) {source} WHERE {conditions}", params).fetchone()[0]
        return count

    def invoices(self, company_id: str, body: Any, page: PageRequest) -> Page[InvoiceRecord]:
        """A page of live invoices of the seller matching the body filters."""
        f = Checker(body)
        where = _Where("i.deleted = 0 AND i.seller_id = ?", company_id)
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
            where.add(f.number(prefix + "From"), f"{column} >= ?", bound=(column, "lower"))
            where.add(f.number(prefix + "To"), f"{column} <= ?", bound=(column, "upper"))
        for prefix, column in (
            ("createdOn", "i.created_on"),
            ("dispatchedOn", "i.dispatched_on"),
            ("dueDate", "(i.due_date || 'T00:00:00')"),
        ):
            where.add(f.timestamp(prefix + "From"), f"{column} >= ?", bound=(column, "lower"))
            to = f.timestamp(prefix + "To")
            # "~" sorts after every character of an ISO timestamp, so the whole "To" second is included.
            where.add(to, f"{column} <= ?", None if to is MISSING else to + "~", bound=(column, "upper"))
        where.add(f.string("createdVia"), "i.via = ?")
        deleted = f.boolean("customerDeleted")
        where.add(deleted, "COALESCE(c.deleted, 0) = ?", None if deleted is MISSING else int(deleted))
        where.add(f.string("customerLegalName"), "instr(lower(c.legal_name), lower(?)) > 0")
        where.add(f.string("customerStatus", choices=["ACTIVE", "INACTIVE"]), "c.status = ?")
        dispatched = f.boolean("dispatched")
        where.add(dispatched, "i.dispatched = ?", None if dispatched is MISSING else int(dispatched))
        f.done()
        order = (_order_column(INVOICE_ORDER, page.order_by), "i.invoice_id")
        with self.store.tx() as conn:
            rows = self._rows(conn, RECORD_COLUMNS, FROM_INVOICES, where, order, page)
            total = self._total(conn, FROM_INVOICES, where, page)
        return Page([record_of(r) for r in rows], page, total)

    def customers(self, company_id: str, body: Any, page: PageRequest) -> Page[dict[str, Any]]:
        """A page of live customers of the company (with their reminders) matching the body filters."""
        f = Checker(body)
        where = _Where("deleted = 0 AND company_id = ?", company_id)
        where.add(f.string("legalName"), "instr(lower(legal_name), lower(?)) > 0")
        where.add_list(f.string_list("uniqueRefNos"), "unique_ref_no")
        where.add_list(f.string_list("customerIds", pattern=CUSTOMER_ID_PATTERN), "customer_id")
        where.add(f.string("status", choices=["ACTIVE", "INACTIVE"]), "status = ?")
        where.add(f.string("accountNumber"), "account_number = ?")
        where.add(f.string("assignedAgent"), "assigned_agent = ?")
        f.done()
        order = (_order_column(CUSTOMER_ORDER, page.order_by), "customer_id")
        with self.store.tx() as conn:
            docs = [json.loads(r[0]) for r in self._rows(conn, "doc", "FROM customers", where, order, page)]
            total = self._total(conn, "FROM customers", where, page)
            return Page([with_reminders(conn, d) for d in docs], page, total)


def _order_column(order: Mapping[str, str], member: str) -> str:
    try:
        return order[member]
    except KeyError:
        raise ValueError(f"cannot order by {member!r}; one of {sorted(order)}") from None
