"""Artifacts on the run a user opens: the top-level flow run, whichever stage publishes them.

Prefect puts an artifact on the flow run (and task run) it is created in. The night's summary is built
in the ``ar-summary`` stage, a subflow of ``nightly_ar_cycle``, so its artifacts used to sit one level
down, and the nightly run's Artifacts tab said it had none. These helpers create them on the root of
the run tree instead: the nightly run when the stage runs inside it, the stage's own run when it runs
alone. The task run that made them is still recorded, so they also show on that task run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from prefect.artifacts import LinkArtifact, MarkdownArtifact, TableArtifact
from prefect.runtime import flow_run

#: The run tree's root, found once by the night's top flow (:func:`night_root`) for its stages.
_night_root: ContextVar[UUID | None] = ContextVar("enkash_night_root", default=None)


def root_flow_run_id() -> UUID | None:
    """The top-level flow run of the current run tree (the current run when it has no parent).

    Inside :func:`night_root`, the root it found; elsewhere Prefect walks the parent runs through the
    API (a request or two per level, on a server that is recording the night meanwhile).
    """
    return _night_root.get() or _root_from_prefect()


def _root_from_prefect() -> UUID | None:
    root = flow_run.root_flow_run_id if flow_run.get_id() else None
    return UUID(str(root)) if root else None


@contextmanager
def night_root() -> Iterator[None]:
    """Find the current run tree's root once, for every stage run within (their subflows share this
    context): a stage then makes no request to know where the night's artifacts go."""
    token = _night_root.set(_root_from_prefect())
    try:
        yield
    finally:
        _night_root.reset(token)


def publish_markdown(markdown: str, key: str, description: str, *, on: UUID | None = None) -> UUID:
    """Create a markdown artifact on flow run ``on`` (default: the root run); return its id."""
    artifact = MarkdownArtifact(
        markdown=markdown, key=key, description=description, flow_run_id=on or root_flow_run_id()
    )
    return artifact.create(_sync=True).id  # type: ignore[call-arg,union-attr]


def publish_table(rows: list[dict[str, Any]], key: str, description: str, *, on: UUID | None = None) -> UUID:
    """Create a table artifact on flow run ``on`` (default: the root run); return its id."""
    artifact = TableArtifact(
        table=rows, key=key, description=description, flow_run_id=on or root_flow_run_id()
    )
    return artifact.create(_sync=True).id  # type: ignore[call-arg,union-attr]


def publish_link(link: str, link_text: str, key: str, description: str, *, on: UUID | None = None) -> UUID:
    """Create a link artifact on flow run ``on`` (default: the root run); return its id."""
    artifact = LinkArtifact(
        link=link, link_text=link_text, key=key, description=description, flow_run_id=on or root_flow_run_id()
    )
    return artifact.create(_sync=True).id  # type: ignore[call-arg,union-attr]
