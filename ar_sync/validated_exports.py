"""Validated ERP exports kept as files, so that a retried or repeated night does not validate again.

Validating a large export (every amount, key, date and mobile, row by row) costs more than reading its
result back. The result of one validation (:class:`~ar_sync.erp_input.LoadResult` of the customer file
and of the invoice file) is written under ``<cache_dir>/inputs/<key>/`` as Parquet files plus a small
JSON of counts; ``key`` names what was validated (the files' content, the column mappings and the
ceiling: see :func:`validation_key`). These files hold the ERP's rows, customers' names and contacts
included: they stay in the project's own folder (as the run ledger does), never in Prefect's result
storage, which only ever holds the folder's path.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Final, cast

import polars as pl

from ar_sync.erp_input import Entity, LoadResult

#: Where validated exports are kept by default (next to the default run ledger).
DEFAULT_CACHE_DIR: Final = Path(".enkash-ar") / "cache"
#: How long a validated export is reused; older folders are removed when a new one is written.
KEEP_DAYS: Final = 7
_COMPLETE = "complete.json"
_FRAMES = ("valid", "rejected", "problems")


#: A digest is reused only for a file last changed this long before the digest was taken: a file
#: written again within its file system's timestamp granularity can keep the same size and times (the
#: "racy" case git's index handles the same way), so a file that recent is always read again.
RACY_SECONDS: Final = 2.0
_digests: dict[str, tuple[tuple[int, int, int, int], str]] = {}
_digests_lock = threading.Lock()


def _signature(path: str | Path) -> tuple[int, int, int, int]:
    stat = os.stat(path)
    return stat.st_size, stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns


def _read_digest(path: str | Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_digest(path: str | Path) -> str:
    """A digest of the file's bytes (never its name or modification time).

    A night asks for the digest of the same export many times (the cycle, each stage, the validation's
    cache key): the file is read once per process while its size, inode and modification and change
    times stay the same, and read again whenever one of them changes or the file changed less than
    :data:`RACY_SECONDS` before its digest was taken.
    """
    name = os.path.realpath(path)
    signature = _signature(path)
    with _digests_lock:
        known = _digests.get(name)
    if known is not None and known[0] == signature:
        return known[1]
    taken = time.time()
    digest = _read_digest(path)
    changed = max(signature[2], signature[3]) / 1e9
    if _signature(path) == signature and changed < taken - RACY_SECONDS:
        with _digests_lock:
            _digests[name] = (signature, digest)
    return digest


def validation_key(
    files: Sequence[str | None],
    customer_columns: Mapping[str, str] | None,
    invoice_columns: Mapping[str, str] | None,
    max_invoice_amount: Decimal,
) -> str | None:
    """What a validation depends on: each file's content and name (the report names the file), the
    column mappings and the ceiling. None when a file cannot be read (the loader reports it)."""
    try:
        parts = [f"{path}:{file_digest(path)}" if path else "-" for path in files]
    except OSError:
        return None
    mappings = repr(sorted((customer_columns or {}).items())) + repr(sorted((invoice_columns or {}).items()))
    material = "|".join([*parts, mappings, str(max_invoice_amount)])
    return hashlib.blake2b(material.encode(), digest_size=16).hexdigest()


def entry_folder(cache_dir: str | Path, key: str) -> Path:
    """The folder of one validated export."""
    return Path(cache_dir) / "inputs" / key


def save_validated(folder: Path, results: Sequence[LoadResult]) -> Path:
    """Write ``results`` to ``folder`` (replacing it), the completion marker last; returns ``folder``."""
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    counts = []
    for result in results:
        for name in _FRAMES:
            getattr(result, name).write_parquet(partial / f"{result.entity}.{name}.parquet")
        counts.append(
            {
                "entity": result.entity,
                "file": result.file,
                "total_rows": result.total_rows,
                "rejected_rows": result.rejected_rows,
            }
        )
    (partial / _COMPLETE).write_text(json.dumps(counts), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return folder


def scan_valid_rows(folder: str | Path, entity: Entity, columns: Sequence[str] | None = None) -> pl.LazyFrame:
    """``entity``'s valid rows kept in ``folder`` as a plan, only ``columns`` (those the rows have; all:
    None): read when it runs, only the columns and rows it needs.

    Raises:
        OSError, polars.exceptions.PolarsError: the file is missing or damaged (``columns`` given: now).
    """
    path = Path(folder) / f"{entity}.valid.parquet"
    plan = pl.scan_parquet(path)
    if columns is None:
        return plan
    held = pl.read_parquet_schema(path)
    return plan.select([c for c in columns if c in held])


def read_validated(
    folder: str | Path, *, valid_columns: Mapping[str, Sequence[str]] | None = None
) -> list[LoadResult] | None:
    """The results kept in ``folder``, or None when it is missing or incomplete (cleared, interrupted).

    ``valid_columns`` names, per entity (``"invoices"``), the only columns of its valid rows to read: a
    stage that reads a few columns of a million invoices does not hold the others. A named column the
    export does not have (an optional one, such as ``amount_paid``) is left out, as it is from the whole
    frame; the rejected rows and problems are always read whole.
    """
    base = Path(folder)
    wanted = valid_columns or {}
    try:
        counts = json.loads((base / _COMPLETE).read_text(encoding="utf-8"))
        return [
            LoadResult(
                entity=cast(Entity, c["entity"]),
                file=str(c["file"]),
                total_rows=int(c["total_rows"]),
                rejected_rows=int(c["rejected_rows"]),
                valid=scan_valid_rows(base, c["entity"], wanted.get(c["entity"])).collect(),
                rejected=pl.read_parquet(base / f"{c['entity']}.rejected.parquet"),
                problems=pl.read_parquet(base / f"{c['entity']}.problems.parquet"),
            )
            for c in counts
        ]
    except (OSError, ValueError, KeyError, pl.exceptions.PolarsError):
        return None


def prune(cache_dir: str | Path, *, keep_days: float = KEEP_DAYS, now: float | None = None) -> list[Path]:
    """Remove validated exports older than ``keep_days``; returns the folders removed."""
    root = Path(cache_dir) / "inputs"
    if not root.is_dir():
        return []
    limit = (now if now is not None else time.time()) - keep_days * 86400
    removed = []
    for entry in root.iterdir():
        if entry.is_dir() and entry.stat().st_mtime < limit:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed
