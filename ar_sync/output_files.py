"""The files a night leaves in ``out_dir``, named in one place."""

from __future__ import annotations

import errno
import glob
import os
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from datetime import date, timedelta
from pathlib import Path
from typing import Final

#: The night's summary (``NightSummary``), JSON.
SUMMARY_FILE: Final = "summary.json"
#: One result row per record per stage of the night (``results.RESULT_SCHEMA``), Parquet.
BULK_RESULTS_FILE: Final = "bulk_results.parquet"
#: One row per ERP record that input validation rejected, CSV.
REJECTED_ROWS_FILE: Final = "rejected_rows.csv"
#: The night's payments for the ERP to import (``payment_export.PAYMENT_FILE_SCHEMA``), CSV and Parquet.
PAYMENTS_CSV_FILE: Final = "payments.csv"
PAYMENTS_PARQUET_FILE: Final = "payments.parquet"
#: Invoices whose payment state differs between the ERP export and EnKash, CSV (nothing is changed).
PAYMENT_MISMATCHES_FILE: Final = "payment_mismatches.csv"


def run_report_file(seller_id: str, night: date) -> str:
    """The night's HTML run report, one per seller and night: ``ar-report-<seller>-<yyyy-mm-dd>.html``."""
    return f"ar-report-{seller_id}-{night.isoformat()}.html"


#: What a system answers when a folder cannot be opened or synced (as opposed to a disk error).
_FOLDER_SYNC_REFUSALS: Final = frozenset(
    {errno.EACCES, errno.EPERM, errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF}
)

#: A partial file older than this was left by a writer that died before renaming or removing it
#: (SIGKILL, power loss): a night writes each of its files in seconds.
STALE_PARTIAL: Final = timedelta(hours=1)


def private_partial(target: Path, suffix: str = ".partial") -> Path:
    """A hidden name beside ``target`` that only this writer uses, to write into and then rename.

    Two runs writing the same file at once (an overlapping retry, two workers) each get their own
    partial file, so neither renames or truncates the other's: the last complete file wins, whole.
    Partial files of ``target`` older than :data:`STALE_PARTIAL` are removed first: their writer died.
    """
    cutoff = time.time() - STALE_PARTIAL.total_seconds()
    for left in target.parent.glob(f".{glob.escape(target.name)}.*{suffix}"):
        with suppress(OSError):  # gone meanwhile, or not ours to remove: it stays
            if left.stat().st_mtime < cutoff:
                left.unlink()
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}{suffix}")


def write_replacing(target: Path, write: Callable[[Path], object]) -> Path:
    """Write ``target`` through :func:`private_partial`: ``write`` gets the partial file's path, which is
    renamed over ``target`` once ``write`` returns (removed if it raises). Returns ``target``.

    Example:
        >>> write_replacing(Path("out/bulk_results.parquet"), frame.write_parquet)  # doctest: +SKIP
    """
    partial = private_partial(target)
    try:
        write(partial)
        durable_rename(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def durable_rename(source: Path, target: Path) -> None:
    """Rename ``source`` over ``target`` so that even a power cut or an OS crash leaves one of the two
    whole under ``target``: the file's contents reach the disk before the rename, and the rename before
    this returns.

    A rename alone is atomic for a killed process, not for a lost machine: the new name can reach the
    disk before the contents it points at (an empty or torn ``payments.csv`` for the ERP to import), or
    be lost after the run ledger recorded the file as written.
    """
    _sync(source, os.O_RDONLY)
    source.replace(target)
    # The folder's sync is as good as the system allows: it cannot be opened on Windows, a drop folder
    # the ERP reads may be write-only for this user, and some network file systems refuse to sync a
    # folder. The file is complete and renamed either way; only a failing disk is an error here.
    if hasattr(os, "O_DIRECTORY"):
        try:
            _sync(target.parent, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            if exc.errno not in _FOLDER_SYNC_REFUSALS:
                raise


def _sync(path: Path, flags: int) -> None:
    handle = os.open(path, flags)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
