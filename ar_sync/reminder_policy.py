"""Payment-reminder schedules: the rules every customer should have, and making EnKash match them.

A schedule is a list of :class:`ReminderRule`, each identified by its ``stage`` name. For each customer
the cycle reads the reminders EnKash holds, creates the rules that are missing, updates the ones whose
timing differs, and leaves every other reminder alone (a human may have added it on the portal).
Reading before writing is also what keeps this exactly-once: a create whose answer was lost shows up
in the next read and is not sent again.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Final

import polars as pl
from pydantic import BaseModel, Field

from ar_sync.exactly_once import MAX_RECONCILE_ROUNDS, REFUSED_FOR_NOW, RESULT_SCHEMA
from ar_sync.run_ledger import Outcome, RunLedger
from enkash_ar.client import EnkashClient
from enkash_ar.contract import REMINDER_TIME_PATTERN, ReminderType
from enkash_ar.errors import APIError, EnkashError, OutcomeUnknownError, TransportError
from enkash_ar.models import Customer, CustomerReminder, CustomerReminderCreate

#: Customers brought on schedule at the same time (each is a few sequential calls).
REMINDER_WORKERS: Final = 4


class ReminderRule(BaseModel):
    """One reminder of the schedule.

    ``due_date_difference`` counts days relative to the due date: negative before it, 0 on it,
    positive after it. A RECURRING rule repeats every ``reminder_interval`` days from there.
    """

    stage: str = Field(min_length=1, description="Name of the rule; one reminder per stage and customer.")
    due_date_difference: int = Field(description="Days from the due date (negative: before).")
    reminder_type: ReminderType = Field(default=ReminderType.ONCE, description="ONCE or RECURRING.")
    reminder_interval: int = Field(default=0, ge=0, description="Days between RECURRING reminders.")
    reminder_time: str = Field(
        default="10:00", pattern=REMINDER_TIME_PATTERN, description="Time of day, HH:mm."
    )

    def body(self) -> CustomerReminderCreate:
        """The createCustomerReminder / updateCustomerReminder body for this rule."""
        return CustomerReminderCreate(
            stage=self.stage,
            due_date_difference=self.due_date_difference,
            reminder_type=self.reminder_type,
            reminder_interval=self.reminder_interval,
            reminder_time=self.reminder_time,
        )

    def matches(self, reminder: CustomerReminder) -> bool:
        """Whether an EnKash reminder already carries this rule's timing."""
        return (
            reminder.due_date_difference == self.due_date_difference
            and reminder.reminder_type == self.reminder_type.value
            and (reminder.reminder_interval or 0) == self.reminder_interval
            and reminder.reminder_time == self.reminder_time
        )


#: 3 days before the due date, on the due date, then every 7 days after it.
DEFAULT_SCHEDULE: Final = (
    ReminderRule(stage="before_due", due_date_difference=-3),
    ReminderRule(stage="on_due", due_date_difference=0),
    ReminderRule(
        stage="after_due", due_date_difference=7, reminder_type=ReminderType.RECURRING, reminder_interval=7
    ),
)


def on_schedule(reminders: Sequence[CustomerReminder], schedule: Sequence[ReminderRule]) -> bool:
    """Whether ``reminders`` already carry every rule of ``schedule``."""
    by_stage = {r.stage: r for r in reminders}
    return all(rule.stage in by_stage and rule.matches(by_stage[rule.stage]) for rule in schedule)


def _ensure_one(client: EnkashClient, customer_id: str, schedule: Sequence[ReminderRule]) -> tuple[int, int]:
    """Make one customer's reminders match ``schedule``; returns (created, updated).

    Every round reads the customer's reminders first and sends only the rules still off schedule, so a
    create whose answer was lost is seen in the next read and never sent twice. It gives up (raises
    :class:`~enkash_ar.errors.OutcomeUnknownError`) only after :data:`MAX_RECONCILE_ROUNDS` rounds in a
    row that brought no rule on schedule: a flaky connection that still lets rules through one by one
    is not an outage.
    """
    created = updated = 0
    idle_rounds = 0
    best = len(schedule) + 1
    while True:
        try:
            existing = {r.stage: r for r in client.get_customer_reminders(customer_id)}
        except (*REFUSED_FOR_NOW, TransportError):
            existing = None
        pending = (
            None
            if existing is None
            else [r for r in schedule if r.stage not in existing or not r.matches(existing[r.stage])]
        )
        if pending == []:
            return created, updated
        if pending is not None and len(pending) < best:
            best, idle_rounds = len(pending), 0
        elif idle_rounds >= MAX_RECONCILE_ROUNDS:
            raise OutcomeUnknownError(
                f"createCustomerReminder: reminders of customer {customer_id} still unconfirmed after"
                f" {MAX_RECONCILE_ROUNDS} attempts without progress; rerun the cycle: it reads them first",
                operation="createCustomerReminder",
            )
        idle_rounds += 1
        if existing is None or pending is None:
            continue
        try:
            for rule in pending:
                current = existing.get(rule.stage)
                if current is None:
                    client.create_customer_reminder(customer_id, rule.body())
                    created += 1
                elif current.customer_reminder_id:
                    client.update_customer_reminder(customer_id, current.customer_reminder_id, rule.body())
                    updated += 1
            # Every write was answered: the schedule is in place, no confirming read is needed.
            return created, updated
        except (OutcomeUnknownError, *REFUSED_FOR_NOW):
            # Lost (or refused for now): read again, whatever it did is visible then, and only the rest
            # is sent.
            continue


def _attempt(
    client: EnkashClient, customer: Customer, schedule: Sequence[ReminderRule]
) -> tuple[int, int] | EnkashError:
    """One customer's :func:`_ensure_one`, with its EnKash error returned rather than raised."""
    try:
        return _ensure_one(client, str(customer.customer_id), schedule)
    except EnkashError as exc:
        return exc


def ensure_reminders(
    client: EnkashClient,
    ledger: RunLedger,
    customers: Sequence[Customer],
    schedule: Sequence[ReminderRule] = DEFAULT_SCHEDULE,
) -> pl.DataFrame:
    """Give every customer in ``customers`` the reminder schedule.

    ``customers`` come from a customer search, which carries each customer's reminders: a customer
    already on schedule costs no call at all. The others are read again one by one (the search may be
    stale) and brought on schedule.

    Returns one bulk-result row per customer whose reminders were created or updated (success) or
    could not be (failure); customers already on schedule produce no row and no write.
    """
    rows: list[dict[str, object]] = []
    outcomes: list[Outcome] = []
    todo = [c for c in customers if c.customer_id and not on_schedule(c.customer_reminders, schedule)]
    unknown: dict[str, str] = {}
    # One customer whose answers keep getting lost must not hold up the others: it is set aside and
    # tried again after them, and only what is still unconfirmed then fails the chunk (to be retried).
    for _sweep in range(MAX_RECONCILE_ROUNDS):
        unknown, later = {}, []
        # Customers are independent and each costs a few round trips: a few at a time (the client is
        # thread-safe) instead of one after another.
        with ThreadPoolExecutor(max_workers=REMINDER_WORKERS) as pool:
            attempts = list(pool.map(lambda c: _attempt(client, c, schedule), todo))
        for customer, attempt in zip(todo, attempts, strict=True):
            customer_id, key = str(customer.customer_id), str(customer.unique_ref_no or customer.customer_id)
            try:
                if isinstance(attempt, Exception):
                    raise attempt
                created, updated = attempt
            except OutcomeUnknownError as exc:
                unknown[key] = str(exc)
                later.append(customer)
                continue
            except APIError as exc:
                outcomes.append(Outcome(key, "failed", customer_id, str(exc)))
                rows.append({"key": key, "outcome": "failure", "reason": str(exc), "remote_id": customer_id})
                continue
            if created or updated:
                outcomes.append(Outcome(key, "done", customer_id, f"created {created}, updated {updated}"))
                rows.append({"key": key, "outcome": "success", "reason": None, "remote_id": customer_id})
        todo = later
        if not todo:
            break
    outcomes += [Outcome(key, "failed", None, f"unconfirmed: {reason}") for key, reason in unknown.items()]
    if outcomes:
        batch = ledger.begin_batch(
            client.seller_id, "reminders", "createCustomerReminder", [o.key for o in outcomes]
        )
        ledger.finish_batch(batch, outcomes)
    if unknown:
        raise OutcomeUnknownError(
            f"createCustomerReminder: the reminders of {len(unknown)} customer(s) are still unconfirmed"
            f" (e.g. {next(iter(unknown.values()))}); rerun the cycle: it reads them before sending again",
            operation="createCustomerReminder",
        )
    frame = pl.DataFrame(
        rows, schema={k: v for k, v in RESULT_SCHEMA.items() if k not in ("stage", "amount")}
    )
    return frame.select(
        pl.lit("reminders").alias("stage"),
        "key",
        "outcome",
        pl.lit(0.0).alias("amount"),
        "reason",
        "remote_id",
    )
