"""Threads that see the context of the code that started them: a pool, and a single thread.

A ``ThreadPoolExecutor`` runs each call with the pool thread's own, empty ``contextvars`` context.
Whatever the caller keeps in context variables is lost there: an orchestrator's run (Prefect keeps
the flow and task run in one), so a log line written in a pool thread cannot be told apart from a
line written outside any run, and lands in no run's logs. This pool runs every call in a copy of the
submitter's context, as ``asyncio.to_thread`` does. A copy per call: one context cannot be entered by
two threads at once, and a call's own changes stay its own.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R")


class ContextThreadPoolExecutor(ThreadPoolExecutor):
    """``ThreadPoolExecutor`` whose calls run in a copy of the submitting thread's context.

    Example:
        >>> with ContextThreadPoolExecutor(max_workers=4) as pool:
        ...     list(pool.map(str.upper, ["a", "b"]))
        ['A', 'B']
    """

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Schedule ``fn(*args, **kwargs)`` in a copy of the caller's context (``map`` goes through here)."""
        context = contextvars.copy_context()
        call: Callable[..., Any] = context.run
        return super().submit(call, fn, *args, **kwargs)


class ContextThread(threading.Thread):
    """``threading.Thread`` whose ``run`` happens in a copy of the context of the thread that made it.

    Example:
        >>> thread = ContextThread(target=print, args=("renewing",))
        >>> thread.start(); thread.join()
        renewing
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        context, own_run = contextvars.copy_context(), self.run
        # Wraps ``run`` as the subclass defines it (a renewer overrides it): the thread's whole work runs
        # in the copy.
        self.run = lambda: context.run(own_run)  # type: ignore[method-assign]


def in_order(fn: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """``fn(item)`` of every item, ``workers`` at a time in a :class:`ContextThreadPoolExecutor`, in the
    order of ``items``. The first failure (in that order) is raised once the calls in flight are done;
    the calls not yet started are not made (``pool.map`` would make them all).

    Example:
        >>> in_order(str.upper, ["a", "b"], workers=4)
        ['A', 'B']
    """
    if len(items) <= 1:
        return [fn(item) for item in items]
    with ContextThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        futures = [pool.submit(fn, item) for item in items]
        try:
            return [future.result() for future in futures]
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
