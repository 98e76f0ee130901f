"""The engine's thread pool carries the caller's context into its threads (where Prefect keeps the run a
log line belongs to), a copy per call."""

from __future__ import annotations

import contextvars
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from enkash_ar.context_threads import ContextThread, ContextThreadPoolExecutor, SharedPool, in_order
from enkash_ar.errors import ServerError

RUN: contextvars.ContextVar[str] = contextvars.ContextVar("run", default="no run")


def _seen(_: int) -> str:
    return RUN.get()


def _set_and_read(value: str) -> str:
    RUN.set(value)
    return RUN.get()


def test_pool_threads_see_the_context_of_the_caller() -> None:
    token = RUN.set("task run 42")
    try:
        with ContextThreadPoolExecutor(max_workers=3) as pool:
            seen = list(pool.map(_seen, range(6)))
        with ThreadPoolExecutor(max_workers=3) as plain:
            lost = list(plain.map(_seen, range(3)))
    finally:
        RUN.reset(token)

    assert seen == ["task run 42"] * 6
    assert lost == ["no run"] * 3  # what the engine's pool used to give its threads


def test_each_call_changes_only_its_own_copy() -> None:
    with ContextThreadPoolExecutor(max_workers=2) as pool:
        assert list(pool.map(_set_and_read, ["a", "b", "c"])) == ["a", "b", "c"]
    assert RUN.get() == "no run"


class _Renewer(ContextThread):
    seen = ""

    def run(self) -> None:
        self.seen = RUN.get()


def test_a_long_lived_thread_sees_the_context_it_was_made_in_even_with_its_own_run() -> None:
    token = RUN.set("flow run 7")
    try:
        renewer = _Renewer()
    finally:
        RUN.reset(token)
    renewer.start()
    renewer.join()

    assert renewer.seen == "flow run 7"


class _Reads:
    """Reads that take a moment each, counting how many are in flight at once and which were made."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.fail_on, self.most = fail_on, 0
        self.made: list[str] = []
        self._now = 0
        self._lock = threading.Lock()
        self.run = contextvars.ContextVar("run", default="none")

    def __call__(self, one: str) -> str:
        with self._lock:
            self._now += 1
            self.most = max(self.most, self._now)
            self.made.append(one)
        if one == self.fail_on:
            with self._lock:
                self._now -= 1
            raise ServerError(operation="getInvoice", status_code=500)
        time.sleep(0.05)
        with self._lock:
            self._now -= 1
        return f"{one}:{self.run.get()}"


def test_calls_in_order_go_a_few_at_a_time_in_order_and_in_the_callers_run() -> None:
    reads = _Reads()
    reads.run.set("task-run-7")
    ids = [f"ID{i:02d}" for i in range(30)]
    assert in_order(reads, ids, workers=8) == [f"{one}:task-run-7" for one in ids]
    assert 1 < reads.most <= 8
    assert in_order(reads, [], workers=8) == []


def test_a_failed_call_is_raised_and_the_calls_not_yet_started_are_not_made() -> None:
    reads = _Reads(fail_on="ID00")
    with pytest.raises(ServerError):
        in_order(reads, [f"ID{i:02d}" for i in range(200)], workers=8)
    # Those already in flight finish; far from all 200 are made once the first has failed.
    assert "ID00" in reads.made
    assert len(reads.made) < 50


def test_a_shared_pool_runs_every_callers_calls_on_its_threads_in_order_and_in_each_callers_run() -> None:
    pool = SharedPool(workers=4)
    reads = _Reads()
    answers: dict[str, list[str]] = {}

    def caller(run: str) -> None:
        reads.run.set(run)
        answers[run] = pool.in_order(reads, [f"{run}-{i:02d}" for i in range(20)])

    callers = [ContextThread(target=caller, args=(f"chunk{n}",)) for n in range(3)]
    for thread in callers:
        thread.start()
    for thread in callers:
        thread.join()

    # Three callers at once, twelve calls wanted: never more than the pool's four threads.
    assert reads.most == 4
    for run, got in answers.items():
        assert got == [f"{run}-{i:02d}:{run}" for i in range(20)]
    assert pool.in_order(reads, []) == []


def test_callers_asking_at_once_have_their_calls_queued_together_not_interleaved() -> None:
    pool = SharedPool(workers=1)  # one thread: the order calls start in is the queue's order
    started: list[str] = []
    gate, go = threading.Event(), threading.Barrier(3)

    def caller(name: str) -> None:
        go.wait()
        pool.in_order(started.append, [name] * 20_000)

    holder = ContextThread(target=lambda: pool.in_order(lambda _: gate.wait(), [None]))
    holder.start()
    callers = [ContextThread(target=caller, args=(name,)) for name in "AB"]
    for thread in callers:
        thread.start()
    go.wait()
    time.sleep(0.2)  # both ask while the one thread is held
    gate.set()
    for thread in [holder, *callers]:
        thread.join()

    # Enough calls that their submitting spans many of the interpreter's thread switches.
    runs = [name for n, name in enumerate(started) if n == 0 or started[n - 1] != name]
    assert sorted(runs) == ["A", "B"], f"interleaved: {len(runs)} runs of one caller's calls"


def test_a_failure_stops_only_its_own_callers_calls() -> None:
    pool = SharedPool(workers=2)
    reads = _Reads(fail_on="A00")
    other: list[str] = []
    wanted = [f"B{i:02d}" for i in range(10)]
    # A's and B's calls share the queue: A's failure must cancel A's calls not yet started, none of B's.
    others = ContextThread(target=lambda: other.extend(pool.in_order(reads, wanted)))
    others.start()
    with pytest.raises(ServerError):
        pool.in_order(reads, [f"A{i:02d}" for i in range(200)])
    others.join()

    assert len(other) == 10
    assert len([one for one in reads.made if one.startswith("A")]) < 20


def test_a_forked_child_gets_threads_of_its_own() -> None:
    pool = SharedPool(workers=2)
    assert pool.in_order(str.upper, ["a", "b", "c"]) == ["A", "B", "C"]  # the parent's threads exist now
    child = os.fork()
    if child == 0:  # pragma: no cover (the child's outcome is its exit status)
        signal.alarm(10)  # a child waiting on the parent's threads would hang: fail it instead
        ok = pool.in_order(str.upper, ["x", "y", "z"]) == ["X", "Y", "Z"]
        os._exit(0 if ok else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
