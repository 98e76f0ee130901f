"""Payment reminder schedules of a customer: their rules, their table and their CRUD.

Rules (x-inferred, the portal pages were not retrievable):

- ``reminderType`` (ONCE | RECURRING), ``reminderTime`` (``HH:mm``) and ``dueDateDifference`` are
  required; ``dueDateDifference`` is days relative to the due date: negative = before, 0 = on the due
  date, positive = after;
- ``reminderInterval`` is days between reminders, >= 0, default 0; a RECURRING reminder needs >= 1;
- ``stage`` is a free label; ``customerReminderId`` in a body is ignored (the sandbox assigns ids);
- a reminder belongs to a live customer of the token's company (404 otherwise);
- replacing a reminder (PUT) replaces the whole reminder with the body.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from enkash_ar.contract import CUSTOMER_ID_PATTERN, REMINDER_TIME_PATTERN, ReminderType
from sandbox.backend.checks import MISSING, Checker
from sandbox.backend.customer_table import load_customer
from sandbox.backend.store import Store
from sandbox.errors import not_found


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
    store: Store, conn: sqlite3.Connection, customer_id: str, doc: dict[str, Any]
) -> dict[str, Any]:
    """Store a validated reminder for ``customer_id``; the CustomerReminder it became."""
    reminder_id = store.reminder_id(conn)
    seq = store.next_numbers(conn, "reminder_seq")[0]
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


def delete_reminders_of(conn: sqlite3.Connection, customer_id: str) -> None:
    """Remove every reminder of ``customer_id``."""
    conn.execute("DELETE FROM reminders WHERE customer_id = ?", (customer_id,))


def _stored(conn: sqlite3.Connection, customer_id: str, reminder_id: str) -> dict[str, Any]:
    row = conn.execute(
        "SELECT doc FROM reminders WHERE reminder_id = ? AND customer_id = ?", (reminder_id, customer_id)
    ).fetchone()
    if row is None:
        raise not_found("Reminder", reminder_id)
    doc: dict[str, Any] = json.loads(row[0])
    return doc


class ReminderBackend:
    """Reminder schedules under a customer: create, list, read, replace, delete."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def _live_customer(
        conn: sqlite3.Connection, company_id: str, customer_id: str, checker: Checker | None = None
    ) -> None:
        """Check the path id with the body's sub-errors (400), then that the customer is live (404)."""
        checker = checker or Checker({})
        checker.path_value("customerId", customer_id, CUSTOMER_ID_PATTERN)
        checker.done()
        load_customer(conn, customer_id, company_id)

    def create(self, company_id: str, customer_id: str, body: Any) -> dict[str, Any]:
        """Add one reminder schedule to a customer; the CustomerReminder."""
        checker = Checker(body)
        doc = check_reminder(checker)
        with self.store.tx() as conn:
            self._live_customer(conn, company_id, customer_id, checker)
            return insert_reminder(self.store, conn, customer_id, doc)

    def list_of(self, company_id: str, customer_id: str) -> list[dict[str, Any]]:
        """Every reminder of a customer, oldest first."""
        with self.store.tx() as conn:
            self._live_customer(conn, company_id, customer_id)
            return reminders_of(conn, customer_id)

    def get(self, company_id: str, customer_id: str, reminder_id: str) -> dict[str, Any]:
        """One reminder of a customer; 404 when either is unknown."""
        with self.store.tx() as conn:
            self._live_customer(conn, company_id, customer_id)
            return _stored(conn, customer_id, reminder_id)

    def replace(self, company_id: str, customer_id: str, reminder_id: str, body: Any) -> dict[str, Any]:
        """Replace a reminder with the body (it keeps its id); the new CustomerReminder."""
        checker = Checker(body)
        doc = check_reminder(checker)
        with self.store.tx() as conn:
            self._live_customer(conn, company_id, customer_id, checker)
            old = _stored(conn, customer_id, reminder_id)
            full = {"customerReminderId": old["customerReminderId"], "customerId": customer_id, **doc}
            conn.execute(
                "UPDATE reminders SET doc = ? WHERE reminder_id = ?",
                (json.dumps(full), old["customerReminderId"]),
            )
            return full

    def delete(self, company_id: str, customer_id: str, reminder_id: str) -> str:
        """Remove a reminder; the id of the reminder removed."""
        with self.store.tx() as conn:
            self._live_customer(conn, company_id, customer_id)
            old = _stored(conn, customer_id, reminder_id)
            conn.execute("DELETE FROM reminders WHERE reminder_id = ?", (old["customerReminderId"],))
            removed: str = old["customerReminderId"]
            return removed
