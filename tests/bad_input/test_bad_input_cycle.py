"""Bad ERP input through the real product path: ``enkash-ar cycle`` run as a user runs it.

Each broken export must end the cycle with exit status 1 and one line that names the file (and the
row or column where it helps) and says what to do; no Python traceback on the terminal; nothing sent
to EnKash. A few bad rows are not a failure: they go to rejected_rows.csv and the rest is loaded.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.client.schemas.sorting import FlowRunSort

from ar_sync.erp_input import load_customers, load_invoices
from sandbox.sample_data import generate_erp_files, sample_customers, sample_invoices, write_frame
from tests.bad_input.broken_exports import BROKEN, Broken, _with_headers
from tests.cli.cli_helpers import cli_env, cycle_args, error_lines, run_cli, writes

#: Starts processes (the enkash-ar command) against a Prefect server: end to end.
pytestmark = pytest.mark.e2e

AS_OF = date(2026, 11, 24)


@pytest.fixture
def erp_files(tmp_path: Path) -> tuple[Path, Path]:
    """A small, good ERP export (with the usual few bad rows): 30 customers, 200 invoices."""
    return generate_erp_files(tmp_path / "erp", customers=30, invoices=200, seed=11, as_of=AS_OF)


@pytest.fixture
def env(sandbox: Any, prefect_server: None, tmp_path: Path) -> dict[str, str]:
    """A user's shell: ENKASH_* at the reset sandbox, PREFECT_API_URL at the test server."""
    return cli_env(sandbox, tmp_path / "prefect-storage")


def _cycle(customers: Path, invoices: Path, out: Path, env: dict[str, str], *extra: str) -> Any:
    return run_cli(*cycle_args(customers, invoices, out, AS_OF, *extra), env=env)


def _assert_clean_failure(
    result: subprocess.CompletedProcess[str], path: Path, fragments: tuple[str, ...]
) -> str:
    """Exit 1, one ``error:`` line naming the file and saying what to do, and no traceback anywhere."""
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("error: the cycle failed: "), line
    assert str(path) in line
    for fragment in fragments:
        assert fragment in line
    # The domain message itself, not the repr of an exception.
    assert "Error(" not in line and "Error:" not in line
    assert "EnKash AR cycle as of" not in result.stdout  # no summary of a cycle that did not run
    return line


def _assert_nothing_sent(state: dict[str, Any]) -> None:
    assert writes(state["request_counts"]) == {}
    assert state["customers_count"] == state["invoices_count"] == state["reminders_count"] == 0


def _last_flow_run_logs() -> list[str]:
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=1)
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[runs[0].id])))
    return [log.message for log in logs]


#: Every broken file's message is checked fast in test_broken_files.py; through the real command, one
#: broken CSV and one broken workbook show the wiring (one line, no traceback, nothing sent).
THROUGH_THE_COMMAND = [b for b in BROKEN if b.name in ("latin1.csv", "garbage.xlsx")]


@pytest.mark.parametrize("broken", THROUGH_THE_COMMAND, ids=[b.name for b in THROUGH_THE_COMMAND])
def test_a_broken_export_fails_with_one_clear_line_and_sends_nothing(
    broken: Broken,
    env: dict[str, str],
    sandbox_state: Any,
    erp_files: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    customers, invoices = erp_files
    good = customers if broken.entity == "customers" else invoices
    bad = tmp_path / "broken" / broken.name
    bad.parent.mkdir()
    bad.write_bytes(broken.make(good.read_text(encoding="utf-8")))
    if broken.entity == "customers":
        customers = bad
    else:
        invoices = bad

    result = _cycle(customers, invoices, tmp_path / "out", env)

    _assert_clean_failure(result, bad, broken.fragments)
    _assert_nothing_sent(sandbox_state(summary=True))
    # The console is spared the traceback; the run's logs on the Prefect server keep it.
    assert any("Traceback" in message for message in _last_flow_run_logs())


def test_normalised_and_mapped_headers_load_and_a_few_bad_rows_are_reported(
    env: dict[str, str], sandbox_state: Any, erp_files: tuple[Path, Path], tmp_path: Path
) -> None:
    customers, invoices = erp_files
    expected_customers = load_customers(customers)
    expected_invoices = load_invoices(invoices, known_customer_refs=expected_customers.valid["customer_ref"])
    # Another ERP's headers: one needs the mapping option, the others only normalisation.
    customers.write_text(_with_headers(customers.read_text(), {"customer_ref": "Cust Code"}))
    invoices.write_text(
        _with_headers(
            invoices.read_text(),
            {"invoice_number": "Invoice Number", "customer_ref": "CUSTOMER-REF", "due_date": "Due  Date"},
        )
    )
    out = tmp_path / "out"

    result = _cycle(customers, invoices, out, env, "--customer-column", "Cust Code=customer_ref")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "EnKash AR cycle as of 2026-11-24" in result.stdout
    state = sandbox_state(summary=True)
    assert state["customers_count"] == expected_customers.valid.height
    assert state["invoices_count"] == expected_invoices.valid.height
    rejected = pl.read_csv(out / "rejected_rows.csv")
    assert (
        rejected.select(pl.struct("entity", "row").n_unique()).item()
        == (expected_customers.rejected_rows + expected_invoices.rejected_rows)
        > 0
    )
    assert set(rejected["file"]) == {str(customers), str(invoices)}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["invoices_rejected"] == expected_invoices.rejected_rows
    assert summary["invoices_uploaded"] == expected_invoices.valid.height


@pytest.mark.slow
def test_a_million_invoices_with_30_percent_bad_rows_fail_on_the_threshold_before_anything_is_sent(
    env: dict[str, str], sandbox_state: Any, tmp_path: Path
) -> None:
    rows, bad_every = 1_000_000, 10  # rows i % 10 in {0, 1, 2} are bad: 30 %
    customer_frame = sample_customers(500, seed=5, bad_rows=False)
    invoice_frame = sample_invoices(customer_frame, rows, as_of=AS_OF, seed=5, bad_rows=False)
    invoice_frame = invoice_frame.with_columns(
        base_amount=pl.when(pl.int_range(pl.len()) % bad_every < 3)
        .then(pl.lit("12,50,00x"))  # a typo an ERP user makes: not a number
        .otherwise(pl.col("base_amount").cast(pl.String))
    )
    customers = write_frame(customer_frame, tmp_path / "erp" / "customers.csv", "csv")
    invoices = write_frame(invoice_frame, tmp_path / "erp" / "invoices.csv", "csv")
    del invoice_frame
    out = tmp_path / "out"

    result = _cycle(customers, invoices, out, env)

    line = _assert_clean_failure(
        result, invoices, ("300000 of 1000000 invoices rows", "above the 20% threshold", "nothing was sent")
    )
    assert str(out / "rejected_rows.csv") in line
    _assert_nothing_sent(sandbox_state(summary=True))
    rejected = pl.read_csv(out / "rejected_rows.csv", schema_overrides={"value": pl.String})
    assert rejected["row"].n_unique() == 300_000
    assert set(rejected["column"]) == {"base_amount"}
    assert rejected["row"].min() == 2  # the first data row, as a spreadsheet numbers it
    shutil.rmtree(tmp_path / "prefect-storage", ignore_errors=True)  # the cached inputs: ~200 MB
