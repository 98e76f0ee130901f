"""A night's stages put its artifacts on the run tree's root, found once by the top flow."""

from __future__ import annotations

from uuid import UUID

import pytest
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext

from tasks import run_artifacts
from tasks.run_artifacts import night_root, root_flow_run_id


def _this_run() -> UUID:
    context = FlowRunContext.get()
    assert context is not None and context.flow_run is not None
    return context.flow_run.id


@task(cache_policy=NO_CACHE)
def _root_seen_by_a_task() -> UUID | None:
    return root_flow_run_id()


@flow
def _stage() -> tuple[UUID, UUID | None]:
    return _this_run(), _root_seen_by_a_task()


@flow
def _night(found_once: bool) -> tuple[UUID, UUID, UUID | None]:
    if not found_once:
        return _this_run(), *_stage()
    with night_root():
        # From here on the stages must not walk the run tree through Prefect's API again.
        run_artifacts._root_from_prefect = _refused  # type: ignore[assignment]
        return _this_run(), *_stage()


def _refused() -> UUID | None:
    raise AssertionError("a stage walked the run tree again")


@pytest.mark.parametrize("found_once", [False, True])
def test_a_stage_finds_the_nights_root_run(
    prefect_server: None, monkeypatch: pytest.MonkeyPatch, found_once: bool
) -> None:
    # Registered so that the test restores the walk the night replaces with _refused.
    monkeypatch.setattr(run_artifacts, "_root_from_prefect", run_artifacts._root_from_prefect)
    night, stage, root = _night(found_once)
    assert stage != night
    assert root == night  # the stage's task sees the top-level run, not its own subflow run


def test_a_stage_run_alone_is_its_own_root(prefect_server: None) -> None:
    stage, root = _stage()
    assert root == stage
