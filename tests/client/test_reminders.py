"""Reminder schedules of a customer against the sandbox."""

from __future__ import annotations

import pytest

from enkash_ar import Customer, CustomerReminderCreate, EnkashClient, NotFoundError, ValidationError
from enkash_ar.contract import ReminderType


def before_due(days: int = 3) -> CustomerReminderCreate:
    return CustomerReminderCreate(
        reminder_type=ReminderType.ONCE, reminder_time="10:30", due_date_difference=-days, stage="BEFORE_DUE"
    )


def test_reminder_lifecycle(client: EnkashClient, customer: Customer) -> None:
    cid = customer.customer_id
    assert cid
    created = client.create_customer_reminder(cid, before_due())
    rid = created.customer_reminder_id
    assert rid and created.customer_id == cid
    assert (created.reminder_time, created.due_date_difference, created.stage) == ("10:30", -3, "BEFORE_DUE")
    assert [r.customer_reminder_id for r in client.get_customer_reminders(cid)] == [rid]
    assert client.get_customer_reminder(cid, rid).model_dump() == created.model_dump()
    recurring = {
        "reminderType": "RECURRING",
        "reminderTime": "09:00",
        "dueDateDifference": 1,
        "reminderInterval": 7,
    }
    updated = client.update_customer_reminder(cid, rid, recurring)
    assert (updated.reminder_type, updated.reminder_interval, updated.customer_reminder_id) == (
        "RECURRING",
        7,
        rid,
    )
    assert updated.stage is None  # PUT replaces the whole reminder
    assert client.delete_reminder(cid, rid)
    assert client.get_customer_reminders(cid) == []
    with pytest.raises(NotFoundError):
        client.get_customer_reminder(cid, rid)


def test_create_reminder_of_unknown_customer(client: EnkashClient) -> None:
    with pytest.raises(NotFoundError, match="createCustomerReminder"):
        client.create_customer_reminder("KC00000000000000", before_due())


def test_recurring_reminder_needs_an_interval(client: EnkashClient, customer: Customer) -> None:
    assert customer.customer_id
    bad = CustomerReminderCreate(
        reminder_type=ReminderType.RECURRING, reminder_time="08:00", due_date_difference=0
    )
    with pytest.raises(ValidationError, match="reminderInterval"):
        client.create_customer_reminder(customer.customer_id, bad)


def test_update_and_delete_unknown_reminder(client: EnkashClient, customer: Customer) -> None:
    assert customer.customer_id
    with pytest.raises(NotFoundError):
        client.update_customer_reminder(customer.customer_id, "REM-NOPE", before_due())
    with pytest.raises(NotFoundError):
        client.delete_reminder(customer.customer_id, "REM-NOPE")
    with pytest.raises(NotFoundError):
        client.get_customer_reminders("KC00000000000000")


def test_reminder_time_is_checked_locally() -> None:
    with pytest.raises(ValueError, match=r"reminder_time|reminderTime"):
        CustomerReminderCreate(reminder_type=ReminderType.ONCE, reminder_time="25:00", due_date_difference=0)
