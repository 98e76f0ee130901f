"""Prefect flows: the nightly AR cycle and its stages.

Flow modules do not use ``from __future__ import annotations``: Prefect builds each flow's parameter
schema from its annotations, and a served flow is copied into its run process by cloudpickle, which
carries only the names the code uses, so annotations kept as strings (``"date"``) could not be resolved
there.
"""

# Before anything imports polars: its allocator reads this setting once (ar_sync.process_memory).
import ar_sync.process_memory  # noqa: F401

from tasks.run_logging import attach_project_loggers

# Every flow module imports this package first, also in a worker's run process that loads one
# entrypoint file: from here on the project's log lines reach the run's logs in Prefect.
attach_project_loggers()
