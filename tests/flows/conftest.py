"""Fixtures for flow tests: a real Prefect server (prefect_test_harness) and the sandbox in ENKASH_*."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from prefect.testing.utilities import prefect_test_harness

from enkash_ar.sample_data import generate_erp_files
from tasks.connection import close_all

AS_OF = date(2026, 11, 24)
# The test server has no internet: its telemetry heartbeat would only log errors.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """One temporary Prefect server (with its own database) for the whole session."""
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def enkash_env(sandbox: Any, monkeypatch: pytest.MonkeyPatch, prefect_server: None) -> Iterator[Any]:
    """Point the ENKASH_* settings at a freshly reset sandbox; close shared clients afterwards."""
    config = sandbox.config
    for name, value in {
        "ENKASH_BASE_URL": sandbox.base_url,
        "ENKASH_CLIENT_ID": config.client_id,
        "ENKASH_CLIENT_SECRET": config.client_secret,
        "ENKASH_USERNAME": config.username,
        "ENKASH_PASSWORD": config.password,
        "ENKASH_SELLER_ID": config.seller_id,
        "ENKASH_MAX_RETRIES": "6",
    }.items():
        monkeypatch.setenv(name, value)
    yield sandbox
    close_all()


@pytest.fixture
def erp_files(tmp_path: Path) -> tuple[Path, Path]:
    """A small, realistic ERP export with a few bad rows."""
    return generate_erp_files(tmp_path / "erp", customers=30, invoices=200, seed=11, as_of=AS_OF)


@pytest.fixture
def as_of() -> date:
    """The run date of every flow test (aging is counted from it)."""
    return AS_OF
