"""The nightly cycle end to end: a real Prefect server, the sandbox over real HTTP, real files."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import flows.nightly_ar_cycle as cycle_module
import tasks.inputs as inputs_module
from ar_sync.erp_input import load_customers, load_invoices
from ar_sync.night_summary import NightSummary
from flows.nightly_ar_cycle import nightly_ar_cycle
from flows.options import CycleOptions
from sandbox.routes import WRITE_OPERATIONS
from tests.loopback import http

SUMMARY_KEYS = {
    "customers_created",
    "customers_updated",
    "customers_rejected",
    "invoices_uploaded",
    "invoices_failed",
    "invoices_rejected",
    "invoices_updated",
    "invoices_dispatched",
    "reminders_set",
    "open_amount",
    "aging",
}


def _options(tmp_path: Path, **changes: Any) -> CycleOptions:
    return CycleOptions(
        out_dir=str(tmp_path / "out"), ledger_path=str(tmp_path / "ledger.sqlite3"), chunk_size=64, **changes
    )


def _run(customers: Path, invoices: Path, options: CycleOptions, as_of: date) -> NightSummary:
    return asyncio.run(nightly_ar_cycle(str(customers), str(invoices), as_of, options))


def _writes(counts: dict[str, int]) -> dict[str, int]:
    return {op: counts.get(op, 0) for op in WRITE_OPERATIONS}


def test_full_cycle_makes_enkash_match_the_erp_then_a_rerun_writes_nothing(
    enkash_env: Any,
    sandbox_state: Any,
    as_of: date,
    erp_files: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    customers_file, invoices_file = erp_files
    expected_customers = load_customers(customers_file)
    expected_invoices = load_invoices(
        invoices_file, known_customer_refs=expected_customers.valid.get_column("customer_ref")
    )
    options = _options(tmp_path)
    # What the process still holds of the export when the reminders begin (nothing after the payments).
    held_at_reminders: list[dict[str, Any]] = []
    setup_reminders = cycle_module.setup_reminders

    async def watched(*args: Any, **kwargs: Any) -> Any:
        held_at_reminders.append(dict(inputs_module._memo))
        return await setup_reminders(*args, **kwargs)

    monkeypatch.setattr(cycle_module, "setup_reminders", watched)

    summary = _run(customers_file, invoices_file, options, as_of)

    assert held_at_reminders == [{}]

    assert set(summary.model_dump()) >= SUMMARY_KEYS
    assert summary.customers_created == expected_customers.valid.height
    assert summary.customers_rejected == expected_customers.rejected_rows > 0
    assert summary.invoices_uploaded == expected_invoices.valid.height
    assert summary.invoices_rejected == expected_invoices.rejected_rows > 0
    assert summary.invoices_failed == 0
    assert summary.invoices_dispatched == expected_invoices.valid.height
    assert summary.reminders_set == expected_customers.valid.height
    state = sandbox_state()
    per_number = Counter(invoice["externalId"] for invoice in state["invoices"])
    assert set(per_number) == set(expected_invoices.valid.get_column("invoice_number").to_list())
    assert set(per_number.values()) == {1}
    assert {invoice["dispatch_count"] for invoice in state["invoices"]} == {1}
    per_ref = Counter(customer["uniqueRefNo"] for customer in state["customers"])
    assert set(per_ref) == set(expected_customers.valid.get_column("customer_ref").to_list())
    assert set(per_ref.values()) == {1}
    assert len(state["reminders"]) == 3 * expected_customers.valid.height
    open_total = sum(i["balanceAmount"] for i in state["invoices"])
    assert summary.open_amount == pytest.approx(open_total, abs=0.01)
    assert sum(summary.aging.values()) == pytest.approx(open_total, abs=0.05)

    out = Path(options.out_dir)
    assert json.loads((out / "summary.json").read_text())["invoices_uploaded"] == summary.invoices_uploaded
    bulk = pl.read_parquet(out / "bulk_results.parquet")
    assert bulk.filter(pl.col("stage") == "invoices_upload").height == expected_invoices.valid.height
    rejected = pl.read_csv(out / "rejected_rows.csv")
    assert {"entity", "file", "row", "column", "reason", "value"} <= set(rejected.columns)
    assert rejected.select(pl.struct("entity", "row").n_unique()).item() == (
        expected_customers.rejected_rows + expected_invoices.rejected_rows
    )

    before = _writes(state["request_counts"])
    # The same night again (a rerun): nothing is sent, and the night still reports what it did.
    again = _run(customers_file, invoices_file, options, as_of)

    assert _writes(sandbox_state()["request_counts"]) == before
    # The same night again tells the same night; its payments file is rewritten from the ledger.
    first, rerun = summary.model_dump(exclude={"top_overdue"}), again.model_dump(exclude={"top_overdue"})
    assert (first["collections"].pop("export_state"), rerun["collections"].pop("export_state")) == (
        "exported",
        "rewritten",
    )
    assert rerun == first
    # The next night on the same files: nothing is sent, everything is found already in EnKash.
    next_night = _run(customers_file, invoices_file, options, as_of + timedelta(days=1))

    assert _writes(sandbox_state()["request_counts"]) == before
    assert next_night.customers_created == next_night.invoices_uploaded == next_night.invoices_dispatched == 0
    assert next_night.reminders_set == 0
    assert next_night.customers_already_present == summary.customers_created
    assert next_night.invoices_already_present == summary.invoices_uploaded
    assert next_night.invoices_already_dispatched == summary.invoices_dispatched
    assert next_night.reminders_already_on_schedule == summary.reminders_set
    assert next_night.open_amount == summary.open_amount


def test_changed_rows_flow_through_as_updates(
    enkash_env: Any, sandbox_state: Any, as_of: date, erp_files: tuple[Path, Path], tmp_path: Path
) -> None:
    customers_file, invoices_file = erp_files
    options = _options(tmp_path)
    _run(customers_file, invoices_file, options, as_of)

    customers = pl.read_csv(customers_file, infer_schema=False)
    valid_refs = load_customers(customers_file).valid.get_column("customer_ref").to_list()
    ref = valid_refs[0]
    customers = customers.with_columns(
        pl.when(pl.col("customer_ref") == ref)
        .then(pl.lit("Changed Name Pvt Ltd"))
        .otherwise("legal_name")
        .alias("legal_name")
    )
    customers.write_csv(customers_file)
    valid_numbers = (
        load_invoices(invoices_file, known_customer_refs=valid_refs)
        .valid.get_column("invoice_number")
        .to_list()
    )
    number = valid_numbers[0]
    invoices = pl.read_csv(invoices_file, infer_schema=False).with_columns(
        pl.when(pl.col("invoice_number") == number)
        .then(pl.lit("2027-01-31"))
        .otherwise("due_date")
        .alias("due_date")
    )
    invoices.write_csv(invoices_file)

    summary = _run(customers_file, invoices_file, options, as_of + timedelta(days=1))

    assert summary.customers_updated == 1
    assert summary.invoices_updated == 1
    assert summary.customers_created == summary.invoices_uploaded == summary.invoices_dispatched == 0
    state = sandbox_state()
    assert state["request_counts"].get("updateInvoice") == 1
    # The patched invoice (dispatched the night before) is taken from EnKash's answer, not read again.
    assert state["request_counts"].get("getInvoice", 0) == 0
    assert {c["legalName"] for c in state["customers"] if c["uniqueRefNo"] == ref} == {"Changed Name Pvt Ltd"}


def test_dry_run_reports_the_plan_and_sends_nothing(
    enkash_env: Any, sandbox_state: Any, as_of: date, erp_files: tuple[Path, Path], tmp_path: Path
) -> None:
    customers_file, invoices_file = erp_files
    summary = _run(customers_file, invoices_file, _options(tmp_path, dry_run=True), as_of)

    state = sandbox_state()
    assert set(_writes(state["request_counts"]).values()) == {0}
    assert state["customers_count"] == state["invoices_count"] == 0
    assert summary.dry_run is True
    expected = load_customers(customers_file).valid.height
    assert summary.planned["customers_create"] == expected


def test_too_many_rejected_rows_fail_the_run_before_anything_is_sent(
    enkash_env: Any, sandbox_state: Any, as_of: date, erp_files: tuple[Path, Path], tmp_path: Path
) -> None:
    customers_file, invoices_file = erp_files
    with pytest.raises(Exception, match="threshold"):
        _run(customers_file, invoices_file, _options(tmp_path, rejection_threshold=0.0), as_of)

    state = sandbox_state()
    assert set(_writes(state["request_counts"]).values()) == {0}
    assert (tmp_path / "out" / "rejected_rows.csv").exists()


def test_an_enkash_that_refuses_the_dispatch_filters_still_gets_each_invoice_dispatched_once(
    enkash_env: Any,
    sandbox_state: Any,
    as_of: date,
    erp_files: tuple[Path, Path],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # An EnKash whose invoice search does not know the dispatch filters nor customerIds (a 400 for each
    # search naming one): dispatch reads every invoice before it sends, instead of the undispatched
    # ones. And every dispatch answer is lost on the way back (EnKash dispatched): what the retries find
    # dispatched is looked up among every invoice of the seller, and not sent again.
    faults = {
        "refused_filters": ["dispatched", "dispatchedOnFrom", "customerIds"],
        "drop": 1.0,
        "operations": ["dispatchInvoiceCollection"],
    }
    http.post(f"{enkash_env.base_url}/_sandbox/faults", json=faults).raise_for_status()
    customers_file, invoices_file = erp_files
    # One dispatch batch: its answer lost, its retry finds it dispatched (a look-up per lost batch).
    options = _options(tmp_path).model_copy(update={"chunk_size": 500})

    with caplog.at_level(logging.WARNING):
        summary = _run(customers_file, invoices_file, options, as_of)

    assert "reading every invoice before dispatching instead" in caplog.text
    assert "looking among every invoice of the seller instead" in caplog.text
    state = sandbox_state()
    assert summary.invoices_dispatched == summary.invoices_uploaded == len(state["invoices"]) > 0
    assert {invoice["dispatch_count"] for invoice in state["invoices"]} == {1}
    assert state["request_counts"]["dispatchInvoiceCollection"] == 1
