"""Progress of the long stages: rows done out of rows planned, as a Prefect progress artifact and to
whoever listens in this process (the CLI's progress bar).

A stage wraps its chunk loop in :func:`tracked`: the artifact is created when the first chunk starts
and updated each time a chunk is done, so the run's Artifacts tab shows how far an upload of 100k
invoices has gone. One API call per chunk, through one client per stage, and chunks are thousands of
rows: the overhead is nothing next to the upload. Progress is only a view: if the Prefect API refuses
an update, the stage goes on (the refusal is logged once) rather than failing a night over a progress
bar.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import ExitStack, contextmanager, suppress
from typing import TypeVar, cast
from uuid import UUID

from prefect.artifacts import create_progress_artifact
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import ArtifactUpdate
from prefect.context import SyncClientContext
from prefect.logging import get_logger
from prefect.runtime import flow_run

logger = get_logger("enkash_ar.progress")

T = TypeVar("T", bound=Sized)
#: ``listener(stage, done, planned)``: called when a stage starts (done 0) and after each chunk.
ProgressListener = Callable[[str, int, int], None]

_listeners: list[ProgressListener] = []
_lock = threading.Lock()


@contextmanager
def listening(listener: ProgressListener) -> Iterator[None]:
    """Call ``listener`` with every stage's progress in this process while the block runs."""
    with _lock:
        _listeners.append(listener)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(listener)


def _tell(stage: str, done: int, planned: int) -> None:
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(stage, done, planned)


def percent(done: int, planned: int) -> float:
    """``done`` of ``planned`` as a percentage (0-100); nothing planned is done."""
    return 100.0 if planned <= 0 else round(min(done, planned) * 100.0 / planned, 2)


def progress_key(stage: str) -> str:
    """The artifact key of a stage's progress (lower case and dashes, as Prefect requires)."""
    return "ar-progress-" + stage.lower().replace("_", "-")


class _Artifact:
    """The stage's progress artifact in Prefect, when there is a flow run to put it on."""

    def __init__(self, stage: str, planned: int) -> None:
        self.stage, self.planned = stage, planned
        self.id: UUID | None = None
        self.broken = not flow_run.get_id()
        # One API client for the stage's updates: Prefect's update_progress_artifact builds a new one,
        # with a new TLS context (~50 ms of CPU), for every call. The client the stage shares
        # (flows.prepare.holding_seller) is borrowed, not entered: opening and closing it is the
        # stage's. Without one, a client of our own, entered here and left in close().
        self._clients = ExitStack()
        self._client: SyncPrefectClient | None = None

    def _description(self, done: int) -> str:
        return f"{self.stage}: {min(done, self.planned):,} of {self.planned:,} rows done"

    def show(self, done: int) -> None:
        if self.broken:
            return
        try:
            if self.id is None:
                created = create_progress_artifact(  # type: ignore[call-arg]
                    percent(done, self.planned),
                    key=progress_key(self.stage),
                    description=self._description(done),
                    _sync=True,
                )
                self.id = cast(UUID, created)
            else:
                if self._client is None:
                    shared = SyncClientContext.get()
                    self._client = (
                        shared.client
                        if shared is not None
                        else self._clients.enter_context(get_client(sync_client=True))
                    )
                update = ArtifactUpdate(data=percent(done, self.planned), description=self._description(done))
                self._client.update_artifact(artifact_id=self.id, artifact=update)
        except Exception as exc:  # a view only: the stage's own work must not fail over it
            self.broken = True
            logger.warning("Could not publish the progress of %s to Prefect (%s); going on", self.stage, exc)

    def close(self) -> None:
        self._client = None
        with suppress(Exception):  # a view only, as above
            self._clients.close()


def tracked(chunks: Iterable[T], planned: int, stage: str, size: Callable[[T], int] = len) -> Iterator[T]:
    """Yield ``chunks`` and report ``stage``'s progress (rows done of ``planned``) as each one is done.

    A chunk counts as done when the loop asks for the next one (or ends), so a chunk that fails is not
    counted. Nothing is published for a stage with nothing planned. ``size`` tells a chunk's rows (for
    ``(chunk, result)`` pairs: ``lambda pair: len(pair[0])``).

    Example:
        >>> for chunk in tracked(plan.to_create.iter_slices(5000), plan.to_create.height, "invoices_upload"):
        ...     upload_invoices_chunk(chunk, night)  # doctest: +SKIP
    """
    if planned <= 0:
        yield from chunks
        return
    artifact = _Artifact(stage, planned)
    done = 0
    artifact.show(done)
    _tell(stage, done, planned)
    try:
        for chunk in chunks:
            yield chunk
            done += size(chunk)
            artifact.show(done)
            _tell(stage, done, planned)
    finally:
        artifact.close()
