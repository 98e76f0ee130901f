"""Reminder schedules against a fake EnKash: one copy per stage, counted right when answers are lost."""

from __future__ import annotations

import pytest

from ar_sync.exactly_once import Night
from ar_sync.reminder_policy import DEFAULT_SCHEDULE, changes_needed, ensure_reminders, on_schedule
from ar_sync.run_ledger import RunLedger
from enkash_ar.errors import AuthenticationError
from enkash_ar.models import Customer, CustomerReminder
from tests.engine.fakes import SELLER, FakeEnkash

NIGHT = "2026-11-24"


def reminder(stage: str, reminder_id: str, **timing: object) -> CustomerReminder:
    rule = next(r for r in DEFAULT_SCHEDULE if r.stage == stage)
    doc = {**rule.body().model_dump(by_alias=True, mode="json"), "customerReminderId": reminder_id, **timing}
    return CustomerReminder.model_validate(doc)


def customer(customer_id: str, ref: str, reminders: list[CustomerReminder] | None = None) -> Customer:
    return Customer.model_validate(
        {
            "customerId": customer_id,
            "uniqueRefNo": ref,
            "customerReminders": [r.model_dump(by_alias=True) for r in reminders or []],
        }
    )


def test_changes_keep_one_copy_per_stage_preferring_one_on_time() -> None:
    held = [
        reminder("before_due", "R1", reminderTime="09:00"),
        reminder("before_due", "R2"),
        reminder("on_due", "R3", reminderTime="08:00"),
        reminder("on_due", "R4", reminderTime="07:00"),
        CustomerReminder.model_validate({"customerReminderId": "R5", "stage": "portal-extra"}),
    ]
    changes = changes_needed(held, DEFAULT_SCHEDULE)
    assert changes.delete == ("R1", "R4")
    assert [(rid, rule.stage) for rid, rule in changes.update] == [("R3", "on_due")]
    assert [rule.stage for rule in changes.create] == ["after_due"]
    assert not on_schedule(held, DEFAULT_SCHEDULE)
    full = [reminder("before_due", "A"), reminder("on_due", "B"), reminder("after_due", "C")]
    assert on_schedule(full, DEFAULT_SCHEDULE)
    assert not on_schedule([*full, reminder("on_due", "D")], DEFAULT_SCHEDULE)


def test_duplicated_stages_are_removed_and_counted(tmp_path: object) -> None:
    fake = FakeEnkash()
    for stage, rid in (("before_due", "R1"), ("before_due", "R2"), ("on_due", "R3"), ("after_due", "R4")):
        fake.reminders["KC1"].append(reminder(stage, rid).model_dump(by_alias=True))
    night = Night(RunLedger(":memory:"), SELLER, NIGHT)
    searched = customer("KC1", "C1", [CustomerReminder.model_validate(r) for r in fake.reminders["KC1"]])

    rows = ensure_reminders(fake, night, [searched])  # type: ignore[arg-type]

    assert sorted(r["customerReminderId"] for r in fake.reminders["KC1"]) == ["R1", "R3", "R4"]
    assert {(r["stage"], r["key"], r["outcome"]) for r in rows.iter_rows(named=True)} == {
        ("reminders", "C1", "success"),
        ("reminders_deduplicate", "C1/R2", "success"),
    }


def test_a_customer_whose_answers_were_lost_counts_as_set_once_it_is_on_schedule() -> None:
    fake = FakeEnkash(script={"createCustomerReminder": ["lost", "lost", "lost"]})
    night = Night(RunLedger(":memory:"), SELLER, NIGHT)

    rows = ensure_reminders(fake, night, [customer("KC1", "C1")])  # type: ignore[arg-type]

    assert len(fake.reminders["KC1"]) == 3  # each rule once, although every answer was lost
    # Planned from the search first, then from a read after each lost answer.
    assert fake.calls["getCustomerReminders"] == 3
    assert rows.filter(rows["stage"] == "reminders")["outcome"].to_list() == ["success"]
    assert night.ledger.night_results(SELLER, NIGHT)["outcome"].to_list() == ["success"]


def test_refused_credentials_stop_every_customer_of_the_chunk() -> None:
    refusal = AuthenticationError(
        "getAuthenticationToken failed (HTTP 401): Bad credentials", status_code=401
    )
    fake = FakeEnkash(script={"getCustomerReminders": [refusal] * 50})
    night = Night(RunLedger(":memory:"), SELLER, NIGHT)
    # Customers whose reminders must be read first (the search did not carry them).
    unread = [Customer.model_validate({"customerId": f"KC{n}", "uniqueRefNo": f"C{n}"}) for n in range(20)]
    with pytest.raises(AuthenticationError):
        ensure_reminders(fake, night, unread)  # type: ignore[arg-type]
    assert fake.calls.get("createCustomerReminder", 0) == 0


def test_customers_on_schedule_cost_nothing() -> None:
    fake = FakeEnkash()
    full = [reminder("before_due", "A"), reminder("on_due", "B"), reminder("after_due", "C")]
    rows = ensure_reminders(fake, Night(RunLedger(":memory:"), SELLER, NIGHT), [customer("KC1", "C1", full)])  # type: ignore[arg-type]
    assert rows.is_empty() and not fake.calls


def test_a_customer_searched_tonight_and_never_written_is_planned_from_the_search() -> None:
    fake = FakeEnkash()
    night = Night(RunLedger(":memory:"), SELLER, NIGHT)
    partial = customer("KC1", "C1", [reminder("before_due", "R1")])
    fake.reminders["KC1"].append(reminder("before_due", "R1").model_dump(by_alias=True))

    rows = ensure_reminders(fake, night, [partial, customer("KC2", "C2")])  # type: ignore[arg-type]

    assert fake.calls.get("getCustomerReminders", 0) == 0
    assert fake.calls["createCustomerReminder"] == 2 + 3
    assert sorted(r["stage"] for r in fake.reminders["KC1"]) == ["after_due", "before_due", "on_due"]
    assert rows["outcome"].to_list() == ["success", "success"]


def test_a_customer_an_earlier_attempt_wrote_to_is_read_before_anything_is_sent() -> None:
    # A run killed mid-chunk: its batch is in the ledger, and EnKash holds what it created. The search
    # this night's picture came from predates those writes.
    fake = FakeEnkash()
    ledger = RunLedger(":memory:")
    ledger.begin_batch(SELLER, "reminders", "createCustomerReminder", ["C1"], night=NIGHT)
    for stage, rid in (("before_due", "R1"), ("on_due", "R2")):
        fake.reminders["KC1"].append(reminder(stage, rid).model_dump(by_alias=True))
    stale = customer("KC1", "C1")

    ensure_reminders(fake, Night(ledger, SELLER, NIGHT), [stale])  # type: ignore[arg-type]

    assert fake.calls["getCustomerReminders"] == 1
    assert sorted(r["stage"] for r in fake.reminders["KC1"]) == ["after_due", "before_due", "on_due"]


def test_a_search_that_does_not_carry_reminders_is_not_taken_for_none() -> None:
    fake = FakeEnkash()
    fake.reminders["KC1"].append(reminder("before_due", "R1").model_dump(by_alias=True))
    silent = Customer.model_validate({"customerId": "KC1", "uniqueRefNo": "C1"})  # no customerReminders

    ensure_reminders(fake, Night(RunLedger(":memory:"), SELLER, NIGHT), [silent])  # type: ignore[arg-type]

    assert fake.calls["getCustomerReminders"] == 1
    assert sorted(r["stage"] for r in fake.reminders["KC1"]) == ["after_due", "before_due", "on_due"]
