"""The exactly-once writes against a fake EnKash: every branch of the state machine, no HTTP, no Prefect."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from ar_sync import exactly_once as eo
from ar_sync.exactly_once import Night
from ar_sync.results import RESULT_SCHEMA, Origin, Stage, empty_results
from ar_sync.run_ledger import Outcome, RunLedger
from enkash_ar.errors import (
    AuthenticationError,
    BadRequestError,
    OutcomeUnknownError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
)
from tests.engine.fakes import SELLER, FakeEnkash
from tests.engine.pictures import invoice, invoices

TONIGHT, YESTERDAY = "2026-11-24", "2026-11-23"


@pytest.fixture
def ledger() -> RunLedger:
    return RunLedger(":memory:")


def night(ledger: RunLedger, date: str = TONIGHT) -> Night:
    return Night(ledger, SELLER, date)


def customer_rows(*refs: str) -> pl.DataFrame:
    return pl.DataFrame({"uniqueRefNo": list(refs), "legalName": [f"{r} Pvt Ltd" for r in refs]})


def invoice_rows(*numbers: str, customer: str = "KC00000000000001") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "externalId": list(numbers),
            "customerId": [customer] * len(numbers),
            "baseAmount": [100.0] * len(numbers),
        }
    )


def by_key(results: pl.DataFrame) -> dict[str, tuple[str, str]]:
    return {r["key"]: (r["outcome"], r["origin"]) for r in results.iter_rows(named=True)}


def live_refs(fake: FakeEnkash) -> list[str]:
    return sorted(c["uniqueRefNo"] for c in fake.customers.values())


def test_answered_upload_records_each_row_as_sent_in_the_night(ledger: RunLedger) -> None:
    fake = FakeEnkash(refuse_rows={"C2": "bad mobile"})
    results = eo.create_customers(fake, night(ledger), customer_rows("C1", "C2"))  # type: ignore[arg-type]

    assert by_key(results) == {"C1": ("success", "sent"), "C2": ("failure", "sent")}
    assert results.filter(pl.col("key") == "C2")["reason"].item() == "contactNumber: bad mobile"
    assert by_key(ledger.night_results(SELLER, TONIGHT)) == by_key(results)
    assert ledger.status_counts(SELLER, Stage.CUSTOMERS_CREATE) == {"done": 1, "failed": 1}


def test_a_lost_answer_is_reconciled_and_only_the_missing_rows_are_resent(ledger: RunLedger) -> None:
    fake = FakeEnkash(script={"createBulkCustomer": ["lost"]})
    results = eo.create_customers(fake, night(ledger), customer_rows("C1", "C2"))  # type: ignore[arg-type]

    assert live_refs(fake) == ["C1", "C2"]  # created once each, not twice
    assert fake.calls["createBulkCustomer"] == 1
    assert by_key(results) == {"C1": ("success", "sent"), "C2": ("success", "sent")}


def test_no_answer_and_nothing_done_means_the_rows_are_sent_again(ledger: RunLedger) -> None:
    fake = FakeEnkash(script={"createBulkCustomer": ["unknown"]})
    results = eo.create_customers(fake, night(ledger), customer_rows("C1"))  # type: ignore[arg-type]

    assert live_refs(fake) == ["C1"]
    assert fake.calls["createBulkCustomer"] == 2
    assert by_key(results) == {"C1": ("success", "sent")}


def test_outcome_still_unknown_after_every_round_raises_for_a_rerun(ledger: RunLedger) -> None:
    fake = FakeEnkash(script={"invoiceBulkUpload": ["unknown"] * eo.MAX_RECONCILE_ROUNDS})
    with pytest.raises(OutcomeUnknownError, match="rerun the cycle"):
        eo.upload_invoices(fake, night(ledger), invoice_rows("INV-1"))  # type: ignore[arg-type]
    assert ledger.unresolved(SELLER, Stage.INVOICES_UPLOAD) == []  # looked up: not in EnKash, to resend
    assert ledger.status_counts(SELLER, Stage.INVOICES_UPLOAD) == {"failed": 1}


def test_refused_for_now_is_sent_again_and_raised_when_it_persists(ledger: RunLedger) -> None:
    fake = FakeEnkash(script={"invoiceBulkUpload": ["refused"]})
    results = eo.upload_invoices(fake, night(ledger), invoice_rows("INV-1"))  # type: ignore[arg-type]
    assert by_key(results) == {"INV-1": ("success", "sent")}
    assert results["amount"].to_list() == [100.0]

    stubborn = FakeEnkash(script={"invoiceBulkUpload": ["refused"] * eo.MAX_RECONCILE_ROUNDS})
    with pytest.raises(RateLimitError):
        eo.upload_invoices(stubborn, night(RunLedger(":memory:")), invoice_rows("INV-1"))  # type: ignore[arg-type]
    assert stubborn.invoices == {}


def test_a_refused_file_fails_every_row_with_enkash_reason(ledger: RunLedger) -> None:
    refusal = ValidationError(
        operation="invoiceBulkUpload", status_code=400, error_message="file has no rows"
    )
    fake = FakeEnkash(script={"invoiceBulkUpload": [refusal]})
    results = eo.upload_invoices(fake, night(ledger), invoice_rows("INV-1", "INV-2"))  # type: ignore[arg-type]

    assert by_key(results) == {"INV-1": ("failure", "sent"), "INV-2": ("failure", "sent")}
    assert set(results["reason"]) == {"file has no rows"}


def test_unreadable_result_files_mean_unknown_outcome_then_lookup(ledger: RunLedger) -> None:
    fake = FakeEnkash(
        script={"downloadResultFile": [RateLimitError(operation="downloadResultFile", status_code=429)]}
    )
    results = eo.upload_invoices(fake, night(ledger), invoice_rows("INV-1"))  # type: ignore[arg-type]

    assert [len(fake.live_invoices("INV-1"))] == [1]
    assert by_key(results) == {"INV-1": ("success", "sent")}


def test_rows_an_earlier_attempt_of_the_night_sent_count_as_sent_and_earlier_nights_as_present(
    ledger: RunLedger,
) -> None:
    fake = FakeEnkash()
    eo.create_customers(fake, night(ledger, YESTERDAY), customer_rows("OLD"))  # type: ignore[arg-type]
    # Tonight's first attempt sends NEW, then dies before recording the answer.
    batch = ledger.begin_batch(SELLER, Stage.CUSTOMERS_CREATE, "createBulkCustomer", ["NEW"], night=TONIGHT)
    fake.create_bulk_customer(customer_rows("NEW"))
    fake.calls.clear()

    # The retry is given both rows again (say EnKash's search was stale): both are looked up first.
    results = eo.create_customers(fake, night(ledger), customer_rows("OLD", "NEW"))  # type: ignore[arg-type]

    assert fake.calls["createBulkCustomer"] == 0  # nothing sent twice
    assert by_key(results) == {"OLD": ("success", "already_present"), "NEW": ("success", "sent")}
    assert ledger.unresolved(SELLER, Stage.CUSTOMERS_CREATE) == []
    assert batch


def test_settle_attributes_a_killed_runs_rows_to_the_night_of_their_batch(ledger: RunLedger) -> None:
    ledger.begin_batch(SELLER, Stage.INVOICES_UPLOAD, "invoiceBulkUpload", ["A", "B"], night=YESTERDAY)
    ledger.begin_batch(SELLER, Stage.INVOICES_UPLOAD, "invoiceBulkUpload", ["C", "D"], night=TONIGHT)

    settled = eo.settle_unresolved(night(ledger), Stage.INVOICES_UPLOAD, {"A": "IN-A", "C": "IN-C"})

    assert by_key(settled) == {"C": ("success", "sent")}
    assert by_key(ledger.night_results(SELLER, YESTERDAY)) == {"A": ("success", "sent")}
    assert ledger.status_counts(SELLER, Stage.INVOICES_UPLOAD) == {"done": 2, "failed": 2}
    assert eo.settle_unresolved(night(ledger), Stage.INVOICES_UPLOAD, {}).is_empty()


def test_dispatch_sends_each_invoice_once_even_when_the_answer_is_lost(ledger: RunLedger) -> None:
    fake = FakeEnkash()
    eo.upload_invoices(fake, night(ledger), invoice_rows("INV-1", "INV-2"))  # type: ignore[arg-type]
    rows = pl.DataFrame(
        [
            {"invoiceId": i["invoiceId"], "externalId": i["externalId"], "customerId": i["customerId"]}
            for i in fake.invoices.values()
        ]
    )
    fake.script["dispatchInvoiceCollection"] = ["lost"]

    results = eo.dispatch_invoices(fake, night(ledger), rows, partial_payment_allowed=True)  # type: ignore[arg-type]

    assert {i["dispatchCount"] for i in fake.invoices.values()} == {1}
    assert by_key(results) == {"INV-1": ("success", "sent"), "INV-2": ("success", "sent")}


def test_an_answered_dispatch_reports_enkash_refusals_per_invoice(ledger: RunLedger) -> None:
    fake = FakeEnkash()
    eo.upload_invoices(fake, night(ledger), invoice_rows("INV-1", "INV-2"))  # type: ignore[arg-type]
    fake.refuse_rows["INV-2"] = "customer has no e-mail"
    rows = pl.DataFrame(
        [
            {"invoiceId": i["invoiceId"], "externalId": i["externalId"], "customerId": i["customerId"]}
            for i in fake.invoices.values()
        ]
    )
    results = eo.dispatch_invoices(fake, night(ledger), rows)  # type: ignore[arg-type]
    assert by_key(results) == {"INV-1": ("success", "sent"), "INV-2": ("failure", "sent")}
    assert results.filter(pl.col("key") == "INV-2")["reason"].item() == "customer has no e-mail"


def test_the_last_round_found_everything_after_all(ledger: RunLedger) -> None:
    fake = FakeEnkash(script={"createBulkCustomer": ["unknown", "unknown", "lost"]})
    results = eo.create_customers(fake, night(ledger), customer_rows("C1"))  # type: ignore[arg-type]
    assert live_refs(fake) == ["C1"] and by_key(results) == {"C1": ("success", "sent")}


def test_rows_of_a_batch_from_before_nights_existed_are_settled_without_a_night(ledger: RunLedger) -> None:
    ledger.begin_batch(SELLER, Stage.CUSTOMERS_CREATE, "createBulkCustomer", ["C1"])
    assert eo.settle_unresolved(night(ledger), Stage.CUSTOMERS_CREATE, {"C1": "KC1"}).is_empty()
    assert ledger.status_counts(SELLER, Stage.CUSTOMERS_CREATE) == {"done": 1}
    assert eo.outcome_results(Stage.REMINDERS, []).is_empty()


def test_updates_are_recorded_and_a_refused_one_fails_alone(ledger: RunLedger) -> None:
    fake = FakeEnkash()
    eo.upload_invoices(fake, night(ledger), invoice_rows("INV-1", "INV-9"))  # type: ignore[arg-type]
    ids = {i["externalId"]: invoice_id for invoice_id, i in fake.invoices.items()}
    refused = ValidationError(operation="updateInvoice", status_code=400, error_message="x")
    fake.by_record[("updateInvoice", ids["INV-9"])] = refused
    rows = pl.DataFrame(
        {
            "invoiceId": [ids["INV-1"], ids["INV-9"]],
            "externalId": ["INV-1", "INV-9"],
            "dueDate": ["2026-12-31"] * 2,
        }
    )

    results = eo.update_invoices(fake, night(ledger), rows)  # type: ignore[arg-type]

    assert by_key(results) == {"INV-1": ("success", "sent"), "INV-9": ("failure", "sent")}
    customers = eo.update_customers(  # type: ignore[arg-type]
        fake, night(ledger), pl.DataFrame({"customerId": ["KC1"], "uniqueRefNo": ["C1"]})
    )
    assert by_key(customers) == {"C1": ("success", "sent")}


@pytest.mark.parametrize("shift", [1, -1], ids=["numbered-from-2", "numbered-from-0"])
def test_result_files_numbered_differently_are_not_trusted_and_each_id_goes_to_its_own_invoice(
    ledger: RunLedger, shift: int
) -> None:
    fake = FakeEnkash(result_row_shift=shift)

    results = eo.upload_invoices(fake, night(ledger), invoice_rows("INV-1", "INV-2", "INV-3"))  # type: ignore[arg-type]

    # Each row answered for its neighbour (or a row never sent): the ids come from a look-up instead.
    id_of = {i["externalId"]: invoice_id for invoice_id, i in fake.invoices.items()}
    assert by_key(results) == {n: ("success", "sent") for n in ("INV-1", "INV-2", "INV-3")}
    assert dict(zip(results["key"].to_list(), results["remote_id"].to_list(), strict=True)) == id_of
    assert fake.calls["invoiceBulkUpload"] == 1 and fake.calls["searchCollectionInvoices"] >= 1
    assert ledger.remote_ids(SELLER, Stage.INVOICES_UPLOAD) == id_of


def test_result_files_as_the_profile_numbers_them_need_no_look_up(ledger: RunLedger) -> None:
    fake = FakeEnkash()

    results = eo.upload_invoices(fake, night(ledger), invoice_rows("INV-1", "INV-2"))  # type: ignore[arg-type]

    id_of = {i["externalId"]: invoice_id for invoice_id, i in fake.invoices.items()}
    assert dict(zip(results["key"].to_list(), results["remote_id"].to_list(), strict=True)) == id_of
    assert fake.calls["searchCollectionInvoices"] == 0


def test_a_customer_update_whose_result_files_cannot_be_read_fails_its_rows_and_the_night_goes_on(
    ledger: RunLedger,
) -> None:
    fake = FakeEnkash()
    fake.script["downloadResultFile"] = [ValidationError(operation="downloadResultFile", status_code=404)]
    rows = pl.DataFrame({"customerId": ["KC1", "KC2"], "uniqueRefNo": ["C1", "C2"]})

    results = eo.update_customers(fake, night(ledger), rows)  # type: ignore[arg-type]

    assert by_key(results) == {"C1": ("failure", "sent"), "C2": ("failure", "sent")}
    assert all("next night sends it again" in r for r in results["reason"].to_list())
    assert fake.calls["bulkUpdate"] == 1
    assert not ledger.unresolved(SELLER, Stage.CUSTOMERS_UPDATE)


def test_a_patch_whose_answer_cannot_be_read_fails_alone_and_the_chunk_goes_on(ledger: RunLedger) -> None:
    fake = FakeEnkash()
    eo.upload_invoices(fake, night(ledger), invoice_rows("INV-1", "INV-2", "INV-3"))  # type: ignore[arg-type]
    ids = {i["externalId"]: invoice_id for invoice_id, i in fake.invoices.items()}
    fake.by_record[("updateInvoice", ids["INV-2"])] = "lost"  # applied, its answer unreadable
    rows = pl.DataFrame(
        {
            "invoiceId": [ids["INV-1"], ids["INV-2"], ids["INV-3"]],
            "externalId": ["INV-1", "INV-2", "INV-3"],
            "dueDate": ["2026-12-31"] * 3,
        }
    )
    answered: list[Any] = []

    results = eo.update_invoices(fake, night(ledger), rows, answered)  # type: ignore[arg-type]

    assert by_key(results) == {
        "INV-1": ("success", "sent"),
        "INV-2": ("failure", "sent"),
        "INV-3": ("success", "sent"),
    }
    reason = results.filter(pl.col("key") == "INV-2")["reason"].item()
    assert "answer lost" in reason and "next night sends it again" in reason
    assert fake.calls["updateInvoice"] == 3 and len(answered) == 2
    assert by_key(
        ledger.night_results(SELLER, TONIGHT).filter(pl.col("stage") == "invoices_update")
    ) == by_key(results)
    assert not ledger.unresolved(SELLER, Stage.INVOICES_UPDATE)


class _PatchesSideBySide(FakeEnkash):
    """A fake whose updateInvoice answers only once ``expected`` patches are in flight together: patches
    sent one after another would time out waiting for each other."""

    def __init__(self, expected: int) -> None:
        super().__init__()
        self.together = threading.Barrier(expected, timeout=10)

    def update_invoice(self, invoice_id: str, changes: dict[str, Any]) -> Any:
        self.together.wait()
        return super().update_invoice(invoice_id, changes)


def test_patches_are_sent_side_by_side_and_answered_in_the_rows_order(ledger: RunLedger) -> None:
    numbers = [f"INV-{n}" for n in range(1, 17)]
    fake = _PatchesSideBySide(eo.PATCH_WORKERS)
    eo.upload_invoices(fake, night(ledger), invoice_rows(*numbers))  # type: ignore[arg-type]
    ids = {i["externalId"]: invoice_id for invoice_id, i in fake.invoices.items()}
    fake.by_record[("updateInvoice", ids["INV-5"])] = "lost"
    rows = pl.DataFrame(
        {"invoiceId": [ids[n] for n in numbers], "externalId": numbers, "dueDate": ["2026-12-31"] * 16}
    )
    answered: list[Any] = []

    results = eo.update_invoices(fake, night(ledger), rows, answered)  # type: ignore[arg-type]

    assert results["key"].to_list() == numbers
    assert by_key(results) == {n: ("failure" if n == "INV-5" else "success", "sent") for n in numbers}
    assert [i.invoice_id for i in answered] == [ids[n] for n in numbers if n != "INV-5"]
    assert all(i["dueDate"] == "2026-12-31" for i in fake.invoices.values())
    assert not ledger.unresolved(SELLER, Stage.INVOICES_UPDATE)


def test_a_patch_left_without_an_answer_stops_the_chunk_and_leaves_its_batch_to_the_retry(
    ledger: RunLedger,
) -> None:
    numbers = [f"INV-{n}" for n in range(1, 4)]
    fake = FakeEnkash()
    eo.upload_invoices(fake, night(ledger), invoice_rows(*numbers))  # type: ignore[arg-type]
    ids = {i["externalId"]: invoice_id for invoice_id, i in fake.invoices.items()}
    unreachable = TransportError("updateInvoice: connection refused (scripted)", operation="updateInvoice")
    fake.by_record[("updateInvoice", ids["INV-2"])] = unreachable
    rows = pl.DataFrame(
        {"invoiceId": [ids[n] for n in numbers], "externalId": numbers, "dueDate": ["2026-12-31"] * 3}
    )

    with pytest.raises(TransportError):
        eo.update_invoices(fake, night(ledger), rows)  # type: ignore[arg-type]

    # Nothing is recorded as done or failed: the task's retry compares with EnKash again and patches
    # what still differs.
    assert set(ledger.unresolved(SELLER, Stage.INVOICES_UPDATE)) == set(numbers)
    assert ledger.night_results(SELLER, TONIGHT).filter(pl.col("stage") == "invoices_update").is_empty()


def test_delete_twins_records_each_copy_and_tolerates_one_already_gone(ledger: RunLedger) -> None:
    fake = FakeEnkash()
    fake.invoice_bulk_upload(invoice_rows("INV-1", "INV-1"))
    first, second = list(fake.invoices)
    fake.invoices[first]["deleted"] = True
    twins = pl.DataFrame({"invoiceId": [first, second], "externalId": ["INV-1", "INV-1"]})

    results = eo.delete_twin_invoices(fake, night(ledger), twins)  # type: ignore[arg-type]

    assert by_key(results) == {first: ("failure", "sent"), second: ("success", "sent")}
    assert eo.delete_twin_invoices(fake, night(ledger), twins.clear()).is_empty()  # type: ignore[arg-type]


def test_a_delete_without_an_answer_is_left_for_the_next_night(ledger: RunLedger) -> None:
    fake = FakeEnkash(script={"deleteInvoiceCollection": ["unknown"]})
    twins = pl.DataFrame({"invoiceId": ["IN1"], "externalId": ["INV-1"]})
    with pytest.raises(OutcomeUnknownError):
        eo.delete_twin_invoices(fake, night(ledger), twins)  # type: ignore[arg-type]
    assert ledger.status_counts(SELLER, Stage.INVOICES_DEDUPLICATE) == {"unknown": 1}


def test_refused_credentials_stop_the_write_at_once(ledger: RunLedger) -> None:
    fake = FakeEnkash(script={"createBulkCustomer": [AuthenticationError("refused", status_code=401)]})
    with pytest.raises(AuthenticationError):
        eo.create_customers(fake, night(ledger), customer_rows("C1"))  # type: ignore[arg-type]
    assert fake.calls["createBulkCustomer"] == 1


def test_lookups_pick_the_lowest_id_when_enkash_holds_a_key_twice() -> None:
    frame = pl.DataFrame({"externalId": ["A", "A", "B"], "invoiceId": ["IN9", "IN2", "IN5"]})
    assert eo._ids_by_key(frame, ["A", "B", "C"], "externalId", "invoiceId") == {"A": "IN2", "B": "IN5"}
    assert eo._ids_by_key(frame.clear(), ["A"], "externalId", "invoiceId") == {}


def test_outcome_results_mark_failures() -> None:
    rows: Any = eo.outcome_results(
        Stage.REMINDERS, [Outcome("C1", "done"), Outcome("C2", "failed", None, "x")]
    )
    assert by_key(rows) == {"C1": ("success", "sent"), "C2": ("failure", "sent")}


class _ResultFiles:
    """A client whose bulk answer is the given success and failure files."""

    def __init__(self, success: pl.DataFrame, failure: pl.DataFrame) -> None:
        self.files = (success, failure)

    def bulk_results(self, response: object) -> tuple[pl.DataFrame, pl.DataFrame]:
        return self.files


def outcomes_of(success: pl.DataFrame, failure: pl.DataFrame, *numbers: str) -> list[Outcome]:
    sent = invoice_rows(*numbers)
    frame = eo._bulk_outcomes(_ResultFiles(success, failure), None, sent, "externalId", "invoiceId")  # type: ignore[arg-type]
    return [Outcome(*row) for row in frame.rows()]


def test_a_bulk_answer_is_read_row_number_by_row_number_into_outcomes() -> None:
    success = pl.DataFrame({"rowNumber": [" 3", "1"], "invoiceId": [7, 5]})  # as text, padded; ids as numbers
    failure = pl.DataFrame(
        {"rowNumber": [2, 4], "field": ["baseAmount", None], "reason": ["must be > 0", None]}
    )

    assert outcomes_of(success, failure, "INV-1", "INV-2", "INV-3", "INV-4") == [
        Outcome("INV-3", "done", "7", None),
        Outcome("INV-1", "done", "5", None),
        Outcome("INV-2", "failed", None, "baseAmount: must be > 0"),
        Outcome("INV-4", "failed", None, ""),
    ]
    # A success file without the id column still says which rows went through.
    assert outcomes_of(pl.DataFrame({"rowNumber": ["1"]}), pl.DataFrame({"rowNumber": []}), "INV-1") == [
        Outcome("INV-1", "done", None, None)
    ]


@pytest.mark.parametrize(
    ("success", "problem"),
    [
        (
            pl.DataFrame({"rowNumber": ["3"], "invoiceId": ["I3"]}),
            "row number '3' is not a row of the 2 sent",
        ),
        (
            pl.DataFrame({"rowNumber": ["0"], "invoiceId": ["I0"]}),
            "row number '0' is not a row of the 2 sent",
        ),
        (pl.DataFrame({"rowNumber": ["1.0"], "invoiceId": ["I1"]}), "row number '1.0' is not a row"),
        (
            pl.DataFrame(
                {"rowNumber": [None], "invoiceId": ["I1"]}, schema_overrides={"rowNumber": pl.String}
            ),
            "row number None is not a row",
        ),
        (
            pl.DataFrame({"rowNumber": ["1"], "invoiceId": ["I1"], "externalId": ["INV-2"]}),
            "row 1 answers for 'INV-2', but row 1 sent was 'INV-1'",
        ),
    ],
    ids=["past-the-end", "zero", "not-whole", "missing", "echoes-another-row"],
)
def test_a_bulk_answer_that_does_not_fit_what_was_sent_leaves_the_outcome_unknown(
    success: pl.DataFrame, problem: str
) -> None:
    with pytest.raises(OutcomeUnknownError, match=problem.replace("(", r"\(")) as raised:
        outcomes_of(success, pl.DataFrame({"rowNumber": []}), "INV-1", "INV-2")
    assert raised.value.operation == "downloadResultFile" and "first_row_number" in str(raised.value)


def test_an_echo_of_a_key_that_was_not_sent_is_not_a_misfit() -> None:
    # The server echoes the number as it stored it (another spelling): the row number decides.
    success = pl.DataFrame({"rowNumber": ["1"], "invoiceId": ["I1"], "externalId": ["inv-1"]})

    assert outcomes_of(success, pl.DataFrame({"rowNumber": []}), "INV-1") == [
        Outcome("INV-1", "done", "I1", None)
    ]


def test_result_rows_say_success_or_failure_with_each_row_s_origin_amount_reason_and_id() -> None:
    rows = [
        eo.RowResult(Outcome("INV-1", "done", "I1", None), Origin.SENT),
        eo.RowResult(Outcome("INV-2", "failed", None, "bad date"), Origin.SENT),
        eo.RowResult(Outcome("INV-3", "done", "I3", "found in EnKash"), Origin.ALREADY_PRESENT),
    ]

    results = eo.results_frame(Stage.INVOICES_UPLOAD, rows, {"INV-1": 10.5, "INV-3": 2.0})

    assert results.schema == RESULT_SCHEMA
    assert results.rows() == [
        ("invoices_upload", "INV-1", "success", "sent", 10.5, None, "I1"),
        ("invoices_upload", "INV-2", "failure", "sent", 0.0, "bad date", None),
        ("invoices_upload", "INV-3", "success", "already_present", 2.0, "found in EnKash", "I3"),
    ]
    # Outcomes this night sent, as objects or as a frame, are the same rows with origin "sent".
    sent = [r.outcome for r in rows[:2]]
    assert eo.outcome_results(Stage.INVOICES_UPLOAD, sent, {"INV-1": 10.5}).equals(results.head(2))
    assert eo.sent_results(Stage.INVOICES_UPLOAD, eo.outcomes_frame(sent), {"INV-1": 10.5}).equals(
        results.head(2)
    )
    assert eo.results_frame(Stage.INVOICES_UPLOAD, []).equals(empty_results())


class _Searches:
    """A client whose invoice search refuses ``refused`` filters (400) and otherwise answers ``held``,
    filtered by customer only (the wider search the lookups fall back to); the bodies it was asked."""

    def __init__(self, held: pl.DataFrame, *refused: str) -> None:
        self.held, self.refused, self.asked = held, refused, []

    def search_invoices_frame(self, filters: dict[str, Any]) -> pl.DataFrame:
        self.asked.append(filters)
        if any(name in filters for name in self.refused):
            raise BadRequestError(operation="searchCollectionInvoices", status_code=400)
        customers = filters.get("customerIds")
        return self.held if customers is None else self.held.filter(pl.col("customerId").is_in(customers))


def test_lookups_whose_filters_enkash_refuses_look_among_the_customers_invoices_and_still_answer_right(
    caplog: pytest.LogCaptureFixture,
) -> None:
    since = datetime(2026, 11, 23, tzinfo=UTC)
    held = invoices(
        invoice("I1", "INV-1", "C1", dispatched=True),
        invoice("I2", "INV-2", "C1"),  # undispatched: not a dispatched copy
        invoice("I3", "INV-3", "C1", dispatched=True),  # dispatched, but not a copy this batch sent
        invoice("I4", "INV-4", "C1", status="CANCELLED"),  # a cancelled copy does not count
        invoice("I5", "INV-5", "C2", dispatched=True),  # another customer's
    )
    rows = pl.DataFrame(
        {"invoiceId": ["I1", "I2"], "externalId": ["INV-1", "INV-2"], "customerId": ["C1", "C1"]}
    )

    refusing = _Searches(held, "dispatchedOnFrom")
    with caplog.at_level(logging.WARNING):
        found = eo.lookup_dispatched(refusing, rows, since)(["INV-1", "INV-2", "INV-3"])  # type: ignore[arg-type]
    assert found == {"INV-1": "I1"}
    assert [sorted(body) for body in refusing.asked] == [
        ["customerIds", "dispatched", "dispatchedOnFrom"],
        ["customerIds"],
    ]
    assert "looking among every invoice of the 1 customers instead" in caplog.text

    uploads = _Searches(held, "createdOnFrom")
    found = eo.lookup_invoices(uploads, ["C1"], since)(["INV-1", "INV-4", "INV-9"])  # type: ignore[arg-type]
    assert found == {"INV-1": "I1"}
    assert [sorted(body) for body in uploads.asked] == [["createdOnFrom", "customerIds"], ["customerIds"]]
    # Without customerIds either: every invoice of the seller, kept to the batch's customers here (INV-5
    # is another customer's number).
    bare = _Searches(held, "createdOnFrom", "customerIds")
    with caplog.at_level(logging.WARNING):
        found = eo.lookup_invoices(bare, ["C1"], since)(["INV-1", "INV-5"])  # type: ignore[arg-type]
    assert found == {"INV-1": "I1"}
    assert [sorted(body) for body in bare.asked] == [["createdOnFrom", "customerIds"], ["customerIds"], []]
    assert "looking among every invoice of the seller instead" in caplog.text
    wide = eo.customers_invoices(_Searches(held, "customerIds"), ["C2"])  # type: ignore[arg-type]
    assert wide["invoiceId"].to_list() == ["I5"]
    # Answered as guessed, nothing is asked twice; an outage is raised, not looked around.
    plain = _Searches(held)
    assert eo.lookup_dispatched(plain, rows, since)(["INV-1"]) == {"INV-1": "I1"}  # type: ignore[arg-type]
    assert len(plain.asked) == 1

    class _Down(_Searches):
        def search_invoices_frame(self, filters: dict[str, Any]) -> pl.DataFrame:
            raise ServerError(operation="searchCollectionInvoices", status_code=503)

    with pytest.raises(ServerError):
        eo.lookup_dispatched(_Down(held), rows, since)(["INV-1"])  # type: ignore[arg-type]
