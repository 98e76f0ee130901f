"""The Prefect side of a fleet: the sellers' blocks, the per-host limit, and one child flow run per seller.

Each seller's night is a flow run of the ``nightly-ar-cycle`` deployment named by the fleet, created
with ``run_deployment`` so that the work pool hands it to whichever worker is free (several machines,
or a Kubernetes cluster). The child is a top-level run of its own (``as_subflow=False``): its artifacts
and its seller lock stay its own, exactly as a scheduled night of that seller; it carries the fleet's
tags and is linked from the fleet's summary.

Two bounds, both held by the fleet while a child runs:

- the fleet's own ``max_parallel`` (a semaphore in the fleet run);
- a Prefect global concurrency limit per EnKash host, ``enkash-ar-nights-<host>``: EnKash's rate limit is
  the host's, shared by every seller (and every fleet) that calls it. The fleet creates it with
  ``host_limit`` slots if it does not exist; a limit an operator set on the server is kept.

The seller's own lock (``tasks.seller_lock``) is taken by the child itself, so a fleet's child and a
click on Run for the same seller never overlap.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from datetime import date
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.asyncio import concurrency
from prefect.deployments import arun_deployment
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.logging import get_run_logger
from prefect.settings import PREFECT_UI_URL

from ar_sync.fleet import SellerNight
from ar_sync.fleet_summary import NOT_STARTED, SellerOutcome, read_night_summary, report_path
from blocks.credentials import EnkashCredentials

#: Seconds between two looks at a running child's state (a fleet of N sellers reads N states this often).
POLL_SECONDS = 5.0


def nights_limit_name(base_url: str) -> str:
    """The fleet's limit of nights at once per EnKash host, e.g. ``enkash-ar-nights-api.enkash.in``.

    Not ``tasks.host_limit.host_limit_name`` (write tasks per host, held inside a night): a night holds
    a slot of this one while its tasks take slots of that one, so the two must never be the same limit.

    Example:
        >>> nights_limit_name("https://ekpayout-uat.enkash.in")
        'enkash-ar-nights-ekpayout-uat.enkash.in'
    """
    host = urlsplit(base_url).netloc.lower() or base_url.lower()
    return "enkash-ar-nights-" + re.sub(r"[^a-z0-9.-]+", "-", host).strip("-")


async def load_blocks(names: Iterable[str]) -> dict[str, EnkashCredentials]:
    """The credentials blocks that exist among ``names``, by name (a missing one is simply absent)."""
    found: dict[str, EnkashCredentials] = {}
    for name in sorted(set(names)):
        try:
            block = await EnkashCredentials.aload(name)
        except ValueError:  # Prefect's answer for a block document that does not exist
            continue
        if isinstance(block, EnkashCredentials):
            found[name] = block
    return found


async def ensure_host_limit(name: str, slots: int) -> int:
    """Create the host's limit with ``slots`` if it does not exist; returns the slots it has."""
    async with get_client() as client:
        try:
            return int((await client.read_global_concurrency_limit_by_name(name)).limit)
        except ObjectNotFound:
            pass
        try:
            await client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=slots))
        except ObjectAlreadyExists:  # another fleet created it at the same moment
            return int((await client.read_global_concurrency_limit_by_name(name)).limit)
    return slots


def flow_run_link(flow_run_id: UUID) -> str:
    """The child's page in the Prefect UI, or its id when no UI address is configured."""
    ui = PREFECT_UI_URL.value()
    return f"{str(ui).rstrip('/')}/runs/flow-run/{flow_run_id}" if ui else str(flow_run_id)


async def run_seller_night(
    deployment: str,
    night: SellerNight,
    as_of: date,
    *,
    gate: AbstractAsyncContextManager[Any],
    host_limit: str,
    tags: list[str],
    idempotency_key: str,
) -> SellerOutcome:
    """Run one seller's night as a child flow run of ``deployment`` and wait for it; never raises for
    the seller's own failure (the outcome says it), so one seller never stops the others."""
    if night.problem:
        return _not_started(night, night.problem)
    parameters = {
        "customers_file": night.customers_file,
        "invoices_file": night.invoices_file,
        "as_of": as_of.isoformat(),
        "options": night.options,
    }
    async with gate, concurrency(host_limit, occupy=1):
        try:
            child = await arun_deployment(
                deployment,
                parameters=parameters,
                flow_run_name=f"{night.seller_id}-{as_of.isoformat()}",
                tags=[*tags, f"seller:{night.seller_id}"],
                idempotency_key=idempotency_key,
                as_subflow=False,
                timeout=0,
            )
        except ObjectNotFound:
            return _not_started(
                night,
                f"seller {night.seller_id}: no deployment {deployment!r} on the Prefect server; deploy it "
                "(prefect deploy --name fleet-seller-cycle) or set child_deployment",
            )
        except Exception as exc:  # the server refused the run (parameters, pool): this seller only
            return _not_started(night, f"seller {night.seller_id}: the run could not be created: {exc}")
        get_run_logger().info("Seller %s: night started as flow run %s", night.seller_id, child.name)
        state = await _wait_final(child.id)
    status = state.type.value if state is not None else "UNKNOWN"
    summary = read_night_summary(night.out_dir, night.seller_id, as_of)
    outcome = SellerOutcome(
        seller_id=night.seller_id,
        status=status,
        message=None if status == "COMPLETED" else (state.message if state is not None else None),
        flow_run=flow_run_link(child.id),
        summary=summary,
        report=report_path(night.out_dir, night.seller_id, as_of),
    )
    log = get_run_logger().info if not outcome.failed else get_run_logger().error
    log("Seller %s: %s%s", night.seller_id, status, f" ({outcome.message})" if outcome.message else "")
    return outcome


def _not_started(night: SellerNight, message: str) -> SellerOutcome:
    get_run_logger().error(message)
    return SellerOutcome(night.seller_id, NOT_STARTED, message=message)


async def _wait_final(flow_run_id: UUID) -> Any:
    async with get_client() as client:
        while True:
            state = (await client.read_flow_run(flow_run_id)).state
            if state is not None and state.is_final():
                return state
            await asyncio.sleep(POLL_SECONDS)
