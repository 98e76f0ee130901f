"""Each stage flow on its own, in the order a user would run the deployments by hand."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path
from typing import Any

from ar_sync.erp_input import load_customers, load_invoices
from flows.ar_summary import ar_summary
from flows.cancel_removed import cancel_removed
from flows.dispatch_invoices import dispatch_invoices
from flows.options import CycleOptions
from flows.setup_reminders import setup_reminders
from flows.sync_customers import sync_customers
from flows.upload_invoices import upload_invoices


def test_each_stage_runs_alone(
    enkash_env: Any, sandbox_state: Any, as_of: date, erp_files: tuple[Path, Path], tmp_path: Path
) -> None:
    customers_file, invoices_file = map(str, erp_files)
    options = CycleOptions(out_dir=str(tmp_path / "out"), ledger_path=str(tmp_path / "ledger.sqlite3"))
    customers = load_customers(customers_file)
    invoices = load_invoices(invoices_file, known_customer_refs=customers.valid.get_column("customer_ref"))

    # Nothing in EnKash has left the export yet: nothing to cancel or deactivate.
    reports = asyncio.run(cancel_removed(customers_file, invoices_file, as_of, options))
    assert [(r.planned, r.sent) for r in reports] == [(0, 0)] * 3

    # Each stage also reports the fields it cleared (a third report since the lifecycle work).
    created, updated, _ = asyncio.run(sync_customers(customers_file, as_of, options))
    assert (created.sent, updated.sent) == (customers.valid.height, 0)
    assert (tmp_path / "out" / "rejected_rows.csv").exists()

    uploaded, changed, _ = asyncio.run(upload_invoices(customers_file, invoices_file, as_of, options))
    assert (uploaded.sent, uploaded.failed, changed.sent) == (invoices.valid.height, 0, 0)

    _, dispatched = asyncio.run(dispatch_invoices(customers_file, invoices_file, as_of, options))
    assert dispatched.sent == invoices.valid.height
    _, again = asyncio.run(dispatch_invoices(customers_file, invoices_file, as_of, options))
    assert (again.planned, again.already_present) == (0, invoices.valid.height)

    reminders, _ = asyncio.run(setup_reminders(as_of, options))
    assert reminders.sent == customers.valid.height
    assert asyncio.run(setup_reminders(as_of, options))[0].planned == 0

    summary = asyncio.run(ar_summary(as_of, options))
    state = sandbox_state()
    assert {i["dispatch_count"] for i in state["invoices"]} == {1}
    # The summary is the night's, over every run of its stages: the quiet reruns above change nothing.
    assert (summary.invoices_uploaded, summary.invoices_dispatched, summary.reminders_set) == (
        invoices.valid.height,
        invoices.valid.height,
        customers.valid.height,
    )
    assert summary.invoices_already_dispatched == 0
    assert summary.open_amount == round(sum(i["balanceAmount"] for i in state["invoices"]), 2)
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["as_of"] == as_of.isoformat()
