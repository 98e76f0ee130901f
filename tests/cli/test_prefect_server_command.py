"""``enkash-ar prefect-server``: Prefect's server with its SQLite transactions begun IMMEDIATE.

The tests' own Prefect server is started through the same change (cli/local_prefect.py), so
every end-to-end test runs on it; here, what the change does to one transaction, and the options the
command refuses (in-process)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from prefect.server.database.configurations import SQLITE_BEGIN_MODE, AioSqliteConfiguration
from typer.testing import CliRunner

from cli.main import app
from cli.prefect_server import immediate_sqlite_transactions, start_options_error


class _Session:
    """The one thing begin_transaction asks of a session: ``begin()``."""

    def __init__(self) -> None:
        self.modes: list[str | None] = []

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[None]:
        self.modes.append(SQLITE_BEGIN_MODE.get())
        yield


async def _begin(session: _Session, **options: bool) -> None:
    configuration = AioSqliteConfiguration(connection_url="sqlite+aiosqlite:///:memory:")
    async with configuration.begin_transaction(session, **options):  # type: ignore[arg-type]
        pass


def test_every_transaction_begins_immediate_once_the_change_is_made() -> None:
    immediate_sqlite_transactions()
    immediate_sqlite_transactions()  # twice changes nothing more
    session = _Session()
    asyncio.run(_begin(session))
    asyncio.run(_begin(session, with_for_update=False))
    asyncio.run(_begin(session, with_for_update=True))
    assert session.modes == ["IMMEDIATE", "IMMEDIATE", "IMMEDIATE"]
    assert SQLITE_BEGIN_MODE.get() is None  # and the mode does not leak out of the transaction


@pytest.mark.parametrize("option", ["--background", "-b", "--workers", "--workers=4"])
def test_options_that_start_other_processes_are_refused_in_one_line(option: str) -> None:
    result = CliRunner().invoke(app, ["prefect-server", "--port", "4299", option])
    assert result.exit_code == 1
    assert result.output.startswith(f"error: {option.split('=')[0]} starts the server in other processes")
    assert "PostgreSQL" in result.output


def test_the_other_options_pass_through() -> None:
    assert (
        start_options_error(["--host", "127.0.0.1", "--port", "4200", "--no-ui", "--log-level", "INFO"])
        is None
    )
