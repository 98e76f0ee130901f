"""Foreseeable failures around the cycle, through the real ``enkash-ar cycle`` command: an output folder
or ledger that cannot be written, a disk that fills up during the night, a Prefect API that does not
answer, a temporary Prefect server too slow to start. Each ends with exit status 1 and one line that
names the file or service and says what to do, and no Python traceback on the terminal; where a flow
run started, its logs on the Prefect server keep the traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowFilter, FlowFilterName, LogFilter, LogFilterFlowRunId
from prefect.client.schemas.sorting import FlowRunSort

from sandbox.sample_data import generate_erp_files
from tests.cli.cli_helpers import REPO, cli_env, cycle_args, error_lines, free_port, run_cli, writes
from tests.read_only import read_only_folder

#: Starts processes (the enkash-ar command): end to end.
pytestmark = pytest.mark.e2e

AS_OF = date(2026, 11, 24)


@pytest.fixture
def cycle_of_a_tiny_export(tmp_path: Path) -> Callable[[Path], list[str]]:
    """``enkash-ar cycle`` arguments over a tiny ERP export (5 customers, 12 invoices), for an out folder."""
    customers, invoices = generate_erp_files(tmp_path / "erp", customers=5, invoices=12, seed=3, as_of=AS_OF)
    return lambda out: cycle_args(customers, invoices, out, AS_OF)


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A folder this process cannot write in."""
    with read_only_folder(tmp_path / "read-only") as folder:
        yield folder


def _one_clean_line(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    [line] = error_lines(result)
    assert line.startswith("error: the cycle failed: "), line
    for fragment in fragments:
        assert fragment in line, line
    return line


def _last_nightly_run_logs() -> list[str]:
    with get_client(sync_client=True) as client:
        [run] = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["nightly-ar-cycle"])),
            sort=FlowRunSort.START_TIME_DESC,
            limit=1,
        )
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
    return [log.message for log in logs]


@pytest.mark.parametrize("place", ["out", "ledger"])
def test_an_unwritable_output_folder_or_ledger_fails_first_in_one_line(
    place: str,
    read_only: Path,
    prefect_server: None,
    sandbox: Any,
    sandbox_state: Any,
    cycle_of_a_tiny_export: Callable[[Path], list[str]],
    tmp_path: Path,
) -> None:
    out, ledger = tmp_path / "out", tmp_path / "ledger.sqlite3"
    if place == "out":
        out = read_only
    else:
        ledger = read_only / "ledger.sqlite3"
    args = cycle_of_a_tiny_export(out)
    args[args.index("--ledger") + 1] = str(ledger)

    result = run_cli(*args, env=cli_env(sandbox, tmp_path / "storage"))

    if place == "out":
        _one_clean_line(result, f"The output folder {out} cannot be written", "--out")
    else:
        _one_clean_line(result, f"The run ledger {ledger}: its folder {read_only}", "--ledger")
    # Checked before anything was sent; the run's logs in Prefect keep the traceback.
    assert writes(sandbox_state(summary=True)["request_counts"]) == {}
    assert any("Traceback" in message and "LocalFileError" in message for message in _last_nightly_run_logs())


def _private_mount_prefix() -> list[str]:
    """``unshare`` arguments that give the command a mount namespace of its own, or skip the test."""
    if not shutil.which("unshare"):
        pytest.skip("unshare is not installed: no private tmpfs to fill up")
    prefix = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-m", "--map-root-user"]
    if subprocess.run([*prefix, "true"], capture_output=True, check=False).returncode != 0:
        pytest.skip("mount namespaces are not allowed here: no private tmpfs to fill up")
    return prefix


def test_a_disk_that_fills_up_during_the_night_ends_in_one_line(
    prefect_server: None, sandbox: Any, cycle_of_a_tiny_export: Callable[[Path], list[str]], tmp_path: Path
) -> None:
    prefix = _private_mount_prefix()
    out = tmp_path / "small-disk"
    out.mkdir()
    # The output folder is a 8 KiB tmpfs, in the command's own mount namespace: enough for the
    # write check and rejected_rows.csv, not for the night's result files.
    command = [
        *prefix,
        "sh",
        "-c",
        'mount -t tmpfs -o size=8k tmpfs "$0" && exec "$@"',
        str(out),
        sys.executable,
        "-m",
        "cli.main",
        *cycle_of_a_tiny_export(out),
    ]
    env = cli_env(sandbox, tmp_path / "storage")

    result = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )

    _one_clean_line(result, "The disk is full", str(out), "Free space, then run the night again")


def test_a_prefect_api_that_does_not_answer_is_named_in_one_line(
    sandbox: Any, cycle_of_a_tiny_export: Callable[[Path], list[str]], tmp_path: Path
) -> None:
    api = f"http://127.0.0.1:{free_port()}/api"
    env = {**cli_env(sandbox, tmp_path / "storage"), "PREFECT_API_URL": api}

    result = run_cli(*cycle_of_a_tiny_export(tmp_path / "out"), env=env, timeout=120)

    _one_clean_line(result, f"The Prefect API at {api} does not answer", "prefect server start")


def test_a_temporary_prefect_server_too_slow_to_start_is_named_in_one_line(
    sandbox: Any, cycle_of_a_tiny_export: Callable[[Path], list[str]], tmp_path: Path
) -> None:
    env = {
        k: v
        for k, v in cli_env(sandbox, tmp_path / "storage").items()
        if k not in ("PREFECT_API_URL", "PREFECT_HOME")
    }
    # No wait at all: the server cannot be up in time, on any machine.
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="0"
    )

    result = run_cli(*cycle_of_a_tiny_export(tmp_path / "out"), env=env, timeout=120)

    _one_clean_line(
        result, "The temporary Prefect server did not start within 0 s", "PREFECT_SERVER_EPHEMERAL_STARTUP"
    )


def test_a_task_retry_delay_that_is_not_seconds_stops_the_command_in_one_line(
    cycle_of_a_tiny_export: Callable[[Path], list[str]], tmp_path: Path
) -> None:
    env = {**os.environ, "ENKASH_TASK_RETRY_DELAY_SECONDS": "ten"}

    result = run_cli(*cycle_of_a_tiny_export(tmp_path / "out"), env=env)

    output = result.stdout + result.stderr
    assert result.returncode == 1 and "Traceback" not in output, output
    assert error_lines(result) == [
        "error: ENKASH_TASK_RETRY_DELAY_SECONDS='ten' is not a number of seconds from 0 to 3600; unset it "
        "for the default of 10 s."
    ]
    assert not (tmp_path / "out").exists()
