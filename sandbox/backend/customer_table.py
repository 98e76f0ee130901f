"""The customers table: customer documents in and out, and the ids the sandbox assigns.

A customer is kept as its full JSON document (``doc``) plus the columns searches filter and order on.
Every function here runs inside one ``Store.tx()``; none of them validates a request (that is
``sandbox.backend.customers``).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from sandbox.backend.store import Store, utc_now_iso
from sandbox.errors import not_found


def new_contact(store: Store, conn: sqlite3.Connection, contact: dict[str, Any]) -> dict[str, Any]:
    """A stored key contact: sandbox-assigned ``keyContactPersonId`` and default channel flags."""
    return {
        "mail_enabled": True,
        "sms_enabled": True,
        "whatsapp_enabled": False,
        **contact,
        "keyContactPersonId": store.contact_id(conn),
    }


def _columns(doc: dict[str, Any]) -> tuple[Any, ...]:
    """The searchable columns of a customer document, in ``save_customer`` order."""
    return (
        doc.get("legalName"),
        doc.get("uniqueRefNo"),
        doc["status"],
        doc.get("accountNumber"),
        doc.get("assignedAgent"),
        doc["modifiedOn"],
        json.dumps(doc),
    )


def insert_customers(
    store: Store, conn: sqlite3.Connection, company_id: str, docs: list[dict[str, Any]]
) -> list[str]:
    """Insert new customer documents of ``company_id``; ids, status, timestamps and contact ids are
    assigned here (the documents are updated in place). Returns the new ids in order.
    """
    ids = store.customer_ids(conn, len(docs))
    seqs = store.next_numbers(conn, "customer_seq", len(docs))
    now = utc_now_iso()
    rows = []
    for doc, customer_id, seq in zip(docs, ids, seqs, strict=True):
        doc.update(
            customerId=customer_id, companyId=company_id, status="ACTIVE", createdOn=now, modifiedOn=now
        )
        doc["customerKeyContacts"] = [new_contact(store, conn, c) for c in doc.get("customerKeyContacts", [])]
        rows.append((customer_id, seq, company_id, now, *_columns(doc)))
    conn.executemany(
        "INSERT INTO customers (customer_id, seq, company_id, created_on, legal_name, unique_ref_no, status, "
        "account_number, assigned_agent, modified_on, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return ids


def save_customer(conn: sqlite3.Connection, doc: dict[str, Any]) -> None:
    """Write back an existing customer document."""
    conn.execute(
        "UPDATE customers SET legal_name = ?, unique_ref_no = ?, status = ?, account_number = ?, "
        "assigned_agent = ?, modified_on = ?, doc = ? WHERE customer_id = ?",
        (*_columns(doc), doc["customerId"]),
    )


def load_customer(conn: sqlite3.Connection, customer_id: str, company_id: str) -> dict[str, Any]:
    """The stored document of a live customer of ``company_id``; 404 otherwise."""
    row = conn.execute(
        "SELECT doc FROM customers WHERE customer_id = ? AND company_id = ? AND deleted = 0",
        (customer_id, company_id),
    ).fetchone()
    if row is None:
        raise not_found("Customer", customer_id)
    doc: dict[str, Any] = json.loads(row[0])
    return doc


def mark_customer_deleted(conn: sqlite3.Connection, customer_id: str) -> None:
    """Soft-delete a customer: it stays in the table (its invoices keep its name) but is no longer live."""
    conn.execute(
        "UPDATE customers SET deleted = 1, modified_on = ? WHERE customer_id = ?",
        (utc_now_iso(), customer_id),
    )


def live_customer_ids(conn: sqlite3.Connection, company_id: str) -> list[str]:
    """The ids of every live customer of ``company_id``."""
    rows = conn.execute(
        "SELECT customer_id FROM customers WHERE company_id = ? AND deleted = 0", (company_id,)
    ).fetchall()
    return [r[0] for r in rows]
