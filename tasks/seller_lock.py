"""One AR cycle per seller at a time, whatever started it: the seller lock every flow holds while it runs.

Two layers, both named after the seller:

- a Prefect global concurrency limit (limit 1), held with a lease the server expires if the holder
  dies. It lives on the Prefect server, so it keeps apart runs on different machines and workers, a
  scheduled run and a click on "Run" in the UI, a CLI run and a deployment run. Used whenever a Prefect
  API is configured (``PREFECT_API_URL``); an ephemeral in-process server is private to one process, so
  it cannot keep anything apart and is not used;
- a lease in the run ledger (:mod:`ar_sync.seller_lease`), for runs that share the ledger file but no
  Prefect server.

The lock is re-entrant within one cycle: ``nightly_ar_cycle`` holds it and its stage subflows, which
take it too when they run alone, go straight through. A second cycle waits up to
``lock_timeout_seconds`` and then fails with one line naming the seller and the holder (flow run, host,
process, since when). A holder on this machine whose process is gone, or whose flow run has ended, is
evicted at once instead of waiting for its lease to run out.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

import httpx
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import ConcurrencyLeaseHolder
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.logging import get_logger, get_run_logger
from prefect.runtime import flow_run
from prefect.settings import PREFECT_API_URL
from prefect.variables import Variable

from ar_sync.run_ledger import RunLedger
from ar_sync.seller_lease import SellerBusyError, SellerLease, busy_message
from enkash_ar.context_threads import ContextThread

logger = get_logger("enkash_ar.seller_lock")

#: Seconds the Prefect server keeps the slot of a holder that stopped renewing (its minimum is 60).
PREFECT_LEASE_SECONDS: Final = 60.0
_held: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "enkash_ar_sellers_held", default=frozenset()
)


def _log_wait(seller_id: str, holder: str, timeout: float, where: str) -> None:
    message = "Seller %s is held by another AR cycle (%s, per the %s); waiting up to %.0f s for it to finish"
    try:
        get_run_logger().info(message, seller_id, holder, where, timeout)
    except Exception:  # outside a flow run there is no run logger
        logger.info(message, seller_id, holder, where, timeout)


def limit_name(seller_id: str) -> str:
    """The Prefect global concurrency limit of a seller, e.g. ``enkash-ar-seller-CEKSANDBX1``."""
    return f"enkash-ar-seller-{seller_id}"


def _holder_variable(seller_id: str) -> str:
    # Variable names are lower-case; seller ids are not.
    return f"enkash_ar_lock_{seller_id.lower()}"


def describe_self() -> str:
    """Who is asking, as another cycle's error message names it: flow run, host and process."""
    run_id, run_name = flow_run.get_id(), flow_run.get_name()
    who = f"flow run '{run_name}' ({run_id})" if run_id else "a run outside Prefect"
    return f"{who} on {socket.gethostname()} pid {os.getpid()}"


def prefect_api_configured() -> bool:
    """Whether a Prefect server is configured (not an ephemeral one private to this process)."""
    return bool(PREFECT_API_URL.value())


@asynccontextmanager
async def seller_lock(seller_id: str, ledger: RunLedger, *, timeout: float) -> AsyncIterator[None]:
    """Hold ``seller_id`` for the length of the block, waiting up to ``timeout`` seconds for it.

    Raises:
        SellerBusyError: another cycle held the seller for the whole ``timeout``.
    """
    if seller_id in _held.get():
        yield
        return
    description = describe_self()
    token = _held.set(_held.get() | {seller_id})
    started = time.monotonic()
    try:
        async with _prefect_limit(seller_id, description, timeout):
            remaining = max(timeout - (time.monotonic() - started), 0.0)
            lease = SellerLease(ledger, seller_id, description, timeout=remaining)
            await asyncio.to_thread(
                lease.acquire, lambda held: _log_wait(seller_id, held.description, remaining, "run ledger")
            )
            try:
                yield
            finally:
                await asyncio.to_thread(lease.release)
    finally:
        _held.reset(token)


@asynccontextmanager
async def _prefect_limit(seller_id: str, description: str, timeout: float) -> AsyncIterator[None]:
    if not prefect_api_configured():
        yield
        return
    name = limit_name(seller_id)
    async with get_client() as client:
        await _ensure_limit(client, name)
        lease_id = await _acquire(client, seller_id, name, description, timeout)
        try:
            renewer = _LeaseRenewer(seller_id, lease_id)
            renewer.start()
            try:
                yield
            finally:
                renewer.stop()
        finally:
            # Whatever happened once the slot was taken, it is given back. The holder record goes
            # first: once the slot is free the next cycle records itself, and a late removal of ours
            # would race its write.
            await _forget_holder(seller_id, lease_id)
            with suppress(httpx.HTTPError):
                await client.release_concurrency_slots_with_lease(lease_id)


async def _ensure_limit(client: Any, name: str) -> None:
    """Create the seller's limit with 1 slot, or put it back to 1 slot if someone changed it."""
    # ObjectAlreadyExists: another cycle created it at the same moment, with 1 slot too.
    with suppress(ObjectAlreadyExists):
        await client.upsert_global_concurrency_limit_by_name(name, 1)


async def _acquire(client: Any, seller_id: str, name: str, description: str, timeout: float) -> UUID:
    started = time.monotonic()
    run_id = flow_run.get_id()
    holder = ConcurrencyLeaseHolder(type="flow_run", id=UUID(run_id)) if run_id else None
    told = False
    while True:
        try:
            response = await client.increment_concurrency_slots_with_lease(
                names=[name], slots=1, mode="concurrency", lease_duration=PREFECT_LEASE_SECONDS, holder=holder
            )
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 423:
                raise
            pause = float(exc.response.headers.get("Retry-After") or 1.0)
        else:
            lease_id = UUID(response.json()["lease_id"])
            record = {
                "holder": description,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "flow_run_id": run_id,
                "since": datetime.now(UTC).isoformat(),
                "lease_id": str(lease_id),
            }
            try:
                await _record_holder(seller_id, record)
            except BaseException:
                # The slot is ours: a failure before the caller's block must not keep it.
                with suppress(httpx.HTTPError):
                    await client.release_concurrency_slots_with_lease(lease_id)
                raise
            return lease_id
        current = await _read_holder(seller_id)
        if current is not None and await _holder_gone(client, current):
            logger.warning(
                "Seller %s: the lock holder (%s) is gone; taking the lock over", seller_id, current["holder"]
            )
            await _evict(client, seller_id, current)
            continue
        if not told:
            _log_wait(
                seller_id, current["holder"] if current else "holder unknown", timeout, "Prefect server"
            )
            told = True
        waited = time.monotonic() - started
        if waited >= timeout:
            since = datetime.fromisoformat(current["since"]) if current else None
            who = current["holder"] if current else "holder unknown"
            raise SellerBusyError(busy_message(seller_id, who, since, waited))
        await asyncio.sleep(max(min(pause, 2.0, timeout - waited), 0.05))


async def _record_holder(seller_id: str, record: dict[str, Any]) -> None:
    """Write who holds the seller (shown to a waiting cycle, and how a gone holder is recognised).

    ``Variable.aset`` reads, then updates or creates: a record another process removes or writes in
    between makes that update 404 or that create 409, so the write is tried again. The record only
    informs: if it cannot be written, the lock is still held (by the slot) and the night goes on.
    """
    for _ in range(3):
        try:
            await Variable.aset(_holder_variable(seller_id), record, overwrite=True)
            return
        except (ObjectNotFound, ObjectAlreadyExists):
            continue
        except httpx.HTTPStatusError as exc:  # the update of a record removed meanwhile: 404
            if exc.response.status_code not in (404, 409):
                raise
    logger.warning("Seller %s: could not record the lock's holder; the lock is held all the same", seller_id)


async def _read_holder(seller_id: str) -> dict[str, Any] | None:
    with suppress(Exception):
        value = await Variable.aget(_holder_variable(seller_id))
        if isinstance(value, dict) and {"holder", "host", "pid", "since", "lease_id"} <= value.keys():
            return value
    return None


async def _holder_gone(client: Any, current: dict[str, Any]) -> bool:
    """Whether the recorded holder can no longer be running: its process or its flow run has ended."""
    if current["host"] == socket.gethostname():
        try:
            os.kill(int(current["pid"]), 0)
        except ProcessLookupError:
            return True
        except (PermissionError, ValueError):
            pass
    run_id = current.get("flow_run_id")
    if run_id:
        with suppress(ObjectNotFound, ValueError, httpx.HTTPError):
            state = (await client.read_flow_run(UUID(run_id))).state
            return state is not None and state.is_final()
    return False


async def _evict(client: Any, seller_id: str, current: dict[str, Any]) -> None:
    """Free the slot of a holder that is gone (its lease would free it only when it runs out).

    Only the holder's own lease is released: freeing "a slot" of the limit instead could free the
    slot of a cycle that took the lock in the meantime.
    """
    with suppress(httpx.HTTPError, ValueError):
        await client.release_concurrency_slots_with_lease(UUID(current["lease_id"]))
    await _forget_holder(seller_id, UUID(current["lease_id"]))


async def _forget_holder(seller_id: str, lease_id: UUID) -> None:
    """Remove the holder record, if it is still the one of ``lease_id`` (not a later holder's)."""
    current = await _read_holder(seller_id)
    if current is not None and current["lease_id"] == str(lease_id):
        with suppress(Exception):
            await Variable.aunset(_holder_variable(seller_id))


class _LeaseRenewer(ContextThread):
    """Renews the seller's Prefect lease from its own thread.

    Not an asyncio task: a synchronous Prefect task called from an async flow runs on the event loop's
    thread and blocks it, so a renewal scheduled on the loop would wait for a long chunk (a large bulk
    file, hundreds of reminders) and let the lease run out while the night is still writing. A
    ContextThread, so that a failed renewal is logged into the flow run that holds the lock.
    """

    def __init__(self, seller_id: str, lease_id: UUID) -> None:
        super().__init__(name=f"seller-lock:{seller_id}", daemon=True)
        self.seller_id = seller_id
        self.lease_id = lease_id
        self._stop_event = threading.Event()

    def run(self) -> None:
        # A client of its own, not the one the stage shares (flows.prepare.holding_seller): this
        # thread may outlive the stage by its stop timeout, and must not enter and leave the stage's
        # client from a second thread. Prefect returns the context's client only for equal
        # httpx_settings, so ``{}`` (no change to the defaults) gives a new one.
        with get_client(sync_client=True, httpx_settings={}) as client:
            while not self._stop_event.wait(PREFECT_LEASE_SECONDS / 4):
                try:
                    client.renew_concurrency_lease(self.lease_id, PREFECT_LEASE_SECONDS)
                except httpx.HTTPError as exc:
                    # The ledger lease still holds the seller on this ledger; a lease the server has
                    # lost shows here, in the run's logs, for the operator to see.
                    logger.error(
                        "Could not renew the Prefect lease of seller %s's lock (%s); retrying",
                        self.seller_id,
                        exc,
                    )

    def stop(self) -> None:
        """Stop renewing (the lease is released by the caller)."""
        self._stop_event.set()
        self.join(timeout=10)
