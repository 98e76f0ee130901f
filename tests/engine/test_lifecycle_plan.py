"""What leaves EnKash when it leaves the ERP export, and the guard against a truncated export (pure)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from ar_sync.convergence import invoice_twins
from ar_sync.lifecycle import (
    LedgerFacts,
    TruncatedExportError,
    check_guard,
    export_keys,
    ledger_facts,
    plan_lifecycle,
)
from ar_sync.planner import customer_id_map, plan_invoices, planning_customers
from ar_sync.receivables import open_invoices_frame
from ar_sync.results import Stage
from ar_sync.run_ledger import Outcome, RunLedger
from tests.engine.pictures import customer, customer_line, export, invoice, invoice_line, invoices

KC1, KC2, KC3 = "KC00000000000001", "KC00000000000002", "KC00000000000003"


def _customers(*rows: tuple[str, str | None, str]) -> pl.DataFrame:
    return planning_customers([customer(cid, ref, status=status) for cid, ref, status in rows])


def test_an_invoice_gone_from_the_export_is_deleted_if_never_dispatched_else_taken_out_of_collection(
    tmp_path: Path,
) -> None:
    erp = export(tmp_path, [customer_line("C1")], [invoice_line("INV-1", "C1")])
    picture = invoices(
        invoice("IN1", "INV-1", KC1),
        invoice("IN2", "INV-2", KC1),
        invoice("IN3", "INV-3", KC1, dispatched=True),
        invoice("IN4", "INV-4", KC1, status="PARTIALLY_PAID", received=10.0),
        invoice("IN5", "INV-5", KC1, dispatched=True, status="PAID"),
        invoice("IN6", "INV-6", KC1, dispatched=True, status="CANCELLED"),
        invoice("IN7", None, KC1),  # made on the portal, not by this project
    )

    plan = plan_lifecycle(export_keys(*erp), picture, _customers((KC1, "C1", "ACTIVE")))

    assert plan.to_delete.select("externalId", "reason").rows() == [
        ("INV-2", "not in the ERP export any more: deleted (never dispatched)")
    ]
    assert plan.to_withdraw.select("externalId", "reason").rows() == [
        ("INV-3", "not in the ERP export any more: taken out of collection"),
        ("INV-4", "not in the ERP export any more: taken out of collection (10.0 already received)"),
    ]
    assert plan.open_invoices == 4 and plan.cancellations == 3
    assert plan.to_deactivate.is_empty()


def test_an_invoice_the_ledger_says_we_uploaded_is_ours_even_without_an_external_id(tmp_path: Path) -> None:
    erp = export(tmp_path, [customer_line("C1")], [invoice_line("INV-1", "C1")])
    picture = invoices(invoice("IN1", "INV-1", KC1), invoice("IN7", None, KC1), invoice("IN8", None, KC1))

    plan = plan_lifecycle(
        export_keys(*erp),
        picture,
        _customers((KC1, "C1", "ACTIVE")),
        LedgerFacts(uploaded_ids=frozenset({"IN8"})),
    )

    assert plan.to_delete["invoiceId"].to_list() == ["IN8"]


def test_the_ledger_is_asked_only_about_records_without_an_erp_key_and_tells_which_are_ours(
    tmp_path: Path,
) -> None:
    ledger = RunLedger(":memory:")
    # This project uploaded IN1 (INV-1), IN8 (no externalId any more) and, long ago, many others.
    sent = ["INV-1", "INV-8", *(f"OLD-{i}" for i in range(500))]
    batch = ledger.begin_batch("S1", Stage.INVOICES_UPLOAD, "invoiceBulkUpload", sent)
    ledger.finish_batch(
        batch, [Outcome(k, "done", {"INV-1": "IN1", "INV-8": "IN8"}.get(k, f"X{k}"), None) for k in sent]
    )
    created = ledger.begin_batch("S1", Stage.CUSTOMERS_CREATE, "createBulkCustomer", ["C9"])
    ledger.finish_batch(created, [Outcome("C9", "done", "KC9", None)])
    off = ledger.begin_batch("S1", Stage.CUSTOMERS_DEACTIVATE, "deactivateCustomer", ["C5", "C6"])
    ledger.finish_batch(off, [Outcome("C5", "done", "KC5", None), Outcome("C6", "done", "KC6", None)])
    picture = invoices(invoice("IN1", "INV-1", KC1), invoice("IN7", None, KC1), invoice("IN8", None, KC1))
    customers = pl.DataFrame(
        {
            "customerId": [KC1, "KC9", "KC5", "KC6"],
            "uniqueRefNo": ["C1", None, "C5", "C6"],
            "status": ["ACTIVE", "ACTIVE", "INACTIVE", "ACTIVE"],
        }
    )

    facts = ledger_facts(ledger, "S1", picture, customers)

    assert facts.uploaded_ids == {"IN8"}  # IN1 is the ERP's by its externalId; IN7 is not ours
    assert facts.created_ids == {"KC9"}
    assert facts.deactivated_ids == {"KC5"}  # KC6 is active again: nothing to reactivate
    erp = export(tmp_path, [customer_line("C1")], [invoice_line("INV-1", "C1")])
    plan = plan_lifecycle(export_keys(*erp), picture, _customers((KC1, "C1", "ACTIVE")), facts)
    assert plan.to_delete["invoiceId"].to_list() == ["IN8"]


def test_a_rejected_row_still_holds_its_invoice_and_its_customer(tmp_path: Path) -> None:
    # Tonight's INV-2 has a decimal comma and C2 a bad mobile (so its invoice INV-3 is rejected too):
    # typos in the export never cancel or deactivate anything.
    erp = export(
        tmp_path,
        [customer_line("C1"), "C2,C2 Traders,Asha Rao,0000000000,,,,Maharashtra,400001\n"],
        [
            invoice_line("INV-1", "C1"),
            invoice_line("INV-2", "C1", base='"4053,14"'),
            invoice_line("INV-3", "C2"),
        ],
    )
    assert erp[1].rejected_rows == 2 and erp[0].rejected_rows == 1
    picture = invoices(
        invoice("IN1", "INV-1", KC1),
        invoice("IN2", "INV-2", KC1, dispatched=True),
        invoice("IN3", "INV-3", KC2),
    )

    plan = plan_lifecycle(
        export_keys(*erp), picture, _customers((KC1, "C1", "ACTIVE"), (KC2, "C2", "ACTIVE"))
    )

    assert plan.cancellations == 0 and plan.to_deactivate.is_empty()


def test_keys_match_whatever_the_case_spaces_or_invisible_characters(tmp_path: Path) -> None:
    erp = export(tmp_path, [customer_line("CUST00001")], [invoice_line("INV/2026-27/000001", "CUST00001")])
    picture = invoices(invoice("IN1", "inv/2026-27/000001\u200b", KC1, dispatched=True))

    plan = plan_lifecycle(export_keys(*erp), picture, _customers((KC1, " cust00001", "ACTIVE")))

    assert plan.cancellations == 0 and plan.to_deactivate.is_empty()


def test_an_invoice_moved_to_another_customer_is_moved_if_undispatched_else_cancelled_and_billed_again(
    tmp_path: Path,
) -> None:
    erp = export(
        tmp_path,
        [customer_line("C1"), customer_line("C2")],
        [invoice_line("INV-1", "C2"), invoice_line("INV-2", "C2")],
    )
    picture = invoices(invoice("IN1", "INV-1", KC1, dispatched=True), invoice("IN2", "INV-2", KC1))
    customers = _customers((KC1, "C1", "ACTIVE"), (KC2, "C2", "ACTIVE"))

    plan = plan_lifecycle(export_keys(*erp), picture, customers)

    # Dispatched under C1: C1 holds its payment link, so it is taken out of collection...
    assert plan.to_withdraw.select("externalId", "reason").rows() == [
        ("INV-1", "billed to customer C2 in the ERP after dispatch: taken out of collection")
    ]
    assert plan.to_delete.is_empty()
    # ... and once cancelled it is uploaded again under C2; the undispatched INV-2 is simply moved.
    after = picture.with_columns(
        pl.when(pl.col("invoiceId") == "IN1")
        .then(pl.lit("CANCELLED"))
        .otherwise("receivableStatus")
        .alias("receivableStatus")
    )
    upload = plan_invoices(erp[1].valid, customer_id_map(customers), invoice_twins(after).keepers)
    assert upload.to_create.select("externalId", "customerId").rows() == [("INV-1", KC2)]
    assert upload.to_update.select("invoiceId", "customerId").rows() == [("IN2", KC2)]


def test_customers_gone_are_deactivated_and_those_we_deactivated_come_back_active(tmp_path: Path) -> None:
    erp = export(tmp_path, [customer_line("C1"), customer_line("C3")], [invoice_line("INV-1", "C1")])
    customers = _customers(
        (KC1, "C1", "ACTIVE"),
        (KC2, "C2", "ACTIVE"),  # gone from the export
        (KC3, "C3", "INACTIVE"),  # back in the export
        ("KC00000000000004", None, "ACTIVE"),  # not this project's: no ref
        ("KC00000000000005", "C5", "INACTIVE"),  # a person deactivated it: left alone
    )
    picture = invoices(invoice("IN1", "INV-1", KC1))

    plan = plan_lifecycle(
        export_keys(*erp), picture, customers, LedgerFacts(deactivated_ids=frozenset({KC3}))
    )

    assert plan.to_deactivate.rows() == [(KC2, "C2")]
    assert plan.to_reactivate.rows() == [(KC3, "C3")]
    assert plan.active_customers == 2


def _open(n: int) -> pl.DataFrame:
    return invoices(*(invoice(f"IN{i}", f"INV-{i}", KC1) for i in range(1, n + 1)))


def test_the_guard_refuses_more_than_the_share_in_one_line_and_a_confirmation_lets_it_through(
    tmp_path: Path,
) -> None:
    customers = _customers((KC1, "C1", "ACTIVE"))
    # 1 of 20 open invoices is 5 %: exactly the limit, allowed.
    one_gone = export(
        tmp_path / "a", [customer_line("C1")], [invoice_line(f"INV-{i}", "C1") for i in range(2, 21)]
    )
    check_guard(plan_lifecycle(export_keys(*one_gone), _open(20), customers), max_share=0.05)

    two_gone = export(
        tmp_path / "b", [customer_line("C1")], [invoice_line(f"INV-{i}", "C1") for i in range(3, 21)]
    )
    plan = plan_lifecycle(export_keys(*two_gone), _open(20), customers)
    with pytest.raises(TruncatedExportError) as refused:
        check_guard(plan, max_share=0.05)
    message = str(refused.value)
    assert "\n" not in message
    assert "would cancel 2 of 20 open invoices (10.0%)" in message
    assert "above the 5% limit (max_cancel_share)" in message
    assert "invoices INV-1, INV-2" in message
    assert "--confirm-cancellations" in message
    check_guard(plan, max_share=0.05, confirmed=True)
    check_guard(plan, max_share=0.1)


def test_the_guard_counts_customers_gone_too(tmp_path: Path) -> None:
    erp = export(tmp_path, [customer_line("C1")], [invoice_line("INV-1", "C1")])
    plan = plan_lifecycle(
        export_keys(*erp), _open(1), _customers((KC1, "C1", "ACTIVE"), (KC2, "C2", "ACTIVE"))
    )
    with pytest.raises(
        TruncatedExportError, match=r"deactivate 1 of 2 active customers \(50.0%\).*customers C2"
    ):
        check_guard(plan)


def test_a_cancelled_copy_is_no_twin_no_receivable_and_its_invoice_is_billed_again(tmp_path: Path) -> None:
    erp = export(tmp_path, [customer_line("C1")], [invoice_line("INV-1", "C1")])
    picture = invoices(invoice("IN1", "INV-1", KC1, dispatched=True, status="CANCELLED"))
    customers = _customers((KC1, "C1", "ACTIVE"))

    twins = invoice_twins(picture)
    assert twins.keepers.is_empty() and twins.to_report.is_empty() and twins.to_delete.is_empty()
    assert open_invoices_frame(picture, customers).is_empty()
    upload = plan_invoices(erp[1].valid, customer_id_map(customers), twins.keepers)
    assert upload.to_create["externalId"].to_list() == ["INV-1"]
    # Beside a new copy, the cancelled one is still no twin: the new one is kept and dispatched.
    again = invoice_twins(pl.concat([picture, invoices(invoice("IN2", "INV-1", KC1, minutes=5))]))
    assert again.keepers["invoiceId"].to_list() == ["IN2"] and again.to_delete.is_empty()
