"""Cancellations, deactivations and clears are writes: exactly once under lost answers, crashes and reruns."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ar_sync import exactly_once as eo
from ar_sync import field_clears, lifecycle_writes
from ar_sync.convergence import invoice_twins
from ar_sync.exactly_once import Night, settle_unresolved_except
from ar_sync.lifecycle import LifecyclePlan, export_keys, ledger_facts, plan_lifecycle
from ar_sync.night_summary import NightSummary
from ar_sync.planner import (
    customer_id_map,
    invoices_to_dispatch,
    plan_customers,
    plan_invoices,
    planning_customers,
)
from ar_sync.results import Stage
from ar_sync.run_ledger import RunLedger
from ar_sync.summaries import OPEN_INVOICE_SCHEMA, build_night_summary
from tests.engine.fakes import SELLER, FakeEnkash
from tests.engine.pictures import GSTIN, customer_line, export, invoice_line

TONIGHT, TOMORROW = "2026-11-24", "2026-11-25"


@pytest.fixture
def ledger() -> RunLedger:
    return RunLedger(":memory:")


def _night(ledger: RunLedger, date: str = TONIGHT) -> Night:
    return Night(ledger, SELLER, date)


def _by_key(results: pl.DataFrame) -> dict[str, tuple[str, str]]:
    return {r["key"]: (r["outcome"], r["origin"]) for r in results.iter_rows(named=True)}


def _plan(fake: FakeEnkash, folder: Path, numbers: list[str]) -> LifecyclePlan:
    """What leaves EnKash when the export holds customer C1 and these invoices of it."""
    erp = export(folder, [customer_line("C1")], [invoice_line(n, "C1") for n in numbers])
    return plan_lifecycle(export_keys(*erp), fake.search_invoices_frame(), fake.search_customers_frame())


def test_a_cancellation_whose_answer_was_lost_is_found_done_and_sent_once(
    ledger: RunLedger, tmp_path: Path
) -> None:
    fake = FakeEnkash()
    c1 = fake.add_customer("C1")
    fake.add_invoice("INV-1", c1)
    fake.add_invoice("INV-2", c1)  # left the export, never dispatched: deleted
    fake.add_invoice("INV-3", c1, dispatched=True)  # left the export, dispatched: out of collection
    plan = _plan(fake, tmp_path, ["INV-1"])
    fake.script["deleteInvoiceCollection"] = ["lost"]
    fake.script["updateInvoice"] = ["lost"]

    deleted = lifecycle_writes.delete_invoices(fake, _night(ledger), plan.to_delete)  # type: ignore[arg-type]
    withdrawn = lifecycle_writes.withdraw_invoices(fake, _night(ledger), plan.to_withdraw)  # type: ignore[arg-type]

    assert _by_key(deleted) == {"INV-2": ("success", "sent")}
    assert _by_key(withdrawn) == {"INV-3": ("success", "sent")}
    assert fake.calls["deleteInvoiceCollection"] == fake.calls["updateInvoice"] == 1
    assert fake.live_invoices("INV-2") == []
    assert [i["receivableStatus"] for i in fake.live_invoices("INV-3")] == ["CANCELLED"]
    # The next night on the same files finds nothing open to cancel.
    assert _plan(fake, tmp_path / "again", ["INV-1"]).cancellations == 0


def test_a_delete_answered_not_found_because_an_earlier_attempt_did_it_counts_as_done(
    ledger: RunLedger, tmp_path: Path
) -> None:
    fake = FakeEnkash()
    c1 = fake.add_customer("C1")
    fake.add_invoice("INV-1", c1)
    gone = fake.add_invoice("INV-2", c1)
    plan = _plan(fake, tmp_path, ["INV-1"])
    fake.invoices[gone]["deleted"] = True  # the first attempt's work; its answer never came back

    deleted = lifecycle_writes.delete_invoices(fake, _night(ledger), plan.to_delete)  # type: ignore[arg-type]

    assert _by_key(deleted) == {"INV-2": ("success", "sent")}


def test_a_run_killed_after_cancelling_is_counted_once_by_the_rerun_which_sends_nothing(
    ledger: RunLedger, tmp_path: Path
) -> None:
    fake = FakeEnkash()
    c1 = fake.add_customer("C1")
    fake.add_invoice("INV-1", c1)
    withdrawn = fake.add_invoice("INV-3", c1, dispatched=True)
    plan = _plan(fake, tmp_path, ["INV-1"])
    # The killed run: the ledger says "about to send", EnKash did it, nothing more was recorded.
    ledger.begin_batch(SELLER, Stage.INVOICES_CANCEL, "updateInvoice", ["INV-3"], night=TONIGHT)
    fake.invoices[withdrawn]["receivableStatus"] = "CANCELLED"

    rerun = _plan(fake, tmp_path / "rerun", ["INV-1"])
    settled = settle_unresolved_except(_night(ledger), Stage.INVOICES_CANCEL, rerun.still_open)
    sent = lifecycle_writes.withdraw_invoices(fake, _night(ledger), rerun.to_withdraw)  # type: ignore[arg-type]

    assert plan.cancellations == 1 and rerun.cancellations == 0 and sent.is_empty()
    assert _by_key(settled) == {"INV-3": ("success", "sent")}
    assert fake.calls["updateInvoice"] == 0
    summary = _summary(ledger, TONIGHT)
    assert summary.invoices_cancelled == 1


def test_deactivation_and_reactivation_are_sent_once_even_when_the_answer_is_lost(
    ledger: RunLedger, tmp_path: Path
) -> None:
    fake = FakeEnkash()
    fake.add_customer("C1")
    c2 = fake.add_customer("C2")
    fake.add_invoice("INV-1", next(iter(fake.customers)))
    plan = _plan(fake, tmp_path, ["INV-1"])
    fake.script["deactivateCustomer"] = ["lost"]

    results = lifecycle_writes.deactivate_customers(fake, _night(ledger), plan.to_deactivate)  # type: ignore[arg-type]

    assert _by_key(results) == {"C2": ("success", "sent")}
    assert fake.calls["deactivateCustomer"] == 1 and fake.customers[c2]["status"] == "INACTIVE"
    # C2 is back in the export the next night: the ledger says this project deactivated it.
    erp = export(tmp_path / "back", [customer_line("C1"), customer_line("C2")], [invoice_line("INV-1", "C1")])
    invoices, customers = fake.search_invoices_frame(), fake.search_customers_frame()
    back = plan_lifecycle(
        export_keys(*erp), invoices, customers, ledger_facts(ledger, SELLER, invoices, customers)
    )
    again = lifecycle_writes.reactivate_customers(fake, _night(ledger, TOMORROW), back.to_reactivate)  # type: ignore[arg-type]
    assert _by_key(again) == {"C2": ("success", "sent")} and fake.customers[c2]["status"] == "ACTIVE"


def test_a_field_enkash_refuses_to_clear_is_reported_never_counted_and_not_sent_again(
    ledger: RunLedger, tmp_path: Path
) -> None:
    fake = FakeEnkash(refuse_null={"panOrGstin"})
    c1 = fake.add_customer(
        "C1",
        legalName="C1 Traders",
        panOrGstin=GSTIN,
        address="12 MG Road",
        contactNumber="9876543210",
        state="Maharashtra",
        pinCode="400001",
        customerKeyContacts=[
            {
                "name": "Asha Rao",
                "legalName": "C1 Traders",
                "mobile": "9876543210",
                "email": "a@b.in",
                "deleted": False,
            }
        ],
    )
    erp = export(
        tmp_path, [customer_line("C1")], [invoice_line("INV-1", "C1")]
    )  # gstin, address, e-mail emptied

    def night_on(date: str) -> pl.DataFrame:
        plan = plan_customers(erp[0].valid, planning_customers(fake.search_all_customers()))
        assert plan.to_update.is_empty()  # a clear is never an update
        return field_clears.clear_customer_fields(fake, _night(ledger, date), plan.to_clear)  # type: ignore[arg-type]

    first = night_on(TONIGHT)

    assert _by_key(first) == {
        "C1:gstin": ("failure", "sent"),
        "C1:address": ("success", "sent"),
        "C1:email": ("success", "sent"),
    }
    held = fake.customers[c1]
    assert "address" not in held and "email" not in held["customerKeyContacts"][0]
    assert held["customerKeyContacts"][0]["name"] == "Asha Rao" and held["panOrGstin"] == GSTIN
    calls = fake.calls["updateCustomer"]

    second = night_on(TOMORROW)

    assert fake.calls["updateCustomer"] == calls  # no call at all on the second night
    assert _by_key(second) == {"C1:gstin": ("failure", "already_present")}
    summary = _summary(ledger, TOMORROW)
    assert (summary.customer_fields_cleared, summary.fields_not_cleared, summary.customers_updated) == (
        0,
        1,
        0,
    )
    assert summary.uncleared_fields[0].record == "C1" and summary.uncleared_fields[0].field == "gstin"
    assert summary.uncleared_fields[0].reason.startswith("cannot clear: EnKash refused to clear it")
    assert "panOrGstin: must not be null" in summary.uncleared_fields[0].reason
    assert any("could not be cleared" in note for note in summary.attention())


def _summary(ledger: RunLedger, night: str) -> NightSummary:
    return build_night_summary(
        ledger.night_results(SELLER, night),
        pl.DataFrame(schema=OPEN_INVOICE_SCHEMA),
        date.fromisoformat(night),
        seller_id=SELLER,
    )


def test_two_runs_that_overlap_with_different_ledgers_cancel_each_invoice_once_and_report_no_failure(
    tmp_path: Path,
) -> None:
    fake = FakeEnkash()
    c1 = fake.add_customer("C1")
    fake.add_invoice("INV-1", c1)
    fake.add_invoice("INV-2", c1)
    withdrawn = fake.add_invoice("INV-3", c1, dispatched=True)
    # Both runs read EnKash before either writes (no shared lock, no shared ledger).
    plan_a, plan_b = _plan(fake, tmp_path / "a", ["INV-1"]), _plan(fake, tmp_path / "b", ["INV-1"])
    ledger_a, ledger_b = RunLedger(":memory:"), RunLedger(":memory:")

    a = [
        lifecycle_writes.delete_invoices(fake, _night(ledger_a), plan_a.to_delete),  # type: ignore[arg-type]
        lifecycle_writes.withdraw_invoices(fake, _night(ledger_a), plan_a.to_withdraw),  # type: ignore[arg-type]
    ]
    b = [
        lifecycle_writes.delete_invoices(fake, _night(ledger_b), plan_b.to_delete),  # type: ignore[arg-type]
        lifecycle_writes.withdraw_invoices(fake, _night(ledger_b), plan_b.to_withdraw),  # type: ignore[arg-type]
    ]

    assert (
        _by_key(pl.concat(a))
        == _by_key(pl.concat(b))
        == {
            "INV-2": ("success", "sent"),
            "INV-3": ("success", "sent"),
        }
    )
    assert fake.live_invoices("INV-2") == [] and fake.invoices[withdrawn]["receivableStatus"] == "CANCELLED"
    assert [i["externalId"] for i in fake.invoices.values() if not i["deleted"]] == ["INV-1", "INV-3"]


def test_an_invoice_back_in_the_export_after_its_cancellation_is_uploaded_and_dispatched_again_once(
    ledger: RunLedger, tmp_path: Path
) -> None:
    fake = FakeEnkash()
    fake.add_customer("C1")
    erp = export(tmp_path, [customer_line("C1")], [invoice_line("INV-2", "C1")])

    def night_of_uploads(night: Night) -> None:
        """The upload and dispatch stages of a night, as the flows run them."""
        ids = customer_id_map(fake.search_customers_frame())
        plan = plan_invoices(erp[1].valid, ids, invoice_twins(fake.search_invoices_frame()).keepers)
        eo.upload_invoices(fake, night, plan.to_create)  # type: ignore[arg-type]
        keepers = invoice_twins(fake.search_invoices_frame()).keepers
        eo.dispatch_invoices(fake, night, invoices_to_dispatch(erp[1].valid, keepers, ids))  # type: ignore[arg-type]

    night_of_uploads(_night(ledger, "2026-11-22"))
    [first] = fake.live_invoices("INV-2")
    first["receivableStatus"] = "CANCELLED"  # it left the export on the 23rd
    # Back on the 24th: the ledger remembers INV-2 uploaded and dispatched, but only as the cancelled
    # copy, which the look-ups must not take for the new one.
    night_of_uploads(_night(ledger))

    copies = [(i["receivableStatus"], i["dispatchCount"]) for i in fake.live_invoices("INV-2")]
    assert copies == [("CANCELLED", 1), ("UNPAID", 1)]
    assert fake.calls["invoiceBulkUpload"] == fake.calls["dispatchInvoiceCollection"] == 2
    tonight = ledger.night_results(SELLER, TONIGHT)
    assert {(r["stage"], r["outcome"], r["origin"]) for r in tonight.iter_rows(named=True)} == {
        ("invoices_upload", "success", "sent"),
        ("invoices_dispatch", "success", "sent"),
    }


class _Killed(BaseException):
    """The process dies: nothing after this point runs (a SIGKILL, not an error anything handles)."""


class _LedgerOfARunKilledAfterTheAnswer(RunLedger):
    """A run killed right after the ledger stored EnKash's answer to a batch: what it committed stays."""

    def finish_batch(self, *args: Any, **kwargs: Any) -> None:
        super().finish_batch(*args, **kwargs)
        raise _Killed


def test_a_run_killed_right_after_a_deactivation_was_answered_is_counted_by_the_rerun_which_sends_nothing(
    tmp_path: Path,
) -> None:
    fake = FakeEnkash()
    fake.add_customer("C1")
    c2 = fake.add_customer("C2")
    fake.add_invoice("INV-1", next(iter(fake.customers)))
    ledger = _LedgerOfARunKilledAfterTheAnswer(":memory:")
    plan = _plan(fake, tmp_path, ["INV-1"])

    with pytest.raises(_Killed):
        lifecycle_writes.deactivate_customers(fake, _night(ledger), plan.to_deactivate)  # type: ignore[arg-type]

    # The rerun finds C2 inactive: nothing is left to send or to settle, yet the night counts it.
    rerun = _plan(fake, tmp_path / "rerun", ["INV-1"])
    settled = settle_unresolved_except(_night(ledger), Stage.CUSTOMERS_DEACTIVATE, [])
    assert fake.customers[c2]["status"] == "INACTIVE" and fake.calls["deactivateCustomer"] == 1
    assert rerun.to_deactivate.is_empty() and settled.is_empty()
    assert _summary(ledger, TONIGHT).customers_deactivated == 1


def test_a_run_killed_right_after_an_invoice_update_was_answered_still_counts_the_update(
    tmp_path: Path,
) -> None:
    fake = FakeEnkash()
    invoice = fake.add_invoice("INV-1", fake.add_customer("C1"))
    ledger = _LedgerOfARunKilledAfterTheAnswer(":memory:")
    rows = pl.DataFrame({"invoiceId": [invoice], "externalId": ["INV-1"], "dueDate": ["2026-12-31"]})

    with pytest.raises(_Killed):
        eo.update_invoices(fake, _night(ledger), rows)  # type: ignore[arg-type]

    # The rerun sees EnKash already holding the ERP's due date: no update to send, one counted.
    assert fake.invoices[invoice]["dueDate"] == "2026-12-31" and fake.calls["updateInvoice"] == 1
    assert _summary(ledger, TONIGHT).invoices_updated == 1
