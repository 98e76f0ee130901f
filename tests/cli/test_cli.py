"""The ``enkash-ar`` command as a user runs it: a separate process, the sandbox, the test Prefect server."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect.client.orchestration import get_client

from blocks.credentials import EnkashCredentials
from sandbox.sample_data import generate_erp_files
from tests.cli.cli_helpers import REPO, cli_env, cycle_args, error_lines, free_port, run_cli, writes
from tests.loopback import http

#: Starts processes (the enkash-ar command) against a Prefect server: end to end.
pytestmark = pytest.mark.e2e

AS_OF = date(2026, 11, 24)


@pytest.fixture
def erp_files(tmp_path: Path) -> tuple[Path, Path]:
    """A small ERP export with a few bad rows."""
    return generate_erp_files(tmp_path / "erp", customers=20, invoices=120, seed=9, as_of=AS_OF)


@pytest.fixture
def env(sandbox: Any, prefect_server: None, tmp_path: Path) -> dict[str, str]:
    """A user's shell: ENKASH_* at the reset sandbox, PREFECT_API_URL at the test server."""
    return cli_env(sandbox, tmp_path / "prefect-storage")


def _cycle_args(customers: Path, invoices: Path, out: Path, *extra: str) -> list[str]:
    return cycle_args(customers, invoices, out, AS_OF, *extra)


def test_cycle_runs_prints_the_summary_and_writes_the_reports(
    env: dict[str, str], sandbox_state: Any, erp_files: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = run_cli(*_cycle_args(*erp_files, out), env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "EnKash AR cycle as of 2026-11-24" in result.stdout
    assert "invoices_uploaded" in result.stdout and "Open receivables by days" in result.stdout
    assert f"Reports written to {out}/" in result.stdout
    summary = json.loads((out / "summary.json").read_text())
    for name in ("bulk_results.parquet", "rejected_rows.csv"):
        assert (out / name).is_file()
    state = sandbox_state(summary=True)
    assert state["invoices_count"] == summary["invoices_uploaded"] > 0
    assert f"{summary['invoices_uploaded']}" in result.stdout


def test_dry_run_sends_nothing_and_says_what_it_would_send(
    env: dict[str, str], sandbox_state: Any, erp_files: tuple[Path, Path], tmp_path: Path
) -> None:
    result = run_cli(*_cycle_args(*erp_files, tmp_path / "out", "--dry-run"), env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "dry run" in result.stdout and "nothing was sent" in result.stdout
    state = sandbox_state(summary=True)
    assert writes(state["request_counts"]) == {}
    assert state["customers_count"] == state["invoices_count"] == 0


def test_a_failing_cycle_exits_1_with_one_clear_line(
    env: dict[str, str], sandbox_state: Any, erp_files: tuple[Path, Path], tmp_path: Path
) -> None:
    wrong = "not-the-password-1234"
    result = run_cli(*_cycle_args(*erp_files, tmp_path / "out"), env={**env, "ENKASH_PASSWORD": wrong})

    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert wrong not in output
    [line] = error_lines(result)
    assert line.startswith("error: the cycle failed: getAuthenticationToken failed (HTTP ")
    assert "ENKASH_PASSWORD" in line and "not retried" in line
    assert sandbox_state(summary=True)["request_counts"] == {"getAuthenticationToken": 1}


def test_sandbox_serve_prints_its_url_and_credentials_and_answers(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli.main",
            "sandbox",
            "serve",
            "--port",
            str(port),
            "--password",
            "pw-cli-test",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(5)]
        assert lines[0].strip() == f"EnKash AR sandbox on http://127.0.0.1:{port}"
        text = "".join(lines)
        assert "POST /oauth/token" in text and "pw-cli-test" in text and "CEK" in text
        deadline = time.monotonic() + 20
        while True:
            try:
                health = http.get(f"http://127.0.0.1:{port}/_sandbox/health", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the sandbox never answered"
                time.sleep(0.1)
        assert health.json() == {"status": "ok"}
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_blocks_register_registers_the_block_type(prefect_server: None, sandbox: Any, tmp_path: Path) -> None:
    result = run_cli("blocks", "register", env=cli_env(sandbox, tmp_path / "storage"), timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Registered block type 'enkash-credentials'" in result.stdout
    with get_client(sync_client=True) as client:
        block_type = client.read_block_type_by_slug("enkash-credentials")
        schema = client.read_block_schema_by_checksum(EnkashCredentials._calculate_schema_checksum())
    assert block_type.name == "EnKash Credentials"
    assert schema.block_type_id == block_type.id


@pytest.mark.slow
def test_demo_runs_end_to_end_and_prints_the_summary(sandbox: Any, tmp_path: Path) -> None:
    # A newcomer's shell: no EnKash settings and no Prefect server (the demo starts its own, on
    # Prefect's local database under PREFECT_HOME).
    env = {
        k: v
        for k, v in cli_env(sandbox, tmp_path / "storage").items()
        if not k.startswith("ENKASH_") and k not in ("PREFECT_API_URL", "PREFECT_HOME")
    }
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    out = tmp_path / "demo"

    result = run_cli("demo", "--customers", "20", "--invoices", "100", "--out", str(out), env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "Local Prefect server at http://127.0.0.1:" in result.stdout
    assert (tmp_path / "prefect-home" / "prefect.db").is_file()
    assert "Embedded EnKash sandbox at http://127.0.0.1:" in result.stdout
    assert "EnKash AR cycle as of" in result.stdout and "invoices_uploaded" in result.stdout
    summary = json.loads((out / "summary.json").read_text())
    # summary.json is the second night's: everything was sent the night before.
    assert summary["invoices_already_present"] > 0 and summary["customers_already_present"] > 0
    assert summary["invoices_uploaded"] == 0 and summary["customers_created"] == 0
    assert (out / "erp" / "invoices.csv").is_file() and (out / "bulk_results.parquet").is_file()
    # The second night exports what customers paid after the first: the ERP's payments file.
    assert "Collections of" in result.stdout and "over Bharat Connect" in result.stdout
    assert summary["collections"]["invoices_paid"] > 0 and summary["collections"]["received"] > 0
    payments = (out / "payments.csv").read_text().splitlines()
    assert len(payments) == summary["collections"]["invoices_paid"] + 1
