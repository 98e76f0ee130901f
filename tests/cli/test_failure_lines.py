"""Which failures the command tells in one line without a traceback, and the lines for Prefect's own
(the real command meets them in test_cli_failures.py)."""

from __future__ import annotations

import errno

import httpx
import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings

from ar_sync.local_files import LocalFileError
from ar_sync.night_summary import StagesFailedError
from cli.failures import explain, explain_prefect_failure, foreseeable
from cli.local_prefect import NOT_STARTED, LocalServerError
from enkash_ar.errors import ConfigurationError

API = "http://127.0.0.1:4200/api"


def test_an_api_that_does_not_answer_is_named_whichever_way_prefect_says_it() -> None:
    refused = httpx.ConnectError("refused", request=httpx.Request("GET", f"{API}/health"))
    with temporary_settings(updates={PREFECT_API_URL: API}):
        lines = [
            explain_prefect_failure(RuntimeError(f"Failed to reach API at {API}/")),
            explain_prefect_failure(refused),
        ]
        elsewhere = httpx.ConnectError(
            "refused", request=httpx.Request("GET", "https://ekpayout-uat.enkash.in/x")
        )
        assert explain_prefect_failure(elsewhere) is None  # EnKash's own errors say so themselves

    for line in lines:
        assert line is not None and line.startswith(f"The Prefect API at {API} does not answer.")
        assert "prefect server start" in line and "PREFECT_API_URL" in line


def test_a_temporary_server_too_slow_to_start_says_which_setting_to_raise() -> None:
    line = explain_prefect_failure(
        RuntimeError("Timed out while attempting to connect to ephemeral Prefect API server. stdout: ...")
    )

    assert line is not None and line.startswith("The temporary Prefect server did not start within ")
    assert "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS" in line and "stdout" not in line


def test_the_commands_own_local_server_too_slow_to_start_reads_the_same() -> None:
    failed = LocalServerError(
        f"{NOT_STARTED} on http://127.0.0.1:4242/api in 90 s:\nTraceback (most recent ..."
    )

    line = explain_prefect_failure(failed)

    assert line is not None and line.startswith("The temporary Prefect server did not start within ")
    assert "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS" in line and "Traceback" not in line


@pytest.mark.parametrize(
    ("error", "one_line"),
    [
        (LocalFileError("The output folder /x cannot be written"), True),
        (OSError(errno.ENOSPC, "No space left on device", "/srv/out/summary.json"), True),
        (ConfigurationError("ENKASH_PASSWORD is not set"), True),
        (RuntimeError("Failed to reach API at http://127.0.0.1:9/api/"), True),
        (StagesFailedError("dispatch-invoices failed: ServerError: ... Run the night again"), True),
        (KeyError("a bug"), False),
        (None, False),
    ],
)
def test_foreseeable_failures_lose_their_traceback_on_the_console_and_bugs_keep_it(
    error: BaseException | None, one_line: bool
) -> None:
    assert foreseeable(error) is one_line


def test_explain_names_the_ledger_and_output_folder_it_was_given() -> None:
    line = explain(MemoryError("No space left on device"), out_dir="/srv/out", ledger_path="/srv/l.sqlite3")

    assert line is not None and "/srv/out" in line and "/srv/l.sqlite3" in line
