"""Fixtures of the contract tests: one sandbox per contract profile for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.profile_helpers import ProfileSandboxes, sandboxes


@pytest.fixture(scope="session")
def profile_sandbox() -> Iterator[ProfileSandboxes]:
    """``profile_sandbox(name)``: the (reset) sandbox playing the contract profile ``name``."""
    yield from sandboxes()
