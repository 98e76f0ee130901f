"""A parameter passed ``unwalked`` reaches the task as itself, and Prefect does not visit its elements
(a 50,000-key mapping visited element by element cost seconds per task call)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.collections import visit_collection

from tasks.parameters import unwalked


class _CountedMapping(dict[str, str]):
    """A dict (which Prefect walks) that counts how often its items are gone through."""

    walks = 0

    def items(self) -> Any:
        self.walks += 1
        return super().items()


@task(cache_policy=NO_CACHE)
def _walks_seen_by_the_task(held: Mapping[str, str]) -> tuple[int, int]:
    assert isinstance(held, _CountedMapping)
    return held.walks, len(held)


@flow
def _call(wrap: bool) -> tuple[int, int]:
    # The mapping is made inside the flow run: only the task call sees it.
    held = _CountedMapping({f"ERP-{i}": f"INV{i}" for i in range(1000)})
    return _walks_seen_by_the_task(unwalked(held) if wrap else held)


def test_an_unwalked_parameter_reaches_the_task_as_itself_without_being_visited(prefect_server: None) -> None:
    assert _call(wrap=True) == (0, 1000)
    # The same call without it: Prefect goes through the mapping (which is what unwalked spares).
    walks, _ = _call(wrap=False)
    assert walks > 0


def test_prefect_does_not_walk_a_series_which_is_why_key_lists_go_to_tasks_as_one() -> None:
    # check-open-statuses took its 100,000 externalIds as a list: ~2 s of CPU walking them per night.
    visits: list[object] = []
    visit_collection(pl.Series([f"ERP-{i}" for i in range(1000)]), visits.append, return_data=False)
    assert len(visits) == 1
    visit_collection([f"ERP-{i}" for i in range(1000)], visits.append, return_data=False)
    assert len(visits) > 1000
