"""A Prefect server for the flow runs of one process when none is configured: ``enkash-ar demo``, and
the tests' session.

Without ``PREFECT_API_URL``, Prefect starts a temporary ``prefect server start`` of its own. That server
begins its SQLite transactions ``DEFERRED``: a transaction that has read cannot start writing once
another connection has committed, SQLite refuses it at once with "database is locked" (the busy timeout
does not apply), the API answers 503 and Prefect's client sleeps 2 s before it tries again. A night
creates each stage's subflow while the server records the events of the task before it, so most stages
met it: the demo's two nights spent about 20 s of their 30 s in those sleeps.

The server here is Prefect's own API app, in a process of its own on a free loopback port and a
temporary SQLite database, with two changes:

- every transaction begins ``IMMEDIATE`` (``cli.prefect_server``, as ``enkash-ar prefect-server`` runs
  a production server on SQLite): the second writer waits for the lock, for milliseconds;
- of the server's services only those a run needs are on: the task-run recorder (it makes the task
  runs and states out of the clients' events), not the event persister, event logger or automations.
  There is no UI: the server and its database go when the process is done.
"""

from __future__ import annotations

import inspect
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx

#: The folder that holds the ``cli`` package (the server process imports :func:`create_app` from it).
PROJECT_ROOT = Path(__file__).resolve().parents[1]
#: The server's environment beyond the caller's: no UI, an ephemeral server's services, and of those
#: only the task-run recorder (what ``prefect_test_harness`` runs, less the event services; the
#: triggers setting also stops the actions of automations).
SERVER_ENVIRONMENT = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_EVENT_LOGGER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
}


class LocalServerError(RuntimeError):
    """The local Prefect server did not answer in time (the message quotes the end of its log)."""


#: How :class:`LocalServerError`'s message begins.
NOT_STARTED = "the local Prefect server did not answer"


def create_app() -> Any:
    """The uvicorn factory of the server process: Prefect's API app, its transactions begun IMMEDIATE."""
    from prefect.server.api.server import create_app as prefect_app

    from cli.prefect_server import immediate_sqlite_transactions

    immediate_sqlite_transactions()
    return prefect_app()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(folder: Path, timeout: float, database_url: str | None) -> tuple[subprocess.Popen[bytes], str]:
    """Start the server on a free port and wait until it answers; its output goes to ``folder``."""
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    environment = {
        **os.environ,
        **SERVER_ENVIRONMENT,
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": database_url
        or f"sqlite+aiosqlite:///{folder / 'prefect.db'}",
    }
    environment.pop("PREFECT_API_URL", None)
    log = folder / "server.log"
    with log.open("ab") as sink:
        process = subprocess.Popen(  # noqa: S603 - this interpreter, uvicorn and this module's factory
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(PROJECT_ROOT),
                "--factory",
                f"{__name__}:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "error",
                "--lifespan",
                "on",
            ],
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + timeout
    with httpx.Client() as http:
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if http.get(f"{api_url}/health", timeout=2).status_code == 200:
                    return process, api_url
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    _stop(process)
    tail = log.read_text(errors="replace")[-3000:]
    raise LocalServerError(f"{NOT_STARTED} on {api_url} in {timeout:.0f} s:\n{tail}")


def _drain_workers() -> None:
    """Send what this process's Prefect log and event workers still hold, while the server still answers
    (otherwise they retry a stopped server for a minute at exit)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.utilities.asyncutils import run_coro_as_sync

    async def drain() -> None:
        with suppress(RuntimeError):  # a worker that never started
            if inspect.isawaitable(logs := APILogWorker.instance().drain()):
                await logs
        if inspect.isawaitable(events := EventsWorker.drain_all()):
            await events

    run_coro_as_sync(drain())


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def local_prefect_server(startup_timeout: float = 120.0, database_url: str | None = None) -> Iterator[str]:
    """Run a temporary Prefect server and point this process's Prefect settings at it; yields its API URL.

    ``database_url`` is the server's database (``PREFECT_SERVER_DATABASE_CONNECTION_URL``), such as the
    local one Prefect's own temporary server keeps its runs in; by default a temporary SQLite file, gone
    with the server. The URL is also set in the environment (``PREFECT_API_URL``), so processes started
    meanwhile find the same server. Tried twice: the free port can be taken between choosing it and
    binding it.

    Raises:
        LocalServerError: the server did not answer within ``startup_timeout``.
    """
    from prefect.context import refresh_global_settings_context

    folder = Path(tempfile.mkdtemp(prefix="enkash-ar-prefect-"))
    try:
        try:
            process, api_url = _start(folder, startup_timeout, database_url)
        except LocalServerError:
            process, api_url = _start(folder, startup_timeout, database_url)
        before = os.environ.get("PREFECT_API_URL")
        os.environ["PREFECT_API_URL"] = api_url
        refresh_global_settings_context()
        try:
            yield api_url
        finally:
            _drain_workers()
            if before is None:
                os.environ.pop("PREFECT_API_URL", None)
            else:
                os.environ["PREFECT_API_URL"] = before
            refresh_global_settings_context()
            _stop(process)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
