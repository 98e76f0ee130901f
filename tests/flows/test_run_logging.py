"""The project's loggers carry Prefect's API handler once, at a level that keeps their INFO lines, and
say nothing about records written outside a run (the records in a real run: test_flow_operations.py)."""

from __future__ import annotations

import logging
import warnings

import flows  # noqa: F401 - importing the flows attaches the handlers, as in a worker's run process
from tasks.run_logging import PROJECT_LOGGERS, RunLogHandler, attach_project_loggers


def test_each_project_logger_has_one_run_handler_and_keeps_info_lines() -> None:
    attach_project_loggers()
    attach_project_loggers()

    for name in PROJECT_LOGGERS:
        logger = logging.getLogger(name)
        assert sum(isinstance(h, RunLogHandler) for h in logger.handlers) == 1, name
        assert logger.isEnabledFor(logging.INFO), name


def test_a_record_outside_any_run_is_not_the_apis_and_raises_no_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        logging.getLogger("enkash_ar").warning("written by `enkash-ar doctor`, outside any flow run")
