"""Payment-reminder schedules: the rules every customer should have, and making EnKash match them.

A schedule is a list of :class:`ReminderRule`, each identified by its ``stage`` name. For each customer
the cycle reads the reminders EnKash holds, creates the rules that are missing, updates the ones whose
timing differs, deletes extra copies of a schedule stage (two overlapping runs that shared nothing
can both create one), and leaves every reminder of another stage alone (a human may have added it on
the portal). Reading before writing is also what keeps this exactly-once: a create whose answer was
lost shows up in the next read and is not sent again.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import partial
from typing import Final

import polars as pl
from pydantic import BaseModel, Field

from ar_sync.exactly_once import (
    MAX_RECONCILE_ROUNDS,
    REFUSED_FOR_NOW,
    Night,
    outcome_results,
)
from ar_sync.results import Stage, empty_results, result_rows
from ar_sync.run_ledger import Outcome
from enkash_ar.client import EnkashClient
from enkash_ar.context_threads import SharedPool
from enkash_ar.contract import REMINDER_TIME_PATTERN, ReminderType
from enkash_ar.errors import APIError, AuthenticationError, EnkashError, OutcomeUnknownError, TransportError
from enkash_ar.models import Customer, CustomerReminder, CustomerReminderCreate

#: Customers brought on schedule at the same time in one process, across every chunk running at once
#: (each customer is a few sequential calls). One bound for the process, not one per chunk: four chunks
#: of four workers each kept 16 customers' calls in flight, which only made the threads queue for the
#: connection pool and the server (the 10,000-customer benchmark's reminder stage ran 1.1-1.5x the
#: floor's time at 8).
REMINDER_WORKERS: Final = 8
#: The threads every chunk's customers are brought on schedule on: one queue for the process, so the
#: chunks running at once take turns on ``REMINDER_WORKERS`` threads, first chunk first, rather than
#: each starting as many threads of its own to wait for a bound (which cost ~8% more CPU per call).
_writers = SharedPool(REMINDER_WORKERS, name="enkash-reminders")


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
    """Whether ``reminders`` carry every rule of ``schedule`` exactly once."""
    return not changes_needed(reminders, schedule)


@dataclass(frozen=True)
class ScheduleChanges:
    """What brings one customer's reminders on schedule."""

    #: rules with no reminder of their stage yet
    create: tuple[ReminderRule, ...] = ()
    #: (reminder id, rule) for a kept reminder whose timing differs from its rule
    update: tuple[tuple[str, ReminderRule], ...] = ()
    #: ids of extra copies of a schedule stage
    delete: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.create or self.update or self.delete)


def changes_needed(
    reminders: Sequence[CustomerReminder], schedule: Sequence[ReminderRule]
) -> ScheduleChanges:
    """Compare a customer's reminders with ``schedule``: what to create, update and delete.

    Per stage of the schedule, the kept copy is the first that already matches its rule, else the first
    one; every other copy of that stage is deleted. Reminders of other stages are not looked at.

    Example:
        >>> changes_needed([], DEFAULT_SCHEDULE).create == DEFAULT_SCHEDULE
        True
    """
    create: list[ReminderRule] = []
    update: list[tuple[str, ReminderRule]] = []
    delete: list[str] = []
    for rule in schedule:
        copies = [r for r in reminders if r.stage == rule.stage]
        if not copies:
            create.append(rule)
            continue
        keep = next((r for r in copies if rule.matches(r)), copies[0])
        delete += [str(r.customer_reminder_id) for r in copies if r is not keep and r.customer_reminder_id]
        if not rule.matches(keep) and keep.customer_reminder_id:
            update.append((keep.customer_reminder_id, rule))
    return ScheduleChanges(tuple(create), tuple(update), tuple(delete))


@dataclass(frozen=True)
class ScheduleResult:
    """What the cycle did to one customer's reminders (counts of calls answered)."""

    created: int = 0
    updated: int = 0
    deleted: tuple[str, ...] = ()


def _ensure_one(
    client: EnkashClient,
    customer_id: str,
    schedule: Sequence[ReminderRule],
    known: Sequence[CustomerReminder] | None = None,
) -> ScheduleResult:
    """Make one customer's reminders match ``schedule``.

    Every round reads the customer's reminders first and sends only what is still off schedule, so a
    create whose answer was lost is seen in the next read and never sent twice. The first round plans
    from ``known`` instead, when given: reminders just read by a search that no write of ours can have
    changed since (see :func:`ensure_reminders`). It gives up (raises
    :class:`~enkash_ar.errors.OutcomeUnknownError`) only after :data:`MAX_RECONCILE_ROUNDS` rounds in a
    row that brought nothing closer to the schedule: a flaky connection that still lets writes through
    one by one is not an outage.
    """
    created = updated = 0
    deleted: list[str] = []
    idle_rounds = 0
    best = 3 * len(schedule) + 1
    while True:
        try:
            held = client.get_customer_reminders(customer_id) if known is None else known
            changes: ScheduleChanges | None = changes_needed(held, schedule)
        except (*REFUSED_FOR_NOW, TransportError):
            changes = None
        known = None
        if changes is not None and not changes:
            return ScheduleResult(created, updated, tuple(deleted))
        left = None if changes is None else len(changes.create) + len(changes.update) + len(changes.delete)
        if left is not None and left < best:
            best, idle_rounds = left, 0
        elif idle_rounds >= MAX_RECONCILE_ROUNDS:
            raise OutcomeUnknownError(
                f"createCustomerReminder: reminders of customer {customer_id} still unconfirmed after"
                f" {MAX_RECONCILE_ROUNDS} attempts without progress; rerun the cycle: it reads them first",
                operation="createCustomerReminder",
            )
        idle_rounds += 1
        if changes is None:
            continue
        try:
            for reminder_id in changes.delete:
                client.delete_reminder(customer_id, reminder_id)
                deleted.append(reminder_id)
            for rule in changes.create:
                client.create_customer_reminder(customer_id, rule.body())
                created += 1
            for reminder_id, rule in changes.update:
                client.update_customer_reminder(customer_id, reminder_id, rule.body())
                updated += 1
            # Every write was answered: the schedule is in place, no confirming read is needed.
            return ScheduleResult(created, updated, tuple(deleted))
        except (OutcomeUnknownError, *REFUSED_FOR_NOW):
            # Lost (or refused for now): read again, whatever it did is visible then, and only the rest
            # is sent.
            continue


def _attempt(
    client: EnkashClient, customer: Customer, *, schedule: Sequence[ReminderRule], trusted: AbstractSet[str]
) -> ScheduleResult | EnkashError:
    """One customer's :func:`_ensure_one` (planned from the customer's searched reminders when its id is
    in ``trusted``), with its EnKash error returned rather than raised.

    Refused credentials are raised: they stop the whole chunk at once (and the client makes no
    further token request, from any thread).
    """
    known = customer.customer_reminders if customer.customer_id in trusted else None
    try:
        return _ensure_one(client, str(customer.customer_id), schedule, known)
    except AuthenticationError:
        raise
    except EnkashError as exc:
        return exc


def customer_key(customer: Customer) -> str:
    """The key a customer's reminder rows carry: its ERP ref, or its EnKash id when it has none."""
    return str(customer.unique_ref_no or customer.customer_id)


def ensure_reminders(
    client: EnkashClient,
    night: Night,
    customers: Sequence[Customer],
    schedule: Sequence[ReminderRule] = DEFAULT_SCHEDULE,
) -> pl.DataFrame:
    """Give every customer in ``customers`` the reminder schedule, each stage exactly once.

    ``customers`` come from a customer search, which carries each customer's reminders: a customer
    already on schedule costs no call at all. The others are brought on schedule, planned from the
    search when nothing can have changed their reminders since: the search answered them (a customer
    without the member, as a search that leaves it out gives, is read on its own) and the ledger has no
    reminder write for the customer, from any run. A customer the ledger has seen (an earlier attempt,
    maybe killed mid-write, or a retry of this one) is read on its own first, so nothing is sent twice.
    Two cycles of one seller never run at once (the seller lock); a person editing the same customer's
    reminders on the portal in the seconds between the search and the write is the window left, and
    the next night's comparison repairs it (a stage held twice keeps one copy).

    Returns one result row per customer that was off schedule: success when it ended on schedule (this
    night brought it there, whether the answers came back or were found on the re-read), failure when
    it could not be; plus one ``reminders_deduplicate`` row per extra copy deleted.
    """
    todo = [c for c in customers if c.customer_id and not on_schedule(c.customer_reminders, schedule)]
    if not todo:
        return empty_results()
    ledger = night.ledger
    # Asked before this batch is begun: afterwards every customer of the chunk is in the ledger.
    seen = ledger.seen(night.seller_id, Stage.REMINDERS, [customer_key(c) for c in todo])
    trusted = {
        str(c.customer_id)
        for c in todo
        if customer_key(c) not in seen and "customer_reminders" in c.model_fields_set
    }
    batch = ledger.begin_batch(
        night.seller_id,
        Stage.REMINDERS,
        "createCustomerReminder",
        [customer_key(c) for c in todo],
        night=night.date,
    )
    outcomes: list[Outcome] = []
    dedupe_keys: list[str] = []
    dedupe_ids: list[str] = []
    unknown: dict[str, str] = {}
    # One customer whose answers keep getting lost must not hold up the others: it is set aside and
    # tried again after them, and only what is still unconfirmed then fails the chunk (to be retried).
    for sweep in range(MAX_RECONCILE_ROUNDS):
        unknown, later = {}, []
        # A customer set aside is read again: its first attempt's writes may have landed.
        first = trusted if sweep == 0 else set()
        # Customers are independent and each costs a few round trips: a few at a time (the client is
        # thread-safe) instead of one after another, on the process's reminder threads. Each call runs in
        # the caller's context, so its log lines stay in the task run that asked for it. Refused
        # credentials stop the chunk: its customers not yet started are not tried.
        attempts = _writers.in_order(partial(_attempt, client, schedule=schedule, trusted=first), todo)
        for customer, attempt in zip(todo, attempts, strict=True):
            customer_id, key = str(customer.customer_id), customer_key(customer)
            if isinstance(attempt, OutcomeUnknownError):
                unknown[key] = str(attempt)
                later.append(customer)
            elif isinstance(attempt, APIError):
                outcomes.append(Outcome(key, "failed", customer_id, str(attempt)))
            elif isinstance(attempt, Exception):
                raise attempt
            else:
                note = (
                    f"created {attempt.created}, updated {attempt.updated},"
                    f" duplicates deleted {len(attempt.deleted)}"
                )
                outcomes.append(Outcome(key, "done", customer_id, note))
                dedupe_keys += [f"{key}/{rid}" for rid in attempt.deleted]
                dedupe_ids += list(attempt.deleted)
        todo = later
        if not todo:
            break
    rows = pl.concat(
        [
            outcome_results(Stage.REMINDERS, outcomes),
            result_rows(Stage.REMINDERS_DEDUPLICATE, dedupe_keys, remote_ids=dedupe_ids),
        ]
    )
    # The answers and the night's count of them together: a run killed in between would leave
    # schedules set but never counted.
    ledger.finish_batch(batch, outcomes, results=rows)
    if unknown:
        raise OutcomeUnknownError(
            f"createCustomerReminder: the reminders of {len(unknown)} customer(s) are still unconfirmed"
            f" (e.g. {next(iter(unknown.values()))}); rerun the cycle: it reads them before sending again",
            operation="createCustomerReminder",
        )
    return rows
