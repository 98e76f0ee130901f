"""The project's own log lines go to the Prefect run that wrote them, not only to a worker's console.

Prefect sends to its API only what its run loggers write (``get_run_logger``, ``prefect.flow_runs``,
``prefect.task_runs``). The SDK (``enkash_ar``), the sync engine (``ar_sync``) and this project's
Prefect-namespaced loggers (``prefect.enkash_ar...``, from ``prefect.logging.get_logger``) use plain
stdlib loggers, so their retries, reconciliations and refusals reached the console and nothing else.

:func:`attach_project_loggers` gives each of them a :class:`RunLogHandler`: Prefect's API handler,
which finds the flow or task run in the current context and keeps the record's level, minus the
warning Prefect prints for a record written outside any run (the CLI's ``doctor`` or ``credentials``
commands, a sandbox thread): such a record is simply not a run's, and still reaches the console.

A line written in a worker thread belongs to its run only if the thread carries the run's context:
the engine's pools do (:class:`enkash_ar.context_threads.ContextThreadPoolExecutor`).
"""

from __future__ import annotations

import logging
from typing import Final

from prefect.context import FlowRunContext, TaskRunContext
from prefect.logging.handlers import APILogHandler

#: The loggers whose records belong in the run's logs (a logger's children are covered by it).
PROJECT_LOGGERS: Final = ("enkash_ar", "ar_sync", "prefect.enkash_ar")


class RunLogHandler(APILogHandler):
    """Prefect's API log handler, silent about records written outside a flow or task run."""

    def emit(self, record: logging.LogRecord) -> None:
        """Send ``record`` to the run it was written in; drop it when it was written outside any run."""
        if getattr(record, "flow_run_id", None) or TaskRunContext.get() or FlowRunContext.get():
            super().emit(record)


def attach_project_loggers(level: int = logging.INFO) -> None:
    """Send the project's log records to the Prefect run they were written in (idempotent).

    A project logger with no level of its own gets ``level``: the root logger's WARNING would
    otherwise drop the INFO lines (retries, reconciliations, a wait for the seller) an operator reads
    a run for, wherever Prefect's own logging set-up has not run yet.
    """
    for name in PROJECT_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(handler, RunLogHandler) for handler in logger.handlers):
            logger.addHandler(RunLogHandler())
        if logger.level == logging.NOTSET:
            logger.setLevel(level)
