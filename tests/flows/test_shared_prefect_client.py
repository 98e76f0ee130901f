"""The task runs of a stage that holds the seller share one Prefect API client (flows.prepare.holding_seller).

Without it Prefect builds a client, with a TLS context of its own, for every synchronous task run: a
fifth of a small night's CPU. What a user would notice if the sharing broke: nothing but the time; so
the test looks at the client each task run was given, in the flow's thread and in pool threads.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client

from enkash_ar.context_threads import ContextThreadPoolExecutor
from flows.options import CycleOptions
from flows.prepare import holding_seller
from tasks.progress import tracked


@task(cache_policy=NO_CACHE)
def client_of_this_task_run() -> int:
    return id(get_client(sync_client=True))


@flow
async def a_stage(options: CycleOptions) -> tuple[set[int], int, bool]:
    async with holding_seller(options):
        shared = client_of_this_task_run()
        with ContextThreadPoolExecutor(max_workers=3) as pool:
            in_threads = set(pool.map(lambda _: client_of_this_task_run(), range(6)))
        # A stage's progress artifact borrows the same client and must leave it open.
        for _ in tracked([[1], [2]], 2, "shared_client_check"):
            pass
        client = get_client(sync_client=True)
        # Open, and entered once: by the stage alone (the lock's renewer thread has a client of its own).
        still_open = not client._closed and client._context_stack == 1
    return {shared, *in_threads}, shared, still_open


def test_every_task_run_of_a_held_seller_uses_one_client_that_stays_open(
    enkash_env: Any, tmp_path: Path
) -> None:
    options = CycleOptions(out_dir=str(tmp_path / "out"), ledger_path=str(tmp_path / "ledger.sqlite3"))

    clients, _, still_open = asyncio.run(a_stage(options))

    assert len(clients) == 1
    assert still_open
