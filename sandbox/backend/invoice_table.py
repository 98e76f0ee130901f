"""The invoices table: invoice records in and out.

An invoice record is a dict keyed by Invoice member names (``INVOICE_FIELDS`` order) holding the stored
values, booleans as ``bool``, statuses as their plain names, plus ``customerLegalName`` (the customer's
current legal name, None without one). How a record is worded on the wire (status objects, left-out
members) is ``sandbox.answers``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any, Final

from sandbox.backend.store import INVOICE_COLUMN_NAMES, INVOICE_FIELDS, Store
from sandbox.errors import not_found

InvoiceRecord = dict[str, Any]

#: The members of a record, in the order of the columns ``SELECT_INVOICE`` reads.
RECORD_MEMBERS: Final = (*(c.member for c in INVOICE_FIELDS), "customerLegalName")
_BOOL_MEMBERS: Final = tuple(c.member for c in INVOICE_FIELDS if c.kind == "bool")
_COLUMN_OF: Final = {c.member: c.name for c in INVOICE_FIELDS}

#: The columns of a record (``RECORD_MEMBERS`` order) and where they come from: invoices ``i`` joined with
#: their customer ``c``. A caller may select more columns after these.
RECORD_COLUMNS: Final = f"{', '.join('i.' + c for c in INVOICE_COLUMN_NAMES)}, c.legal_name"
FROM_INVOICES: Final = "FROM invoices i LEFT JOIN customers c ON c.customer_id = i.customer_id"
#: Invoice rows joined with their customer's name; callers add WHERE / ORDER BY.
SELECT_INVOICE: Final = f"SELECT {RECORD_COLUMNS} {FROM_INVOICES}"
_INSERT: Final = (
    f"INSERT INTO invoices ({', '.join(INVOICE_COLUMN_NAMES)}) "  # noqa: S608 - fixed column names
    f"VALUES ({', '.join('?' * len(INVOICE_FIELDS))})"
)


def record_of(row: Sequence[Any]) -> InvoiceRecord:
    """The invoice record of one ``SELECT_INVOICE`` row (extra trailing columns are ignored)."""
    record = dict(zip(RECORD_MEMBERS, row, strict=False))
    for member in _BOOL_MEMBERS:
        if record[member] is not None:
            record[member] = bool(record[member])
    return record


def load_invoice(conn: sqlite3.Connection, invoice_id: str, seller_id: str) -> InvoiceRecord:
    """The live invoice of ``seller_id``; 404 otherwise."""
    row = conn.execute(
        f"{SELECT_INVOICE} WHERE i.invoice_id = ? AND i.seller_id = ? AND i.deleted = 0",
        (invoice_id, seller_id),
    ).fetchone()
    if row is None:
        raise not_found("Invoice", invoice_id)
    return record_of(row)


def receivable_status(conn: sqlite3.Connection, invoice_id: str, seller_id: str) -> str | None:
    """The receivable status of a live invoice of ``seller_id``, or None when there is no such invoice."""
    row = conn.execute(
        "SELECT receivable_status FROM invoices WHERE invoice_id = ? AND seller_id = ? AND deleted = 0",
        (invoice_id, seller_id),
    ).fetchone()
    return None if row is None else str(row[0])


def insert_rows(conn: sqlite3.Connection, rows: Iterable[Sequence[Any]]) -> None:
    """Insert complete invoice rows (one value per ``INVOICE_FIELDS`` column, in that order)."""
    conn.executemany(_INSERT, rows)


def insert_invoices(store: Store, conn: sqlite3.Connection, records: list[dict[str, Any]]) -> list[str]:
    """Insert complete invoice records (by member name), each with a new ``invoiceId``; the ids."""
    ids = store.invoice_ids(conn, len(records))
    rows = []
    for record, invoice_id in zip(records, ids, strict=True):
        record["invoiceId"] = invoice_id
        rows.append(tuple(record.get(c.member) for c in INVOICE_FIELDS))
    insert_rows(conn, rows)
    return ids


def save_invoice(conn: sqlite3.Connection, record: InvoiceRecord) -> None:
    """Write back every member of an existing invoice record (``customerLegalName`` is not stored)."""
    members = [m for m in record if m in _COLUMN_OF and m != "invoiceId"]
    sets = ", ".join(f"{_COLUMN_OF[m]} = ?" for m in members)
    conn.execute(
        f"UPDATE invoices SET {sets} WHERE invoice_id = ?",  # noqa: S608 - whitelisted column names
        (*(record[m] for m in members), record["invoiceId"]),
    )
