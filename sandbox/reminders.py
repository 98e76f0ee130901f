"""Payment reminder schedules of a customer: CRUD under ``/api/v0/customer/{customerId}/reminder``.

Rules (x-inferred, the portal pages were not retrievable):

- ``reminderType`` (ONCE | RECURRING), ``reminderTime`` (``HH:mm``) and ``dueDateDifference`` are
  required; ``dueDateDifference`` is days relative to the due date: negative = before, 0 = on the due
  date, positive = after;
- ``reminderInterval`` is days between reminders, >= 0, default 0; a RECURRING reminder needs >= 1;
- ``stage`` is a free label; ``customerReminderId`` in a body is ignored (the sandbox assigns ids).

updateCustomerReminder (PUT) replaces the whole reminder with the body.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from enkash_ar.contract import CUSTOMER_ID_PATTERN, REMINDER_TIME_PATTERN, ReminderType
from sandbox.checks import MISSING, Checker, query_company
from sandbox.envelope import not_found
from sandbox.state import Call

_PARENT = "parentCompanyId"


def check_reminder(checker: Checker) -> dict[str, Any]:
    """Validate one CustomerReminderCreateDTO read by ``checker``; the stored document (no id)."""
    reminder_type = checker.string("reminderType", required=True, choices=[t.value for t in ReminderType])
    reminder_time = checker.string("reminderTime", required=True, pattern=REMINDER_TIME_PATTERN)
    difference = checker.integer("dueDateDifference", required=True)
    interval = checker.integer("reminderInterval", minimum=0)
    stage = checker.string("stage")
    if reminder_type == ReminderType.RECURRING and (interval is MISSING or interval < 1):
        checker.fail(
            "reminderInterval",
            None if interval is MISSING else interval,
            "must be at least 1 for a RECURRING reminder",
        )
    doc: dict[str, Any] = {
        "dueDateDifference": difference,
        "reminderInterval": 0 if interval is MISSING else interval,
        "reminderTime": reminder_time,
        "reminderType": reminder_type,
    }
    if isinstance(stage, str):
        doc["stage"] = stage
    return doc


def insert_reminder(
    call: Call, conn: sqlite3.Connection, customer_id: str, doc: dict[str, Any]
) -> dict[str, Any]:
    """Store a validated reminder for ``customer_id``; the CustomerReminder answer."""
    reminder_id = call.store.reminder_id(conn)
    seq = call.store.next_numbers(conn, "reminder_seq")[0]
    full = {"customerReminderId": reminder_id, "customerId": customer_id, **doc}
    conn.execute(
        "INSERT INTO reminders (reminder_id, seq, customer_id, doc) VALUES (?, ?, ?, ?)",
        (reminder_id, seq, customer_id, json.dumps(full)),
    )
    return full


def reminders_of(conn: sqlite3.Connection, customer_id: str) -> list[dict[str, Any]]:
    """Every reminder of ``customer_id``, oldest first."""
    rows = conn.execute("SELECT doc FROM reminders WHERE customer_id = ? ORDER BY seq", (customer_id,))
    return [json.loads(r[0]) for r in rows]


def _customer(call: Call, conn: sqlite3.Connection, body: Checker | None = None) -> str:
    """Check the scope, the path id and the body (400/403), then that the customer exists (404)."""
    from sandbox.customers import load_customer

    query_company(call.query, _PARENT, call.company_id)
    customer_id = call.path["customerId"]
    checker = body or Checker({})
    if not re.search(CUSTOMER_ID_PATTERN, customer_id):
        checker.fail("customerId", customer_id, f"must match {CUSTOMER_ID_PATTERN}")
    checker.done()
    load_customer(conn, customer_id, call.company_id)
    return customer_id


def _reminder(conn: sqlite3.Connection, customer_id: str, reminder_id: str) -> dict[str, Any]:
    row = conn.execute(
        "SELECT doc FROM reminders WHERE reminder_id = ? AND customer_id = ?", (reminder_id, customer_id)
    ).fetchone()
    if row is None:
        raise not_found("Reminder", reminder_id)
    doc: dict[str, Any] = json.loads(row[0])
    return doc


def create_customer_reminder(call: Call) -> dict[str, Any]:
    """createCustomerReminder: add one reminder schedule to a customer."""
    checker = Checker(call.body)
    doc = check_reminder(checker)
    with call.store.tx() as conn:
        customer_id = _customer(call, conn, checker)
        return insert_reminder(call, conn, customer_id, doc)


def get_customer_reminders(call: Call) -> list[dict[str, Any]]:
    """getCustomerReminders: every reminder of a customer."""
    with call.store.tx() as conn:
        return reminders_of(conn, _customer(call, conn))


def get_customer_reminder(call: Call) -> dict[str, Any]:
    """getCustomerReminder: one reminder."""
    with call.store.tx() as conn:
        return _reminder(conn, _customer(call, conn), call.path["reminderId"])


def update_customer_reminder(call: Call) -> dict[str, Any]:
    """updateCustomerReminder: replace a reminder with the body."""
    checker = Checker(call.body)
    doc = check_reminder(checker)
    with call.store.tx() as conn:
        customer_id = _customer(call, conn, checker)
        old = _reminder(conn, customer_id, call.path["reminderId"])
        full = {"customerReminderId": old["customerReminderId"], "customerId": customer_id, **doc}
        conn.execute(
            "UPDATE reminders SET doc = ? WHERE reminder_id = ?",
            (json.dumps(full), old["customerReminderId"]),
        )
        return full


def delete_reminder(call: Call) -> str:
    """deleteReminder: remove a reminder; the payload is a confirmation string."""
    with call.store.tx() as conn:
        customer_id = _customer(call, conn)
        old = _reminder(conn, customer_id, call.path["reminderId"])
        conn.execute("DELETE FROM reminders WHERE reminder_id = ?", (old["customerReminderId"],))
        return f"Reminder {old['customerReminderId']} deleted"
