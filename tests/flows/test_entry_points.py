"""The synchronous entry point runs a coroutine to its end from a script and from inside a running event
loop (a notebook cell), with the caller's context (the end-to-end night is in test_flow_operations.py)."""

from __future__ import annotations

import asyncio
import contextvars
import threading

from flows.entry_points import run_sync

TAG: contextvars.ContextVar[str] = contextvars.ContextVar("tag", default="none")


async def _where() -> tuple[str, str]:
    await asyncio.sleep(0)
    return TAG.get(), threading.current_thread().name


def test_from_a_script_it_runs_here() -> None:
    assert run_sync(_where()) == ("none", threading.current_thread().name)


def test_from_a_running_loop_it_runs_beside_it_with_the_callers_context() -> None:
    async def notebook_cell() -> tuple[str, str]:
        TAG.set("night-of-24th")
        return run_sync(_where())

    tag, thread = asyncio.run(notebook_cell())

    assert tag == "night-of-24th"
    assert thread.startswith("enkash-ar-flow")
