"""Threads that see the context of the code that started them: a pool, a pool shared by a process, and a
single thread.

A ``ThreadPoolExecutor`` runs each call with the pool thread's own, empty ``contextvars`` context.
Whatever the caller keeps in context variables is lost there: an orchestrator's run (Prefect keeps
the flow and task run in one), so a log line written in a pool thread cannot be told apart from a
line written outside any run, and lands in no run's logs. This pool runs every call in a copy of the
submitter's context, as ``asyncio.to_thread`` does. A copy per call: one context cannot be entered by
two threads at once, and a call's own changes stay its own.
"""

from __future__ import annotations

import contextvars
import os
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
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
        return _results([pool.submit(fn, item) for item in items])


def _results(futures: Sequence[Future[R]]) -> list[R]:
    """The futures' results in order; at the first failure the calls not yet started are cancelled,
    those in flight waited for, and the failure raised."""
    try:
        return [future.result() for future in futures]
    except BaseException:
        for future in futures:
            future.cancel()
        wait(futures)
        raise


class SharedPool:
    """One pool of ``workers`` threads for every caller in the process, started on first use.

    However many callers use it at once (the chunks of one stage, the cycles of several sellers in one
    worker process), at most ``workers`` calls run at a time, first asked, first run: a caller's calls
    queue together, behind those asked before them, instead of each caller starting threads of its own.
    So of callers that ask at the same moment one finishes first, rather than all of them at the end.
    Calls run in a copy of the caller's context, as in :class:`ContextThreadPoolExecutor`. A forked
    child starts a pool of its own (the parent's threads do not exist there). A call must not wait for
    calls of the same pool: with every thread waiting, none would be left to run them.

    ``name`` prefixes its threads' names (what a thread dump or a profiler shows).

    Example:
        >>> SharedPool(workers=4).in_order(str.upper, ["a", "b"])
        ['A', 'B']
    """

    def __init__(self, workers: int, name: str = "shared") -> None:
        self.workers, self.name = workers, name
        self._lock = threading.Lock()
        self._pool: ContextThreadPoolExecutor | None = None
        _shared_pools.add(self)

    def in_order(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``fn(item)`` of every item, in the order of ``items``, on the shared threads. The first
        failure (in that order) is raised once this caller's calls in flight are done; its calls not
        yet started are not made (other callers' calls are not touched)."""
        if not items:
            return []
        with self._lock:
            if self._pool is None:
                self._pool = ContextThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=self.name)
            # Under the lock: another caller's calls are not interleaved with these.
            futures = [self._pool.submit(fn, item) for item in items]
        return _results(futures)

    def _forget(self) -> None:
        """In a forked child: the parent's threads and lock state are not ours; start afresh."""
        self._lock = threading.Lock()
        self._pool = None


_shared_pools: weakref.WeakSet[SharedPool] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for pool in list(_shared_pools):
        pool._forget()


os.register_at_fork(after_in_child=_after_fork_in_child)
