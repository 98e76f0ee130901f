"""Fixtures of the sandbox tests: an authenticated httpx client for the reset sandbox, and a backend
of its own (in-memory database, no HTTP) for the backend tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sandbox_helpers import get_token

from sandbox.backend import ArBackend
from sandbox.backend.store import Store
from sandbox.server import RunningSandbox


@pytest.fixture
def api(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    """An httpx client for the reset sandbox, with a valid bearer token."""
    headers = {"Authorization": f"Bearer {get_token(sandbox)}"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture
def backend() -> Iterator[ArBackend]:
    """An empty backend on an in-memory database."""
    ar = ArBackend(Store(":memory:"))
    yield ar
    ar.close()
