"""Customers: create, update (JsonNullable), activate/deactivate, delete, key contacts.

Decisions (x-inferred):

- ``legalName`` and ``customerKeyContacts`` (at least one contact) are required on create;
- customers are not deduplicated by ``uniqueRefNo`` (no such promise is documented);
- delete is a soft delete: the customer answers 404 from then on, its invoices keep their
  ``customerLegalName`` and can be found with the search filter ``customerDeleted``; its reminders go;
- update follows JsonNullable: absent = unchanged, null = cleared, value = set; the required members
  (``legalName``, ``customerKeyContacts``) cannot be cleared; a ``customerReminders`` list replaces all
  reminders of the customer;
- a new customer is ACTIVE.

A customer is returned as its document plus ``customerReminders`` (its schedules, oldest first).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from enkash_ar.contract import (
    ACCOUNT_NUMBER_PATTERN,
    COMPANY_ID_PATTERN,
    CUSTOMER_ID_PATTERN,
    EMAIL_PATTERN,
    IFSC_PATTERN,
    MOBILE_PATTERN,
)
from sandbox.backend.checks import MISSING, NULL, Checker, check_company
from sandbox.backend.customer_table import (
    insert_customers,
    load_customer,
    mark_customer_deleted,
    new_contact,
    save_customer,
)
from sandbox.backend.reminders import check_reminder, delete_reminders_of, insert_reminder, reminders_of
from sandbox.backend.store import Store, utc_now_iso

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


def check_contacts(checker: Checker, name: str = "customerKeyContacts") -> Any:
    """Validate a key contact list; the list of contact documents, or MISSING."""
    value = checker.data.get(name, MISSING)
    if value is MISSING:
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


def check_reminder_list(checker: Checker, *, nullable: bool = False) -> Any:
    """Validate ``customerReminders``: a list of reminder documents, MISSING, or NULL (when nullable)."""
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


def with_reminders(conn: sqlite3.Connection, doc: dict[str, Any]) -> dict[str, Any]:
    """A customer document with its reminder schedules, as the API returns a Customer."""
    return {**doc, "customerReminders": reminders_of(conn, doc["customerId"])}


def _checked_path(customer_id: str, checker: Checker | None = None) -> None:
    checker = checker or Checker({})
    checker.path_value("customerId", customer_id, CUSTOMER_ID_PATTERN)
    checker.done()


class CustomerBackend:
    """Customers of a company and their key contacts."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, company_id: str, body: Any) -> dict[str, Any]:
        """One customer with its key contacts (and optional reminders); the Customer."""
        checker = Checker(body)
        doc: dict[str, Any] = {"legalName": checker.string("legalName", required=True)}
        for name, pattern in CUSTOMER_STRINGS:
            doc[name] = checker.string(name, pattern=pattern)
        doc["customerCompanyId"] = checker.string("customerCompanyId")
        doc["externalSource"] = checker.boolean("externalSource")
        doc["branchCodes"] = checker.string_list("branchCodes")
        company = checker.string("companyId", pattern=COMPANY_ID_PATTERN)
        doc["customerKeyContacts"] = check_contacts(checker)
        reminders = check_reminder_list(checker)
        checker.done()
        if isinstance(company, str):
            check_company("companyId", company, company_id)
        doc = {k: v for k, v in doc.items() if v is not MISSING}
        with self.store.tx() as conn:
            (customer_id,) = insert_customers(self.store, conn, company_id, [doc])
            for reminder in reminders or []:
                insert_reminder(self.store, conn, customer_id, reminder)
            return with_reminders(conn, doc)

    def update(self, company_id: str, customer_id: str, body: Any) -> dict[str, Any]:
        """JsonNullable partial update of a live customer; the Customer."""
        checker = Checker(body, nullable=True)
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
        reminders = check_reminder_list(checker, nullable=True)
        _checked_path(customer_id, checker)
        if isinstance(body_id, str) and body_id != customer_id:
            checker.fail("customerId", body_id, "must equal the customerId in the path")
            checker.done()
        with self.store.tx() as conn:
            doc = load_customer(conn, customer_id, company_id)
            for name, value in changes.items():
                if value is NULL:
                    doc.pop(name, None)
                elif value is not MISSING:
                    doc[name] = value
            if isinstance(changes.get("customerKeyContacts"), list):
                doc["customerKeyContacts"] = [
                    new_contact(self.store, conn, c) for c in changes["customerKeyContacts"]
                ]
            if reminders is not MISSING:
                delete_reminders_of(conn, customer_id)
                for reminder in [] if reminders is NULL else reminders:
                    insert_reminder(self.store, conn, customer_id, reminder)
            doc["modifiedOn"] = utc_now_iso()
            save_customer(conn, doc)
            return with_reminders(conn, doc)

    def set_status(self, company_id: str, customer_id: str, status: str) -> dict[str, Any]:
        """Activate (``ACTIVE``) or deactivate (``INACTIVE``) a live customer; the Customer."""
        _checked_path(customer_id)
        with self.store.tx() as conn:
            doc = load_customer(conn, customer_id, company_id)
            doc.update(status=status, modifiedOn=utc_now_iso())
            save_customer(conn, doc)
            return with_reminders(conn, doc)

    def delete(self, company_id: str, customer_id: str) -> None:
        """Soft-delete a live customer and drop its reminders."""
        _checked_path(customer_id)
        with self.store.tx() as conn:
            load_customer(conn, customer_id, company_id)
            mark_customer_deleted(conn, customer_id)
            delete_reminders_of(conn, customer_id)

    def contacts(self, company_id: str, customer_id: str) -> list[dict[str, Any]]:
        """The key contacts of a live customer."""
        _checked_path(customer_id)
        with self.store.tx() as conn:
            contacts: list[dict[str, Any]] = load_customer(conn, customer_id, company_id)[
                "customerKeyContacts"
            ]
            return contacts
