"""Customers: createCustomer, updateCustomer (PATCH), activate/deactivate, delete, key contacts.

Decisions (x-inferred):

- ``legalName`` and ``customerKeyContacts`` (at least one contact) are required on create;
- customers are not deduplicated by ``uniqueRefNo`` (no such promise is documented);
- delete is a soft delete: the customer answers 404 from then on, its invoices keep their
  ``customerLegalName`` and can be found with the search filter ``customerDeleted``;
- updateCustomer follows JsonNullable: absent = unchanged, null = cleared, value = set; the required
  members (``legalName``, ``customerKeyContacts``) cannot be cleared; a ``customerReminders`` list
  replaces all reminders of the customer;
- a new customer is ACTIVE.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from enkash_ar.contract import (
    ACCOUNT_NUMBER_PATTERN,
    COMPANY_ID_PATTERN,
    CUSTOMER_ID_PATTERN,
    EMAIL_PATTERN,
    IFSC_PATTERN,
    MOBILE_PATTERN,
    ErrorType,
)
from sandbox.checks import MISSING, NULL, Checker, query_company
from sandbox.envelope import ApiError, not_found
from sandbox.reminders import check_reminder, insert_reminder, reminders_of
from sandbox.state import Call
from sandbox.store import utc_now_iso

_PARENT = "parentCompanyId"
#: Plain string members: (name, pattern or None).
CUSTOMER_STRINGS: tuple[tuple[str, str | None], ...] = (
    ("uniqueRefNo", None),
    ("contactNumber", MOBILE_PATTERN),
    ("panOrGstin", None),
    ("address", None),
    ("state", None),
    ("pinCode", None),
    ("accountNumber", ACCOUNT_NUMBER_PATTERN),
    ("ifsc", IFSC_PATTERN),
    ("assignedAgent", None),
)


def check_contacts(checker: Checker, name: str = "customerKeyContacts", *, nullable: bool = False) -> Any:
    """Validate a key contact list; the list of contact documents, MISSING or NULL."""
    value = checker.data.get(name, MISSING)
    if value is MISSING or (value is None and nullable and name not in checker.data):
        if not checker.nullable:
            checker.fail(name, None, "must not be null")
        return MISSING
    if not isinstance(value, list) or not value:
        checker.fail(name, value, "must be a non-empty array of key contacts")
        return MISSING
    contacts = []
    for index, item in enumerate(value):
        sub = Checker(item, prefix=f"{checker.prefix}{name}[{index}].")
        contact = {
            "name": sub.string("name", required=True),
            "legalName": sub.string("legalName", required=True),
            "mobile": sub.string("mobile", required=True, pattern=MOBILE_PATTERN),
            "deleted": sub.boolean("deleted", required=True),
            "email": sub.string("email", pattern=EMAIL_PATTERN),
            "keyContactPersonId": sub.string("keyContactPersonId"),
            "mail_enabled": sub.boolean("mail_enabled"),
            "sms_enabled": sub.boolean("sms_enabled"),
            "whatsapp_enabled": sub.boolean("whatsapp_enabled"),
            "via": sub.string("via"),
        }
        checker.errors.extend(sub.errors)
        contacts.append({k: v for k, v in contact.items() if v is not MISSING})
    return contacts


def new_contact(conn: sqlite3.Connection, call: Call, contact: dict[str, Any]) -> dict[str, Any]:
    """A stored contact: sandbox-assigned ``keyContactPersonId`` and default channel flags."""
    return {
        "mail_enabled": True,
        "sms_enabled": True,
        "whatsapp_enabled": False,
        **contact,
        "keyContactPersonId": call.store.contact_id(conn),
    }


def customer_columns(doc: dict[str, Any]) -> tuple[Any, ...]:
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


def save_customer(conn: sqlite3.Connection, doc: dict[str, Any]) -> None:
    """Write back an existing customer document."""
    conn.execute(
        "UPDATE customers SET legal_name = ?, unique_ref_no = ?, status = ?, account_number = ?, "
        "assigned_agent = ?, modified_on = ?, doc = ? WHERE customer_id = ?",
        (*customer_columns(doc), doc["customerId"]),
    )


def insert_customers(call: Call, conn: sqlite3.Connection, docs: list[dict[str, Any]]) -> list[str]:
    """Insert new customer documents (ids, status, timestamps assigned here); their ids."""
    ids = call.store.customer_ids(conn, len(docs))
    seqs = call.store.next_numbers(conn, "customer_seq", len(docs))
    now = utc_now_iso()
    rows = []
    for doc, customer_id, seq in zip(docs, ids, seqs, strict=True):
        doc.update(
            customerId=customer_id, companyId=call.company_id, status="ACTIVE", createdOn=now, modifiedOn=now
        )
        doc["customerKeyContacts"] = [new_contact(conn, call, c) for c in doc.get("customerKeyContacts", [])]
        rows.append((customer_id, seq, call.company_id, now, *customer_columns(doc)))
    conn.executemany(
        "INSERT INTO customers (customer_id, seq, company_id, created_on, legal_name, unique_ref_no, status, "
        "account_number, assigned_agent, modified_on, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return ids


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


def customer_answer(conn: sqlite3.Connection, doc: dict[str, Any]) -> dict[str, Any]:
    """The Customer as answered: the document plus its reminders."""
    return {**doc, "customerReminders": reminders_of(conn, doc["customerId"])}


def _path_customer(call: Call, checker: Checker) -> str:
    query_company(call.query, _PARENT, call.company_id)
    customer_id = call.path["customerId"]
    if not re.search(CUSTOMER_ID_PATTERN, customer_id):
        checker.fail("customerId", customer_id, f"must match {CUSTOMER_ID_PATTERN}")
    checker.done()
    return customer_id


def create_customer(call: Call) -> dict[str, Any]:
    """createCustomer: one customer with its key contacts (and optional reminders)."""
    checker = Checker(call.body)
    doc: dict[str, Any] = {"legalName": checker.string("legalName", required=True)}
    for name, pattern in CUSTOMER_STRINGS:
        doc[name] = checker.string(name, pattern=pattern)
    doc["customerCompanyId"] = checker.string("customerCompanyId")
    doc["externalSource"] = checker.boolean("externalSource")
    doc["branchCodes"] = checker.string_list("branchCodes")
    company = checker.string("companyId", pattern=COMPANY_ID_PATTERN)
    doc["customerKeyContacts"] = check_contacts(checker)
    reminders = _check_reminder_list(checker)
    checker.done()
    if isinstance(company, str) and company != call.company_id:
        raise ApiError(
            403, ErrorType.INVALID_ACCESS, f"companyId {company!r} is not the company of this token"
        )
    doc = {k: v for k, v in doc.items() if v is not MISSING}
    with call.store.tx() as conn:
        (customer_id,) = insert_customers(call, conn, [doc])
        for reminder in reminders or []:
            insert_reminder(call, conn, customer_id, reminder)
        return customer_answer(conn, doc)


def _check_reminder_list(checker: Checker, *, nullable: bool = False) -> Any:
    value = checker.data.get("customerReminders", MISSING)
    if value is MISSING:
        return MISSING
    if value is None:
        if nullable:
            return NULL
        checker.fail("customerReminders", None, "must not be null")
        return MISSING
    if not isinstance(value, list):
        checker.fail("customerReminders", value, "must be an array")
        return MISSING
    docs = []
    for index, item in enumerate(value):
        sub = Checker(item, prefix=f"customerReminders[{index}].")
        docs.append(check_reminder(sub))
        checker.errors.extend(sub.errors)
    return docs


def update_customer(call: Call) -> dict[str, Any]:
    """updateCustomer: JsonNullable partial update."""
    checker = Checker(call.body, nullable=True)
    changes: dict[str, Any] = {"legalName": checker.string("legalName", required=True)}
    for name, pattern in CUSTOMER_STRINGS:
        changes[name] = checker.string(name, pattern=pattern)
    changes["branchCodes"] = checker.string_list("branchCodes")
    body_id = checker.string("customerId", pattern=CUSTOMER_ID_PATTERN)
    if "customerKeyContacts" in checker.data:
        if checker.data["customerKeyContacts"] is None:
            checker.fail("customerKeyContacts", None, "must not be null (a customer needs a key contact)")
        else:
            changes["customerKeyContacts"] = check_contacts(checker)
    reminders = _check_reminder_list(checker, nullable=True)
    customer_id = _path_customer(call, checker)
    if isinstance(body_id, str) and body_id != customer_id:
        checker.fail("customerId", body_id, "must equal the customerId in the path")
        checker.done()
    with call.store.tx() as conn:
        doc = load_customer(conn, customer_id, call.company_id)
        for name, value in changes.items():
            if value is NULL:
                doc.pop(name, None)
            elif value is not MISSING:
                doc[name] = value
        if isinstance(changes.get("customerKeyContacts"), list):
            doc["customerKeyContacts"] = [new_contact(conn, call, c) for c in changes["customerKeyContacts"]]
        if reminders is not MISSING:
            conn.execute("DELETE FROM reminders WHERE customer_id = ?", (customer_id,))
            for reminder in [] if reminders is NULL else reminders:
                insert_reminder(call, conn, customer_id, reminder)
        doc["modifiedOn"] = utc_now_iso()
        save_customer(conn, doc)
        return customer_answer(conn, doc)


def _set_status(call: Call, status: str) -> dict[str, Any]:
    customer_id = _path_customer(call, Checker({}))
    with call.store.tx() as conn:
        doc = load_customer(conn, customer_id, call.company_id)
        doc.update(status=status, modifiedOn=utc_now_iso())
        save_customer(conn, doc)
        return customer_answer(conn, doc)


def activate_customer(call: Call) -> dict[str, Any]:
    """activateCustomer: status ACTIVE; answers the Customer."""
    return _set_status(call, "ACTIVE")


def deactivate_customer(call: Call) -> dict[str, Any]:
    """deactivateCustomer: status INACTIVE; answers the Customer."""
    return _set_status(call, "INACTIVE")


def delete_customer(call: Call) -> str:
    """deleteCustomerByCustomerId: soft delete; the payload is a confirmation string."""
    customer_id = _path_customer(call, Checker({}))
    with call.store.tx() as conn:
        load_customer(conn, customer_id, call.company_id)
        conn.execute(
            "UPDATE customers SET deleted = 1, modified_on = ? WHERE customer_id = ?",
            (utc_now_iso(), customer_id),
        )
        conn.execute("DELETE FROM reminders WHERE customer_id = ?", (customer_id,))
    return f"Customer {customer_id} deleted"


def get_customer_contact_details(call: Call) -> list[dict[str, Any]]:
    """getCustomerContactDetails: the customer's key contacts."""
    customer_id = _path_customer(call, Checker({}))
    with call.store.tx() as conn:
        contacts: list[dict[str, Any]] = load_customer(conn, customer_id, call.company_id)[
            "customerKeyContacts"
        ]
        return contacts
