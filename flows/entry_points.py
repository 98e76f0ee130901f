"""Synchronous entry points, for scripts and notebooks.

The flows are ``async def``: calling ``nightly_ar_cycle(...)`` returns a coroutine and runs nothing
until it is awaited (``asyncio.run(...)`` in a script, ``await`` in a notebook cell). These functions
run a flow to its end and return its result, from a plain script and from Jupyter alike: where an
event loop is already running in the calling thread (a notebook), the flow runs on a loop of its own in
a helper thread, and the call waits for it.
"""

import asyncio
from collections.abc import Coroutine
from datetime import date
from typing import Any, TypeVar

from ar_sync.night_summary import NightSummary
from enkash_ar.context_threads import ContextThreadPoolExecutor
from flows.nightly_ar_cycle import nightly_ar_cycle
from flows.options import CycleOptions

T = TypeVar("T")


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to its end and return its result, whether or not a loop runs in this thread.

    Example:
        >>> async def answer() -> int:
        ...     return 42
        >>> run_sync(answer())
        42
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    # A running loop (Jupyter) cannot run another coroutine to its end from inside one of its own
    # callbacks: give it a thread and a loop of its own. The thread carries the caller's context, so
    # what the caller set around the call (``with prefect.tags(...)``, a settings context) still holds.
    with ContextThreadPoolExecutor(max_workers=1, thread_name_prefix="enkash-ar-flow") as pool:
        return pool.submit(asyncio.run, coroutine).result()


def run_nightly_cycle(
    customers_file: str,
    invoices_file: str,
    as_of: date | None = None,
    options: CycleOptions | None = None,
) -> NightSummary:
    """Run the nightly AR cycle now, synchronously, and return the night's summary.

    The same flow run as ``nightly_ar_cycle`` (logs, artifacts, seller lock in Prefect), for a script
    or a notebook cell; a failed night raises its error.

    Args:
        customers_file: the ERP customer export (CSV, Parquet or XLSX).
        invoices_file: the ERP invoice export (CSV, Parquet or XLSX).
        as_of: the night, and the date aging is counted from; default: today in IST.
        options: how to run (credentials block, output folder, ledger, chunk size, dry run ...).

    Example:
        >>> summary = run_nightly_cycle("erp/customers.csv", "erp/invoices.csv")  # doctest: +SKIP
        >>> summary.open_amount  # doctest: +SKIP
    """
    return run_sync(nightly_ar_cycle(customers_file, invoices_file, as_of, options))
