"""Run the ``enkash-ar`` command as a user does: a separate process, ENKASH_* pointed at the sandbox,
PREFECT_API_URL at the session's test Prefect server (the ``prefect_server`` fixture)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

from sandbox.routes import WRITE_OPERATIONS

REPO = Path(__file__).resolve().parents[2]


def cli_env(sandbox: Any, storage: Path) -> dict[str, str]:
    """The environment of a user's shell: the sandbox's credentials and the test Prefect server.

    ``storage`` becomes PREFECT_LOCAL_STORAGE_PATH, so persisted results stay inside the test's folder.
    """
    from prefect.settings import PREFECT_API_URL

    return {
        **os.environ,
        **sandbox.enkash_env(),
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_LOCAL_STORAGE_PATH": str(storage),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # A narrow terminal must not change what the user reads; colour codes would split words.
        "COLUMNS": "100",
        "NO_COLOR": "1",
        "TERM": "dumb",
    }


def cycle_args(customers: Path, invoices: Path, out: Path, as_of: date, *extra: str) -> list[str]:
    """``enkash-ar cycle`` arguments for one night, with its ledger beside the output folder."""
    return [
        "cycle",
        "--customers",
        str(customers),
        "--invoices",
        str(invoices),
        "--as-of",
        as_of.isoformat(),
        "--out",
        str(out),
        "--ledger",
        str(out.parent / "ledger.sqlite3"),
        *extra,
    ]


def run_cli(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m cli.main ARGS`` in the project folder; output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The CLI's own error lines (``error: ...``) on stderr."""
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def writes(request_counts: dict[str, int]) -> dict[str, int]:
    """The write operations among the sandbox's request counts (only those that happened)."""
    return {op: n for op, n in request_counts.items() if op in WRITE_OPERATIONS and n}


def free_port() -> int:
    """A loopback port nothing listens on (for a server to start, or for a service that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
