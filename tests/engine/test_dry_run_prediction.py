"""A dry run predicts every stage of the real night, including what depends on the stages before it (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ar_sync.dry_run import Picture, predict_night
from ar_sync.lifecycle import TruncatedExportError
from ar_sync.planner import planning_customers
from ar_sync.reminder_policy import DEFAULT_SCHEDULE
from ar_sync.results import Stage
from enkash_ar.models import Customer, CustomerReminder
from tests.engine.pictures import GSTIN, customer, customer_line, export, invoice, invoice_line, invoices

KC1, KC2, KC3 = "KC00000000000001", "KC00000000000002", "KC00000000000003"


def _on_schedule(customer_id: str, ref: str, **members: object) -> Customer:
    held = customer(customer_id, ref, **members)
    reminders = [
        CustomerReminder.model_validate(
            {**rule.body().model_dump(by_alias=True, mode="json"), "customerReminderId": f"R{i}"}
        )
        for i, rule in enumerate(DEFAULT_SCHEDULE)
    ]
    return held.model_copy(update={"customer_reminders": reminders})


def _only(planned: dict[str, int]) -> dict[str, int]:
    return {stage: rows for stage, rows in planned.items() if rows}


def test_a_first_night_predicts_uploads_for_new_customers_and_their_dispatch_and_reminders(
    tmp_path: Path,
) -> None:
    erp = export(
        tmp_path,
        [customer_line("C1"), customer_line("C2")],
        [invoice_line("INV-1", "C1"), invoice_line("INV-2", "C1"), invoice_line("INV-3", "C2")],
    )
    nothing = Picture(planning_customers([]), [], invoices())

    planned = predict_night(*erp, nothing)

    assert set(planned) == {str(s) for s in Stage}
    assert _only(planned) == {
        Stage.CUSTOMERS_CREATE: 2,
        Stage.INVOICES_UPLOAD: 3,
        Stage.INVOICES_DISPATCH: 3,
        Stage.REMINDERS: 2,
    }


def test_a_night_with_changes_predicts_every_stage(tmp_path: Path) -> None:
    erp = export(
        tmp_path,
        # C2's GSTIN emptied, C3 gone, C4 new.
        [customer_line("C1"), customer_line("C2"), customer_line("C4")],
        [
            invoice_line("INV-1", "C1"),  # unchanged, dispatched
            invoice_line("INV-3", "C2"),  # moved from C1 after dispatch: cancelled, uploaded, dispatched
            invoice_line("INV-4", "C2"),  # moved from C1 before dispatch: patched, then dispatched
            invoice_line("INV-5", "C4"),  # a new customer's: uploaded, dispatched
            invoice_line("inv-6", "C1"),  # EnKash holds INV-6: the same invoice, nothing to do
        ],
    )
    picture = Picture(
        planning_customers(
            models := [
                _on_schedule(KC1, "C1"),
                _on_schedule(KC2, "C2", panOrGstin=GSTIN),
                customer(KC3, "C3"),  # gone: deactivated, so no reminders either
            ]
        ),
        models,
        invoices(
            invoice("IN1", "INV-1", KC1, dispatched=True),
            invoice("IN2", "INV-2", KC1, dispatched=True),  # gone: taken out of collection
            invoice("IN3", "INV-3", KC1, dispatched=True),
            invoice("IN4", "INV-4", KC1),
            invoice("IN6", "INV-6", KC1, dispatched=True),
            invoice("IN7", "INV-7", KC3),  # gone, never dispatched: deleted
        ),
    )

    planned = predict_night(*erp, picture, confirm_cancellations=True)

    assert _only(planned) == {
        Stage.INVOICES_CANCEL: 3,  # INV-2, INV-7 gone; INV-3 moved after dispatch
        Stage.CUSTOMERS_DEACTIVATE: 1,
        Stage.CUSTOMERS_CREATE: 1,
        Stage.CUSTOMER_FIELDS_CLEAR: 1,
        Stage.INVOICES_UPLOAD: 2,  # INV-3 under C2, INV-5
        Stage.INVOICES_UPDATE: 1,  # INV-4 moved to C2
        Stage.INVOICES_DISPATCH: 3,  # INV-3, INV-4, INV-5
        Stage.REMINDERS: 1,  # C4
    }


def test_a_dry_run_refuses_a_truncated_export_like_the_real_run_would(tmp_path: Path) -> None:
    erp = export(tmp_path, [customer_line("C1")], [invoice_line("INV-1", "C1")])
    held = [customer(KC1, "C1")]
    picture = Picture(
        planning_customers(held),
        held,
        invoices(invoice("IN1", "INV-1", KC1), invoice("IN2", "INV-2", KC1, dispatched=True)),
    )

    with pytest.raises(TruncatedExportError, match="cancel 1 of 2 open invoices"):
        predict_night(*erp, picture)
    assert predict_night(*erp, picture, max_cancel_share=0.5)[Stage.INVOICES_CANCEL] == 1
