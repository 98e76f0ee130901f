"""ar_fleet: one night for every seller of a fleet, each seller's cycle a flow run on the work pool."""

from __future__ import annotations

import ar_sync.process_memory  # noqa: F401  (first: polars' allocator, ar_sync/process_memory.py)

import asyncio
from datetime import date

from prefect import flow
from prefect.runtime import flow_run

from ar_sync.fleet import (
    Fleet,
    FleetError,
    check_fleet,
    expand,
    load_fleet,
    plan_night,
    pydantic_options_check,
)
from ar_sync.fleet_summary import failure_line, fleet_markdown, fleet_table, fleet_totals, write_fleet_files
from flows.options import CycleOptions, resolve_night
from tasks.fleet_children import ensure_host_limit, load_blocks, nights_limit_name, run_seller_night
from tasks.run_artifacts import publish_markdown, publish_table

#: The deployment of nightly_ar_cycle each seller's night runs as (prefect.yaml: fleet-seller-cycle).
CHILD_DEPLOYMENT = "nightly-ar-cycle/fleet-seller-cycle"


class FleetFailedError(RuntimeError):
    """One or more sellers' nights did not complete (the message names each, and why)."""


@flow(name="ar-fleet")
async def ar_fleet(
    fleet: Fleet | None = None,
    fleet_file: str | None = None,
    as_of: date | None = None,
    child_deployment: str = CHILD_DEPLOYMENT,
    summary_dir: str = "out/fleet/{date:%Y-%m-%d}",
) -> dict[str, object]:
    """Run the night of every enabled seller of a fleet, and summarise the fleet.

    Each seller's night is a flow run of ``child_deployment`` (the nightly cycle), created at once for
    every seller and picked up by whichever worker of its work pool is free; at most
    ``fleet.max_parallel`` run at once, and at most the host's global concurrency limit
    (``enkash-ar-nights-<host>``, ``fleet.host_limit`` slots when the fleet creates it) per EnKash host,
    across every fleet. Each child holds its seller's lock, so a fleet's child and any other cycle of
    that seller never overlap. A seller that fails (or cannot start: a missing block or ERP file) does
    not stop the others. The fleet then publishes one artifact (a table and a markdown summary) and
    writes ``fleet_summary.csv``, ``.parquet`` and ``.json`` (a row per seller and the totals) to
    ``summary_dir``; it ends Failed, naming every failed seller, if any failed.

    A description that is wrong (duplicate seller, unknown option, two sellers sharing a ledger...) is
    refused before any seller starts, with one line per problem.

    Args:
        fleet: the sellers (the form in the Prefect UI); give this or ``fleet_file``.
        fleet_file: a fleet YAML file on the worker's machine; give this or ``fleet``.
        as_of: the night, for every seller; default: the run's date in IST.
        child_deployment: the deployment of the nightly cycle each seller runs as, ``flow/deployment``.
        summary_dir: where the fleet summary files go; may hold ``{date:%Y-%m-%d}``.

    Returns:
        The fleet's totals (sellers completed and failed, summed counts, open amount, fleet DSO).

    Example:
        >>> import asyncio
        >>> asyncio.run(ar_fleet(fleet_file="fleet.yaml"))  # doctest: +SKIP
    """
    if (fleet is None) == (fleet_file is None):
        raise FleetError("give the fleet either as the fleet form or as fleet_file (a YAML path), not both")
    described = fleet if fleet is not None else load_fleet(str(fleet_file))
    checked = check_fleet(described, pydantic_options_check(CycleOptions))
    night = resolve_night(as_of)

    blocks = await load_blocks(s.credentials_block for s in checked.sellers if s.enabled)
    nights = plan_night(checked, night, {name: block.seller_id for name, block in blocks.items()})
    limits = {name: nights_limit_name(block.base_url) for name, block in blocks.items()}
    for limit in sorted(set(limits.values())):
        await ensure_host_limit(limit, checked.host_limit)

    fleet_run = flow_run.get_id() or "local"
    attempt = flow_run.run_count or 1
    gate = asyncio.Semaphore(checked.max_parallel)
    outcomes = await asyncio.gather(
        *(
            run_seller_night(
                child_deployment,
                seller_night,
                night,
                gate=gate,
                host_limit=limits.get(seller_night.credentials_block, ""),
                tags=["enkash-ar-fleet", f"fleet-run:{fleet_run}"],
                # A retried fleet run starts new children; a repeated call within one attempt does not.
                idempotency_key=f"{fleet_run}:{attempt}:{seller_night.seller_id}",
            )
            for seller_night in nights
        )
    )

    table = fleet_table(list(outcomes))
    totals = fleet_totals(table)
    write_fleet_files(expand(summary_dir, "fleet", night), night, table, totals)
    description = (
        f"EnKash AR fleet night {night.isoformat()}: {totals['completed']} of {totals['sellers']} sellers"
    )
    publish_table(table.to_dicts(), "ar-fleet-sellers", description)
    publish_markdown(fleet_markdown(night, table, totals), "ar-fleet-summary", description)
    if failed := failure_line(table):
        raise FleetFailedError(failed)
    return totals


if __name__ == "__main__":
    import sys

    asyncio.run(ar_fleet(fleet_file=sys.argv[1]))
