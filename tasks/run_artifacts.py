"""Artifacts on the run a user opens: the top-level flow run, whichever stage publishes them.

Prefect puts an artifact on the flow run (and task run) it is created in. The night's summary is built
in the ``ar-summary`` stage, a subflow of ``nightly_ar_cycle``, so its artifacts used to sit one level
down, and the nightly run's Artifacts tab said it had none. These helpers create them on the root of
the run tree instead: the nightly run when the stage runs inside it, the stage's own run when it runs
alone. The task run that made them is still recorded, so they also show on that task run.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from prefect.artifacts import LinkArtifact, MarkdownArtifact, TableArtifact
from prefect.runtime import flow_run


def root_flow_run_id() -> UUID | None:
    """The top-level flow run of the current run tree (the current run when it has no parent)."""
    root = flow_run.root_flow_run_id if flow_run.get_id() else None
    return UUID(str(root)) if root else None


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
