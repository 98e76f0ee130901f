"""How many write tasks may talk to one EnKash host at once.

Chunk uploads, dispatch batches and reminder batches run concurrently through Prefect's task runner
(:func:`fanned_out`), at most ``CycleOptions.host_concurrency`` of a flow run at a time. With
``CycleOptions.host_limit`` each such task also holds a slot of a Prefect global concurrency limit per
host (``enkash-ar-host-<host>``) while it sends, so all cycles on a Prefect server together stay within
what the host takes; the first cycle creates the limit with ``host_concurrency`` slots (an operator may
resize it). It is opt-in because a process killed while holding slots gives them back only when the
server's repossessor revokes their leases. The client's connection pool
(``enkash_ar._constants.DEFAULT_CONNECTION_LIMITS``, 64) has room for ``MAX_HOST_CONCURRENCY`` tasks
with their requests in flight (the reminder batches' customers share eight threads per process:
``ar_sync.reminder_policy``).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.futures import PrefectFuture

from tasks.connection import connection

T = TypeVar("T")
R = TypeVar("R")

#: Write tasks in flight per EnKash host when nothing else is configured.
DEFAULT_HOST_CONCURRENCY: Final = 4
#: The most the connection pool has room for: each task may have a few requests of its own in flight.
MAX_HOST_CONCURRENCY: Final = 8
#: How long a slot is leased (Prefect renews it while the task runs; the least the server takes): a
#: process killed while holding a slot frees it about this long after.
SLOT_LEASE_SECONDS: Final = 60


def host_limit_name(base_url: str) -> str:
    """The limit of an EnKash host, e.g. ``enkash-ar-host-ekpayout-uat-enkash-in``."""
    host = urlsplit(base_url).netloc.lower() or base_url.lower()
    return "enkash-ar-host-" + re.sub(r"[^a-z0-9]+", "-", host).strip("-")


async def ensure_host_limit(credentials_block: str | None, slots: int) -> str:
    """Create the limit of the connection's host with ``slots`` unless it exists; returns its name.

    An existing limit keeps its size: an operator who changed it in the UI is not overruled.
    """
    name = host_limit_name(connection(credentials_block).base_url)
    async with get_client() as client:
        try:
            await client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            # ObjectAlreadyExists: another cycle created it at the same moment.
            with suppress(ObjectAlreadyExists):
                await client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=name, limit=slots)
                )
    return name


@contextmanager
def host_slot(limit: str | None) -> Iterator[None]:
    """Hold one slot of the host's limit (nothing when ``limit`` is None: a task called on its own)."""
    if not limit:
        yield
        return
    with concurrency(limit, occupy=1, lease_duration=SLOT_LEASE_SECONDS):
        yield


def fanned_out(
    submit: Callable[[T], PrefectFuture[R]], chunks: Iterable[T], window: int
) -> Iterator[tuple[T, R]]:
    """Submit a task per chunk, at most ``window`` in flight, and yield ``(chunk, result)`` in order.

    When a chunk fails, the chunks already in flight are waited for (their writes are recorded in the
    ledger) before the failure is raised: no write is left half-recorded by the flow giving up early.

    Example:
        >>> for chunk, done in fanned_out(lambda c: upload_invoices_chunk.submit(c, night), chunks, 4):
        ...     results.append(done)  # doctest: +SKIP
    """
    in_flight: deque[tuple[T, PrefectFuture[R]]] = deque()
    try:
        for chunk in chunks:
            in_flight.append((chunk, submit(chunk)))
            if len(in_flight) >= max(window, 1):
                first, future = in_flight.popleft()
                yield first, future.result()
        while in_flight:
            first, future = in_flight.popleft()
            yield first, future.result()
    except BaseException:
        _settle([future for _, future in in_flight])
        raise


def _settle(futures: Sequence[PrefectFuture[Any]]) -> None:
    for future in futures:
        with suppress(Exception):
            future.wait()
