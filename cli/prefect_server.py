"""``enkash-ar prefect-server``: Prefect's own server, with its SQLite transactions begun ``IMMEDIATE``.

Prefect's server (3.9) begins its SQLite transactions ``DEFERRED``. A transaction that has read cannot
start writing once another connection has committed: SQLite refuses it at once with "database is
locked" (its busy timeout does not apply), the API answers 503 and Prefect's client sleeps 2 s, 4 s,
8 s ... before it tries again. A night creates each stage's subflow while the server records the
events of the task before it, so a single night meets it a few times (2-8 s lost on a night of 20 s,
BENCHMARKS.md), and a fleet of nights on one server can run out of retries.

Begun ``IMMEDIATE``, the second writer waits for the lock (SQLite's busy timeout) instead, for
milliseconds. Prefect's server already begins its transactions that way where it asks for it
(``with_for_update``); this command asks for it everywhere, then runs ``prefect server start`` with
the same options, in this process. A server on PostgreSQL does not need it.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

#: Options of ``prefect server start`` that start other processes, which would not have the change.
OTHER_PROCESSES = ("--background", "-b", "--workers")


def immediate_sqlite_transactions() -> None:
    """Make every transaction of Prefect's SQLite server configuration begin ``IMMEDIATE`` (once per
    process).

    Raises:
        RuntimeError: this Prefect's server has no such transaction method any more (another version
            than the one this project pins): use ``prefect server start``, or PostgreSQL.
    """
    from prefect.server.database.configurations import AioSqliteConfiguration

    deferred = AioSqliteConfiguration.begin_transaction
    if getattr(deferred, "_enkash_immediate", False):
        return
    if "with_for_update" not in inspect.signature(deferred).parameters:
        import prefect

        raise RuntimeError(
            f"Prefect {prefect.__version__}'s SQLite server has no begin_transaction(with_for_update=): "
            "start it with `prefect server start` (or on PostgreSQL) instead"
        )

    @asynccontextmanager
    async def begin_immediate(self: Any, session: Any, with_for_update: bool = False) -> AsyncIterator[Any]:
        async with deferred(self, session, with_for_update=True) as transaction:
            yield transaction

    begin_immediate._enkash_immediate = True  # type: ignore[attr-defined]
    AioSqliteConfiguration.begin_transaction = begin_immediate  # type: ignore[method-assign]


def start_options_error(options: Sequence[str]) -> str | None:
    """Why ``options`` cannot be passed on to ``prefect server start`` here, or None.

    Example:
        >>> start_options_error(["--port", "4200"]) is None
        True
    """
    for option in options:
        name = option.split("=", 1)[0]
        if name in OTHER_PROCESSES:
            return (
                f"{name} starts the server in other processes, which would begin their SQLite "
                "transactions DEFERRED again: run one server in the foreground (a service manager "
                "keeps it running), or use `prefect server start` on PostgreSQL"
            )
    return None


def serve(options: Sequence[str]) -> Any:
    """Run ``prefect server start <options>`` in this process, transactions begun ``IMMEDIATE``."""
    immediate_sqlite_transactions()
    from prefect.cli import app as prefect_cli

    # Prefect's CLI reads its arguments from sys.argv.
    sys.argv = ["prefect", "server", "start", *options]
    return prefect_cli()
