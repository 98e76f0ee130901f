"""Helpers of the tests that count a night's requests and compare its picture with a read of every
invoice (``tests/flows/test_flow_night_reads.py``, ``test_flow_kept_reads.py``, the contract tests),
and read what a night left on its run in Prefect."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import polars as pl
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

from ar_sync.kept_reads import KEPT_FOLDER
from ar_sync.night_picture import PICTURE_INVOICE_COLUMNS
from enkash_ar.client import EnkashClient
from enkash_ar.settings import EnkashSettings
from flows.nightly_ar_cycle import nightly_ar_cycle
from flows.options import CycleOptions
from tasks.connection import close_all


def night_options(folder: Path, **options: Any) -> tuple[Path, CycleOptions]:
    """A night's ledger and options with everything it writes under ``folder`` (``options`` on top)."""
    ledger = folder / "ledger.sqlite3"
    return ledger, CycleOptions(out_dir=str(folder / "out"), ledger_path=str(ledger), **options)


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    """Requests by operation between two readings of the sandbox's counters."""
    return {op: after.get(op, 0) - before.get(op, 0) for op in set(after) | set(before)}


def night_requests(
    customers: Path, invoices: Path, options: CycleOptions, as_of: date, counts: Any
) -> dict[str, int]:
    """Run one nightly cycle; the requests it made, by operation (``counts()`` reads the counters)."""
    before = counts()
    asyncio.run(nightly_ar_cycle(str(customers), str(invoices), as_of, options))
    close_all()  # the next night starts with a fresh client, as a new flow run process would
    return delta(counts(), before)


def every_invoice() -> pl.DataFrame:
    """Every invoice EnKash holds now (the ENKASH_* settings' seller), as the night's picture keeps them."""
    with EnkashClient.from_settings(EnkashSettings()) as client:
        frame = client.search_invoices_frame(columns=PICTURE_INVOICE_COLUMNS)
    return frame.sort("invoiceId")


def kept_read(ledger: Path) -> pl.DataFrame:
    """The read of the invoices the last night kept next to ``ledger``."""
    (path,) = (ledger.parent / KEPT_FOLDER).glob("invoices-*.parquet")
    return pl.read_parquet(path).sort("invoiceId")


def night_markdown(flow_run_id: UUID | None) -> str:
    """The ``ar-cycle-summary`` markdown a nightly run left on itself: its summary, or the note of a
    night that stopped before it (exactly one of the two)."""
    with get_client(sync_client=True) as client:
        [note] = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]),
                key=ArtifactFilterKey(any_=["ar-cycle-summary"]),
            )
        )
    return str(note.data)
