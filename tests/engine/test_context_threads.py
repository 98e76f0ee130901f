"""The engine's thread pool carries the caller's context into its threads (where Prefect keeps the run a
log line belongs to), a copy per call."""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor

from ar_sync.context_threads import ContextThread, ContextThreadPoolExecutor

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
