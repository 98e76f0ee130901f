"""Fixtures shared by the whole test suite: one sandbox per session, reset before every test.

- ``sandbox_server``: the session's RunningSandbox (in-memory database, no faults);
- ``sandbox``: the same sandbox, reset (data, tokens, lock-outs, counters, faults) before the test;
- ``sandbox_state``: a function returning ``GET /_sandbox/state`` of that sandbox;
- ``prefect_server``: one temporary Prefect server for the session (``cli.local_prefect``: SQLite
  transactions begun IMMEDIATE, only the services a run needs);
- ``enkash_env``: the ENKASH_* settings pointed at the reset sandbox (shared clients closed after).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import certifi
import pytest
from prefect.context import refresh_global_settings_context

from cli.local_prefect import local_prefect_server
from sandbox.server import RunningSandbox, SandboxConfig, running_sandbox
from tasks.connection import close_all
from tests.loopback import http

# The test server has no internet: its telemetry heartbeat would only log errors.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# A write task retries a transient failure 10 s later in production, long enough for an outage to
# pass; the tests' faults are injected and pass at once, so their retries wait half a second. Read
# when the tasks are defined: here, before any test module imports them (and inherited by the
# processes the tests start).
os.environ.setdefault("ENKASH_TASK_RETRY_DELAY_SECONDS", "0.5")


def _one_certificate_bundle() -> str:
    """A CA file holding one certificate of certifi's bundle, written once per machine.

    Prefect builds a TLS context from its CA file for every API client it creates (one per task run,
    log batch, artifact ...), even for a plain-http API: loading certifi's ~150 certificates each time
    took about half the CPU of a small night's cycle process here. Every Prefect API of the test
    session is plain http on loopback, so no certificate is ever checked; a one-certificate file keeps
    the contexts valid and cheap. The tests' processes inherit it through the environment.
    """
    bundle = Path(certifi.where()).read_text()
    end = "-----END CERTIFICATE-----\n"
    first = bundle[bundle.index("-----BEGIN CERTIFICATE-----") : bundle.index(end) + len(end)]
    path = Path(tempfile.gettempdir()) / "enkash-ar-tests-one-ca.pem"
    if not path.exists() or path.read_text() != first:
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(first)
        partial.replace(path)
    return str(path)


os.environ.setdefault("PREFECT_API_SSL_CERT_FILE", _one_certificate_bundle())
# Prefect read the environment when it was imported (above): read it again.
refresh_global_settings_context()

#: A test that uses one of these needs a Prefect server: it is end to end (``make test`` only).
_E2E_FIXTURES = frozenset({"prefect_server", "enkash_env"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs a Prefect server ``e2e``; tests that start processes say so themselves.

    Then order the run longest first: ``slow`` tests, the other end-to-end tests, then the fast ones
    (stable within each group: a module's tests stay together unless they fall in different groups,
    and the module fixtures of those that do are cheap). On two workers the long tests
    then run side by side from the start and the fast ones fill the gaps at the end, instead of one
    worker finishing a crash test alone while the other idles.
    """
    for item in items:
        if _E2E_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)
    items.sort(
        key=lambda item: (item.get_closest_marker("slow") is None, item.get_closest_marker("e2e") is None)
    )


def read_state(sandbox: RunningSandbox, *, summary: bool = False) -> dict[str, Any]:
    """The sandbox's ``/_sandbox/state`` (``summary`` leaves out the record lists)."""
    response = http.get(f"{sandbox.base_url}/_sandbox/state", params={"summary": str(summary).lower()})
    response.raise_for_status()
    state: dict[str, Any] = response.json()
    return state


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[RunningSandbox]:
    """One sandbox for the whole session, on a free loopback port."""
    with running_sandbox(SandboxConfig()) as running:
        yield running


@pytest.fixture
def sandbox(sandbox_server: RunningSandbox) -> RunningSandbox:
    """The session sandbox, emptied and with faults off."""
    http.post(f"{sandbox_server.base_url}/_sandbox/reset").raise_for_status()
    return sandbox_server


@pytest.fixture
def sandbox_state(sandbox: RunningSandbox) -> Callable[..., dict[str, Any]]:
    """Read the state of the (reset) sandbox: ``sandbox_state()`` or ``sandbox_state(summary=True)``."""
    return lambda summary=False: read_state(sandbox, summary=summary)


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """One temporary Prefect server (with its own database) for the whole session."""
    with local_prefect_server(startup_timeout=120):
        yield


@pytest.fixture
def enkash_env(sandbox: Any, monkeypatch: pytest.MonkeyPatch, prefect_server: None) -> Iterator[Any]:
    """Point the ENKASH_* settings at a freshly reset sandbox; close shared clients afterwards."""
    for name, value in {**sandbox.enkash_env(), "ENKASH_MAX_RETRIES": "6"}.items():
        monkeypatch.setenv(name, value)
    yield sandbox
    close_all()
