"""Reminder schedules, proved on the backend directly: CRUD under a live customer and the schedule rules."""

from __future__ import annotations

from typing import Any

from backend_helpers import SELLER, add_customer, refused, sub_error_fields

from sandbox.backend import ArBackend

ONCE: dict[str, Any] = {"dueDateDifference": -3, "reminderTime": "10:30", "reminderType": "ONCE"}


def test_reminder_crud(backend: ArBackend) -> None:
    cid = add_customer(backend)["customerId"]
    created = backend.reminders.create(SELLER, cid, {**ONCE, "customerReminderId": "MINE", "stage": "early"})
    rid = created["customerReminderId"]
    assert rid.startswith("REM") and created["customerId"] == cid
    assert (created["reminderInterval"], created["stage"]) == (0, "early")
    assert backend.reminders.list_of(SELLER, cid) == [created]
    recurring = {**ONCE, "reminderType": "RECURRING", "reminderInterval": 2}
    replaced = backend.reminders.replace(SELLER, cid, rid, recurring)
    assert replaced["customerReminderId"] == rid and "stage" not in replaced
    assert backend.reminders.get(SELLER, cid, rid) == replaced
    assert backend.reminders.delete(SELLER, cid, rid) == rid
    assert refused(lambda: backend.reminders.get(SELLER, cid, rid)).status == 404
    assert backend.reminders.list_of(SELLER, cid) == []


def test_reminders_are_listed_oldest_first_and_answered_with_their_customer(backend: ArBackend) -> None:
    cid = add_customer(backend)["customerId"]
    ids = [
        backend.reminders.create(SELLER, cid, {**ONCE, "dueDateDifference": d})["customerReminderId"]
        for d in (5, -5, 0)
    ]
    assert [r["customerReminderId"] for r in backend.reminders.list_of(SELLER, cid)] == ids
    contacts_and_reminders = backend.customers.set_status(SELLER, cid, "ACTIVE")["customerReminders"]
    assert [r["customerReminderId"] for r in contacts_and_reminders] == ids


def test_every_bad_member_is_reported_once(backend: ArBackend) -> None:
    cid = add_customer(backend)["customerId"]
    body = {
        "dueDateDifference": "x",
        "reminderTime": "25:00",
        "reminderType": "WEEKLY",
        "reminderInterval": -1,
    }
    error = refused(lambda: backend.reminders.create(SELLER, cid, body))
    assert sorted(sub_error_fields(error)) == [
        "dueDateDifference",
        "reminderInterval",
        "reminderTime",
        "reminderType",
    ]
    too_big = refused(lambda: backend.reminders.create(SELLER, cid, {**ONCE, "dueDateDifference": 2**31}))
    assert sub_error_fields(too_big) == ["dueDateDifference"]


def test_a_recurring_reminder_needs_an_interval_of_at_least_a_day(backend: ArBackend) -> None:
    cid = add_customer(backend)["customerId"]
    recurring = {**ONCE, "reminderType": "RECURRING"}
    no_interval = refused(lambda: backend.reminders.create(SELLER, cid, recurring))
    zero_interval = refused(
        lambda: backend.reminders.create(SELLER, cid, {**recurring, "reminderInterval": 0})
    )
    assert sub_error_fields(no_interval) == sub_error_fields(zero_interval) == ["reminderInterval"]
    assert backend.reminders.create(SELLER, cid, {**ONCE, "reminderType": "RECURRING", "reminderInterval": 1})


def test_the_customer_must_be_live_and_well_formed(backend: ArBackend) -> None:
    cid = add_customer(backend)["customerId"]
    malformed = refused(lambda: backend.reminders.create(SELLER, "nope", {**ONCE, "reminderTime": "x"}))
    assert sub_error_fields(malformed) == ["reminderTime", "customerId"]
    backend.customers.delete(SELLER, cid)
    assert refused(lambda: backend.reminders.create(SELLER, cid, ONCE)).status == 404
    assert refused(lambda: backend.reminders.list_of(SELLER, cid)).status == 404


def test_a_reminder_of_another_customer_is_not_found(backend: ArBackend) -> None:
    first, second = add_customer(backend)["customerId"], add_customer(backend)["customerId"]
    rid = backend.reminders.create(SELLER, first, ONCE)["customerReminderId"]
    assert refused(lambda: backend.reminders.get(SELLER, second, rid)).status == 404
    assert refused(lambda: backend.reminders.delete(SELLER, second, rid)).status == 404
    assert len(backend.reminders.list_of(SELLER, first)) == 1
