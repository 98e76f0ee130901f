"""The options a run uses: the ones it was given, over its deployment's own.

Prefect merges a run's parameters into its deployment's one parameter at a time: a run that overrides
``options`` with ``{"chunk_size": 500}`` gets exactly that object, and every option it did not name
(``out_dir``, ``ledger_path``, ``credentials_block`` ...) would fall back to the flow's defaults, not to
what the deployment says. So a flow started from a deployment reads the deployment's ``options`` and
lays over them only the fields the run set (pydantic's ``model_fields_set``): an explicit value, even a
default one such as ``credentials_block: null``, still wins.
"""

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.logging import get_run_logger

from flows.options import CycleOptions


def merge_options(given: CycleOptions | None, deployed: Mapping[str, Any] | None) -> CycleOptions:
    """``deployed`` (a deployment's ``options`` parameter) with the fields ``given`` set laid over it.

    Example:
        >>> merge_options(CycleOptions(chunk_size=500), {"out_dir": "/srv/out"}).out_dir
        '/srv/out'
    """
    explicit = given.model_dump(include=given.model_fields_set) if given is not None else {}
    return CycleOptions.model_validate({**(deployed or {}), **explicit})


async def _deployed_options(deployment_id: UUID) -> Mapping[str, Any] | None:
    # prefect.runtime.deployment.parameters are this run's parameters (already overridden), not the
    # deployment's own: read the deployment itself.
    async with get_client() as client:
        found = await client.read_deployment(deployment_id)
    options = (found.parameters or {}).get("options")
    return options if isinstance(options, Mapping) else None


async def resolve_options(given: CycleOptions | None) -> CycleOptions:
    """The options this run uses: ``given`` over its deployment's ``options`` (defaults outside one).

    A stage inside the nightly cycle gets the cycle's options, already merged, and keeps them.
    """
    # The run's own record says which deployment started it (prefect.runtime.deployment would read the
    # flow run from the API again).
    context = FlowRunContext.get()
    deployment_id = context.flow_run.deployment_id if context and context.flow_run else None
    if not deployment_id:
        return given or CycleOptions()
    deployed = await _deployed_options(deployment_id)
    options = merge_options(given, deployed)
    if given is not None and deployed:
        kept = sorted(set(deployed) - given.model_fields_set)
        if kept:
            get_run_logger().info("Options this run did not set are the deployment's: %s", ", ".join(kept))
    return options
