"""The night's picture of EnKash, updated from the night's answers: what the next stage plans from."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import tasks.night_picture
from ar_sync import night_picture
from ar_sync.night_picture import NightPicture
from ar_sync.planner import customer_bulk_rows, customer_id_map, plan_customers, planning_customers
from ar_sync.results import RowOutcome, Stage, result_rows
from enkash_ar.errors import BadRequestError, NotFoundError, ServerError, UnexpectedResponseError
from enkash_ar.models import CustomerReminder
from tests.engine.pictures import customer, customer_line, export, invoice, invoices

NOW = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)


def _results(stage: Stage, done: dict[str, str | None], failed: Sequence[str] = ()) -> pl.DataFrame:
    return pl.concat(
        [
            result_rows(stage, list(done), remote_ids=list(done.values())),
            result_rows(stage, list(failed), outcome=RowOutcome.FAILURE, reasons=["refused"] * len(failed)),
        ]
    )


def test_created_customers_join_the_picture_with_their_new_ids_and_are_not_planned_again(
    tmp_path: Path,
) -> None:
    erp, _ = export(tmp_path, [customer_line("C1"), customer_line("C2"), customer_line("C3")], [])
    picture = NightPicture(customers=(customer("KC1", "C1"),))
    plan = plan_customers(erp.valid, picture.customer_frame)
    assert plan.to_create["uniqueRefNo"].to_list() == ["C2", "C3"]

    # C2 was created, C3 refused: only C2 joins the picture.
    answered = _results(Stage.CUSTOMERS_CREATE, {"C2": "KC2"}, ["C3"])
    after = night_picture.with_created_customers(picture, answered, plan.to_create)

    assert customer_id_map(after.customer_frame)["customerId"].to_list() == ["KC1", "KC2"]
    created = next(c for c in after.customers or () if c.customer_id == "KC2")
    assert created.legal_name == "C2 Traders"
    # Its reminders are EnKash's to decide: unread, not "none" (the reminder stage reads them once).
    assert after.reminders_unread == {"KC2"} and "customer_reminders" not in created.model_fields_set
    assert night_picture.with_customers_read(after, after.customers or ()).reminders_unread == frozenset()
    assert created.customer_key_contacts[0].mobile == "9876543210"
    assert plan_customers(erp.valid, after.customer_frame).to_create["uniqueRefNo"].to_list() == ["C3"]
    # An earlier attempt's customer, already in the picture, is not added twice.
    again = night_picture.with_created_customers(after, answered, plan.to_create)
    assert [c.customer_id for c in again.customers or ()] == ["KC1", "KC2"]


@pytest.fixture
def made() -> Iterator[list[int]]:
    """How many customers each customer frame the pictures make is made of (``planning_customers``)."""
    sizes: list[int] = []

    def counting(customers: Sequence[Any]) -> pl.DataFrame:
        sizes.append(len(customers))
        return planning_customers(customers)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(night_picture, "planning_customers", counting)
        yield sizes


def test_the_customer_frame_is_made_once_per_customers_and_never_outlives_a_change(made: list[int]) -> None:
    picture = NightPicture(customers=(customer("KC1", "C1"),))
    first = picture.customer_frame
    # The invoices changed, the customers did not: the next stage's picture uses the same frame.
    later = replace(picture, invoices=invoices(invoice("I1", "INV-1", "KC1")), uploads_pending=True)
    assert later.customer_frame is first and picture.customer_frame is first and made == [1]
    # A change to the customers (a status, new ones) makes a new frame, from the changed customers.
    changed = night_picture.with_customers_read(later, (customer("KC1", "C1"), customer("KC2", "C2")))
    assert customer_id_map(changed.customer_frame)["customerId"].to_list() == ["KC1", "KC2"]
    assert made == [1, 2] and customer_id_map(later.customer_frame)["customerId"].to_list() == ["KC1"]
    # Pictures compare by what they hold, not by whether the frame was made yet.
    assert NightPicture(customers=picture.customers) == picture


def test_new_customers_and_read_reminders_carry_the_frame_on_equal_to_one_made_afresh(
    made: list[int],
) -> None:
    held = (customer("KC1", "C1", contact={"email": "a@c1.in"}), customer("KC2", "C2", status="INACTIVE"))
    picture = NightPicture(customers=held)
    assert picture.customer_frame.height == 2 and made == [2]
    rows = pl.DataFrame(
        {
            "uniqueRefNo": ["C3", "C4"],
            "legalName": ["C3 Traders", "C4 Traders"],
            "customerKeyContacts.name": ["Ravi", None],
            "customerKeyContacts.mobile": ["9123456780", None],
        }
    )
    answered = _results(Stage.CUSTOMERS_CREATE, {"C3": "KC3"}, ["C4"])

    created = night_picture.with_created_customers(picture, answered, rows)
    # Only the new customer's row is made; the frame is the one a fresh start would make.
    assert created.customer_frame.equals(planning_customers(created.customers or ())) and made == [2, 1]
    reminder = CustomerReminder.model_validate(
        {"customerReminderId": "R1", "stage": "due", "dueDateDifference": 0, "reminderTime": "10:00"}
    )
    read = night_picture.with_reminders_read(created, {"KC3": [reminder]})
    # Reminders are not in the frame: it is carried on as it was.
    assert read.customer_frame is created.customer_frame and made == [2, 1]
    assert read.customer_frame.equals(planning_customers(read.customers or ()))
    assert next(c for c in read.customers or () if c.customer_id == "KC3").customer_reminders == [reminder]
    # A picture whose frame was never made makes it afresh, once, when asked.
    fresh = night_picture.with_created_customers(NightPicture(customers=held), answered, rows)
    assert fresh.customer_frame.equals(created.customer_frame) and made == [2, 1, 3]


def test_updated_customers_carry_their_new_values_and_failed_updates_keep_the_old() -> None:
    picture = NightPicture(customers=(customer("KC1", "C1"), customer("KC2", "C2")))
    rows = pl.concat(
        [
            pl.DataFrame({"customerId": ["KC1", "KC2"]}),
            customer_bulk_rows(
                pl.DataFrame(
                    {
                        "legal_name": ["Renamed One", "Renamed Two"],
                        "customer_ref": ["C1", "C2"],
                        "mobile": ["9876543210", "9876543210"],
                        "gstin": [None, None],
                        "address": [None, None],
                        "state": ["Goa", "Goa"],
                        "pin_code": [None, None],
                        "contact_name": ["Asha Rao", "Asha Rao"],
                        "email": [None, None],
                    }
                )
            ),
        ],
        how="horizontal",
    )
    answered = _results(Stage.CUSTOMERS_UPDATE, {"C1": "KC1"}, ["C2"])

    after = night_picture.with_updated_customers(picture, answered, rows)

    frame = after.customer_frame.sort("customerId")
    assert frame["legalName"].to_list() == ["Renamed One", "C2 Traders"]
    assert frame["state"].to_list() == ["Goa", "Maharashtra"]
    assert frame["pinCode"].to_list() == ["400001", "400001"]  # an empty cell leaves the value


def test_status_changes_apply_only_to_what_enkash_confirmed() -> None:
    picture = NightPicture(customers=(customer("KC1", "C1"), customer("KC2", "C2")))
    rows = pl.DataFrame({"uniqueRefNo": ["C1", "C2"], "customerId": ["KC1", "KC2"]})
    answered = _results(Stage.CUSTOMERS_DEACTIVATE, {"C1": "KC1"}, ["C2"])

    after = night_picture.with_customer_status(picture, answered, rows, "INACTIVE")

    assert [c.status for c in after.customers or ()] == ["INACTIVE", "ACTIVE"]


def test_cancellations_drop_deleted_invoices_and_cancel_withdrawn_ones() -> None:
    picture = NightPicture(
        invoices=invoices(
            invoice("I1", "INV-1", "KC1"),
            invoice("I2", "INV-2", "KC1", dispatched=True),
            invoice("I3", "INV-3", "KC1", dispatched=True),
            invoice("I4", "INV-4", "KC1"),
        )
    )
    deletes = pl.DataFrame({"externalId": ["INV-1", "INV-4"], "invoiceId": ["I1", "I4"]})
    withdrawals = pl.DataFrame({"externalId": ["INV-2", "INV-3"], "invoiceId": ["I2", "I3"]})

    after = night_picture.with_deleted_invoices(
        picture, _results(Stage.INVOICES_CANCEL, {"INV-1": "I1"}, ["INV-4"]), deletes, "externalId"
    )
    after = night_picture.with_withdrawn_invoices(
        after, _results(Stage.INVOICES_CANCEL, {"INV-2": "I2"}, ["INV-3"]), withdrawals
    )

    assert after.invoices is not None
    assert dict(after.invoices.select("invoiceId", "receivableStatus").iter_rows()) == {
        "I2": "CANCELLED",
        "I3": "UNPAID",
        "I4": "UNPAID",
    }


def test_uploads_and_patches_ask_for_a_refresh_and_the_refresh_takes_enkash_word() -> None:
    picture = NightPicture(
        invoices=invoices(
            invoice("I1", "INV-1", "KC1", dispatched=True),
            invoice("I2", "INV-2", "KC1", dispatched=True),
            invoice("I3", "INV-3", "KC1"),
            invoice("I4", "INV-4", "KC1"),
        )
    )
    assert not night_picture.needs_invoice_refresh(picture)
    assert not night_picture.needs_invoice_refresh(
        night_picture.with_uploads(picture, _results(Stage.INVOICES_UPLOAD, {}, ["INV-9"]))
    )
    picture = night_picture.with_uploads(picture, _results(Stage.INVOICES_UPLOAD, {"INV-5": "I5"}))
    picture = night_picture.with_patched_invoices(picture, ["I1", "I3"])
    assert night_picture.needs_invoice_refresh(picture)
    # The undispatched read covers I3; I1 is dispatched and must be read on its own.
    assert night_picture.stale_dispatched(picture) == ["I1"]

    # EnKash now holds I3 (patched), the new I5, and no longer I4 (deleted on the portal).
    undispatched = invoices(invoice("I3", "INV-3", "KC1", baseAmount=1500.0), invoice("I5", "INV-5", "KC1"))
    reread = invoices(invoice("I1", "INV-1", "KC1", dispatched=True, baseAmount=2000.0))
    after = night_picture.with_refreshed_invoices(picture, undispatched, reread, empty_invoices(), now=NOW)

    assert after.invoices is not None
    assert dict(after.invoices.select("invoiceId", "baseAmount").iter_rows()) == {
        "I1": 2000.0,
        "I2": 1000.0,
        "I3": 1500.0,
        "I5": 1000.0,
    }
    assert not night_picture.needs_invoice_refresh(after)
    assert after.invoices_read_on == NOW


def empty_invoices() -> pl.DataFrame:
    """No invoices (``frames.INVOICE_SCHEMA``)."""
    return invoices()


def test_dispatch_answers_mark_only_the_dispatched_invoices() -> None:
    picture = NightPicture(invoices=invoices(invoice("I1", "INV-1", "KC1"), invoice("I2", "INV-2", "KC1")))
    rows = pl.DataFrame(
        {"invoiceId": ["I1", "I2"], "externalId": ["INV-1", "INV-2"], "customerId": ["KC1"] * 2}
    )

    answered = _results(Stage.INVOICES_DISPATCH, {"INV-1": "I1"}, ["INV-2"])
    ids = night_picture.dispatched_ids(answered, rows)
    after = night_picture.with_dispatched(picture, ids, now=NOW)

    assert after.invoices is not None
    assert after.invoices.select("invoiceId", "dispatched", "dispatchedOn").rows() == [
        ("I1", True, NOW),
        ("I2", False, None),
    ]


def test_a_picture_without_a_part_is_left_for_the_stage_that_reads_it() -> None:
    unread = NightPicture()
    rows = pl.DataFrame(
        {"uniqueRefNo": ["C1"], "customerId": ["KC1"], "externalId": ["X"], "invoiceId": ["I"]}
    )
    answered = _results(Stage.INVOICES_CANCEL, {"X": "I"})
    assert night_picture.with_customer_status(unread, answered, rows, "INACTIVE") is unread
    assert night_picture.with_withdrawn_invoices(unread, answered, rows) is unread
    assert night_picture.with_dispatched(unread, night_picture.dispatched_ids(answered, rows)) is unread
    assert not night_picture.needs_invoice_refresh(night_picture.with_patched_invoices(unread, ["I"]))


def test_patched_invoices_take_enkash_answer_and_need_no_read_unless_the_answer_lacks_amounts() -> None:
    picture = NightPicture(
        invoices=invoices(
            invoice("I1", "INV-1", "KC1", dispatched=True),
            invoice("I2", "INV-2", "KC1", dispatched=True),
            invoice("I3", "INV-3", "KC1", dispatched=True),
        )
    )
    picture = night_picture.with_patched_invoices(picture, ["I1", "I2", "I3"])
    # EnKash answered I1 with its recomputed amounts, I2 without amounts; I3's answer never came.
    answered = invoices(
        invoice("I1", "INV-1", "KC1", dispatched=True, baseAmount=1500.0, balanceAmount=1770.0),
        invoice("I2", "INV-2", "KC1", dispatched=True, balanceAmount=None),
    )

    after = night_picture.with_answered_invoices(picture, answered)

    assert after.invoices is not None
    assert after.invoices.height == 3
    assert dict(after.invoices.select("invoiceId", "balanceAmount").iter_rows())["I1"] == 1770.0
    assert night_picture.stale_dispatched(after) == ["I2", "I3"]
    # An answer for an invoice the picture does not hold adds nothing.
    stray = night_picture.with_answered_invoices(after, invoices(invoice("I9", "INV-9", "KC1")))
    assert stray.invoices is not None and stray.invoices.height == 3


def test_reminders_read_one_by_one_replace_only_those_customers_and_mark_them_read() -> None:
    held = customer("KC1", "C1", customerReminders=[{"customerReminderId": "R1", "dueDateDifference": 0}])
    picture = NightPicture(customers=(held, customer("KC2", "C2"), customer("KC3", "C3")))
    picture = replace(picture, reminders_unread=frozenset({"KC2", "KC3"}))
    schedule = [CustomerReminder.model_validate({"customerReminderId": "R9", "dueDateDifference": -3})]

    after = night_picture.with_reminders_read(picture, {"KC2": schedule})

    by_id = {c.customer_id: c for c in after.customers or ()}
    assert [r.customer_reminder_id for r in by_id["KC2"].customer_reminders] == ["R9"]
    assert [r.customer_reminder_id for r in by_id["KC1"].customer_reminders] == ["R1"]
    assert "customer_reminders" not in by_id["KC3"].model_fields_set  # still EnKash's to tell
    assert after.reminders_unread == {"KC3"}
    # A customer EnKash gave no schedule is read as having none: no longer unread.
    assert night_picture.with_reminders_read(after, {"KC3": []}).reminders_unread == frozenset()


class _Reminders:
    """A client whose getCustomerReminders fails with ``error`` (None: answers one schedule each)."""

    def __init__(self, error: Exception | None) -> None:
        self.error, self.asked = error, 0

    def get_customer_reminders(self, customer_id: str) -> list[CustomerReminder]:
        self.asked += 1
        if self.error is not None:
            raise self.error
        return [CustomerReminder.model_validate({"customerReminderId": f"R-{customer_id}"})]


def _read_with(client: _Reminders, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(tasks.night_picture, "enkash_client", lambda block, ledger: client)
    return tasks.night_picture.read_customer_reminders.fn(["KC2", "KC3"], None, None)


def test_reminder_reads_that_the_api_does_not_answer_as_guessed_fall_back_and_outages_raise(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    answered = _read_with(_Reminders(None), monkeypatch)
    assert {k: [r.customer_reminder_id for r in v] for k, v in answered.items()} == {
        "KC2": ["R-KC2"],
        "KC3": ["R-KC3"],
    }
    # The guessed route is not EnKash's (404), or its answer is not the guessed shape: read every
    # customer again instead (None), and say so.
    missing = NotFoundError(operation="getCustomerReminders", status_code=404)
    with caplog.at_level(logging.WARNING):
        assert _read_with(_Reminders(missing), monkeypatch) is None
    assert "reading every customer again instead" in caplog.text
    assert (
        _read_with(
            _Reminders(UnexpectedResponseError("not a list", operation="getCustomerReminders")), monkeypatch
        )
        is None
    )
    # An outage is not a contract question: it is raised (the task's retries, then the stage, fail).
    down = ServerError(operation="getCustomerReminders", status_code=500)
    with pytest.raises(ServerError):
        _read_with(_Reminders(down), monkeypatch)


class _Profile:
    def page_size(self, operation: str) -> int:
        assert operation == "searchCustomer"
        return 5000


@pytest.mark.parametrize(
    ("held", "unread", "one_by_one"),
    [
        (29, 29, False),  # a first night: every customer is new, one page reads them all
        (32, 3, True),
        (32, 4, False),  # more than a tenth of the customers held
        (10_100, 100, True),  # the 1% + 1% night of the benchmark: 3 pages, 100 new
        (10_100, 120, True),
        (10_100, 121, False),  # more than 40 per page
        (5_000, 0, False),  # nothing to read
    ],
)
def test_the_reminders_of_new_customers_are_read_one_by_one_only_when_they_are_few(
    held: int, unread: int, one_by_one: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = type("Client", (), {"profile": _Profile()})()
    monkeypatch.setattr(tasks.night_picture, "enkash_client", lambda block, ledger: client)
    ids = [f"KC{i}" for i in range(held)]
    picture = NightPicture(customers=tuple(customer(i, f"C{i}") for i in ids))
    picture = replace(picture, reminders_unread=frozenset(ids[:unread]))
    assert tasks.night_picture._few_unread(picture, None, None) is one_by_one


def test_an_invoice_in_two_refresh_reads_takes_the_later_answer() -> None:
    # Dispatched by someone else between the read of the undispatched invoices and the read of those
    # dispatched since: both reads hold it, and the later one is what EnKash holds now.
    picture = NightPicture(invoices=invoices(invoice("I1", "INV-1", "KC1"), invoice("I2", "INV-2", "KC1")))
    picture = night_picture.with_uploads(picture, _results(Stage.INVOICES_UPLOAD, {"INV-3": "I3"}))
    undispatched = invoices(
        invoice("I1", "INV-1", "KC1"), invoice("I2", "INV-2", "KC1"), invoice("I3", "INV-3", "KC1")
    )
    since = invoices(invoice("I2", "INV-2", "KC1", dispatched=True))
    after = night_picture.with_refreshed_invoices(picture, undispatched, since, now=NOW)

    assert after.invoices is not None
    assert after.invoices.select("invoiceId", "dispatched").rows() == [
        ("I1", False),
        ("I3", False),
        ("I2", True),
    ]


def test_after_the_upload_the_picture_keeps_what_later_stages_read_and_refreshes_take_its_columns() -> None:
    picture = NightPicture(
        invoices=invoices(invoice("I1", "INV-1", "KC1", dispatched=True), invoice("I2", "INV-2", "KC1"))
    )
    picture = night_picture.with_uploads(picture, _results(Stage.INVOICES_UPLOAD, {"INV-3": "I3"}))
    slim = night_picture.without_upload_columns(picture)

    assert slim.invoices is not None and picture.invoices is not None
    assert set(picture.invoices.columns) - set(slim.invoices.columns) == set(
        night_picture.UPLOAD_ONLY_INVOICE_COLUMNS
    )
    assert slim.uploads_pending and night_picture.needs_invoice_refresh(slim)
    # A refresh read with every column (a read that did not narrow) fills in the picture's columns only.
    undispatched = invoices(invoice("I2", "INV-2", "KC1", balanceAmount=500.0), invoice("I3", "INV-3", "KC1"))
    after = night_picture.with_refreshed_invoices(slim, undispatched, empty_invoices(), now=NOW)
    assert after.invoices is not None
    assert after.invoices.columns == slim.invoices.columns
    assert after.invoices.select("invoiceId", "balanceAmount", "dispatched").sort("invoiceId").rows() == [
        ("I1", 1000.0, True),
        ("I2", 500.0, False),
        ("I3", 1000.0, False),
    ]
    # Dispatch answers and a picture without invoices work on the slim picture as on the whole one.
    done = night_picture.with_dispatched(after, pl.Series(["I3"]), now=NOW)
    assert done.invoices is not None and done.invoices.filter(pl.col("dispatched")).height == 2
    assert night_picture.without_upload_columns(NightPicture()).invoices is None


def test_a_refresh_whose_searches_enkash_refuses_reads_every_invoice_and_an_outage_raises(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    picture = NightPicture(
        invoices=invoices(invoice("I1", "INV-1", "KC1", dispatched=True), invoice("I2", "INV-2", "KC1")),
        invoices_read_on=NOW,
    )
    picture = night_picture.with_patched_invoices(picture, ["I1"])
    picture = night_picture.with_uploads(picture, _results(Stage.INVOICES_UPLOAD, {"INV-3": "I3"}))
    slim = night_picture.without_upload_columns(picture)
    # EnKash now: I1 paid in part, I2 deleted on the portal, I3 (the night's upload) dispatched by someone.
    every = invoices(
        invoice("I1", "INV-1", "KC1", dispatched=True, received=400.0),
        invoice("I3", "INV-3", "KC1", dispatched=True),
    )
    asked: list[dict[str, object] | None] = []
    answer: list[Exception] = []  # what EnKash answers the dispatched searches

    def search(
        block: object, ledger: object, filters: dict[str, object] | None = None, columns: Any = None
    ) -> pl.DataFrame:
        asked.append(filters)
        if filters and "dispatched" in filters:
            raise answer[0]
        return every.select(columns)

    def one_by_one(ids: list[str], block: object, ledger: object) -> pl.DataFrame:
        raise AssertionError("a read of every invoice reads none of them again one by one")

    monkeypatch.setattr(tasks.night_picture, "read_enkash_invoices", search)
    monkeypatch.setattr(tasks.night_picture, "reread_invoices", one_by_one)
    for refusal in (
        BadRequestError(operation="searchCollectionInvoices", status_code=400),
        UnexpectedResponseError("no page", operation="searchCollectionInvoices"),
    ):
        asked.clear()
        answer[:] = [refusal]
        with caplog.at_level(logging.WARNING):
            after = tasks.night_picture.refreshed(slim, None, None)
        assert asked == [{"dispatched": False}, None]
        assert "reading every invoice before dispatching instead" in caplog.text
        assert after.invoices is not None and slim.invoices is not None
        assert after.invoices.columns == slim.invoices.columns
        assert after.invoices.select("invoiceId", "balanceAmount", "dispatched").sort("invoiceId").rows() == [
            ("I1", 600.0, True),
            ("I3", 1000.0, True),
        ]
        assert not night_picture.needs_invoice_refresh(after)
        assert after.invoices_read_on is not None and after.invoices_read_on > NOW
    # An outage is not a contract question: raised (the task's retries, then the stage, fail).
    answer[:] = [ServerError(operation="searchCollectionInvoices", status_code=500)]
    with pytest.raises(ServerError):
        tasks.night_picture.refreshed(slim, None, None)
