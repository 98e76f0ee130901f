"""Fixtures of the report's browser tests: Debian's Chromium, found or installed once per session."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.report.browser import find_or_install_chromium

log = logging.getLogger(__name__)


@pytest.fixture(scope="session")
def say(pytestconfig: pytest.Config) -> Callable[[str], None]:
    """Print a line of the browser set-up in the test log, even under output capture."""
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")

    def line(text: str) -> None:
        log.info(text)
        if reporter is not None:
            reporter.write_line(f"[report browser] {text}")

    return line


@pytest.fixture(scope="session")
def chromium(say: Callable[[str], None]) -> Path:
    """Debian's Chromium: found, or installed with apt-get (root only); else the test is skipped."""
    found = find_or_install_chromium(say)
    if found.path is None:
        say(f"skipping the browser tests: {found.reason}")
        pytest.skip(found.reason)
    return found.path
