"""The local files a night writes (the output folder, the run ledger): checked before anything is sent,
and their failures told in one line that names the file and what to do.

A night that finds its output folder read-only only when it writes the summary has already sent
everything to EnKash; one that cannot open its ledger fails on a bare ``sqlite3`` message that names
no file. So every flow checks both places first (:func:`check_local_files`), by writing, not by
asking ``os.access`` (which says yes to root on a read-only mount or an immutable folder), and a disk
that fills up during the night is explained by :func:`explain_local_failure`.
"""

from __future__ import annotations

import errno
import sqlite3
import tempfile
from pathlib import Path
from typing import Final

#: errno values that mean "no room left": the disk, or the user's quota on it.
_FULL: Final = frozenset({errno.ENOSPC, errno.EDQUOT})
#: errno values that mean "not allowed to write there".
_UNWRITABLE: Final = frozenset({errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR})
_AGAIN: Final = "then run the night again: what was already sent is not sent twice."
OUT_DIR_FIX: Final = "Make it writable or choose another output folder (--out, or the out_dir option)."
LEDGER_FIX: Final = (
    "Make its folder writable or choose another ledger file (--ledger, or the ledger_path option)."
)


class LocalFileError(RuntimeError):
    """A file or folder of the night cannot be written; the message names it and what to do."""


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def check_writable_folder(folder: str | Path, what: str, fix: str) -> Path:
    """Create ``folder`` if needed and write (then remove) a scratch file in it; return it.

    Raises:
        LocalFileError: the folder cannot be created or written in.
    """
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".enkash-ar-write-check-"):
            pass
    except OSError as exc:
        if exc.errno in _FULL:
            raise LocalFileError(
                f"{what} {path}: the disk is full ({_reason(exc)}). Free space, {_AGAIN}"
            ) from exc
        raise LocalFileError(f"{what} {path} cannot be written ({_reason(exc)}). {fix}") from exc
    return path


def check_writable_file(file: str | Path, what: str, fix: str) -> Path:
    """Check that ``file`` can be written: its folder (see above) and, if it exists, the file itself.

    Raises:
        LocalFileError: the file or its folder cannot be written.
    """
    path = Path(file)
    check_writable_folder(path.parent, f"{what} {path}: its folder", fix)
    if path.exists():
        try:
            with path.open("r+b"):
                pass
        except OSError as exc:
            raise LocalFileError(f"{what} {path} cannot be written ({_reason(exc)}). {fix}") from exc
    return path


def check_local_files(out_dir: str | Path, ledger_path: str | Path) -> None:
    """Check, before anything is sent, that the night can write its output folder and its ledger.

    Raises:
        LocalFileError: one of them cannot be written (the message names which, and what to do).
    """
    check_writable_folder(out_dir, "The output folder", OUT_DIR_FIX)
    check_writable_file(ledger_path, "The run ledger", LEDGER_FIX)


def _disk_full(exc: BaseException) -> bool:
    # Libraries that write for us (polars, SQLite) report a full disk in their own exception types.
    if isinstance(exc, OSError) and exc.errno in _FULL:
        return True
    text = str(exc)
    return any(sign in text for sign in ("No space left on device", "Disk quota exceeded", "disk is full"))


def explain_local_failure(exc: BaseException, *, out_dir: str | Path, ledger_path: str | Path) -> str | None:
    """One line for a local file failure met during a night (disk full, read-only, ledger), else None."""
    if isinstance(exc, LocalFileError):
        return str(exc)
    if _disk_full(exc):
        if isinstance(exc, sqlite3.Error):
            where = f"the run ledger {ledger_path}"
        elif isinstance(exc, OSError) and exc.filename:
            where = str(exc.filename)
        else:
            where = f"the night's files (output folder {out_dir}, run ledger {ledger_path})"
        return f"The disk is full: could not write {where} ({exc}). Free space, {_AGAIN}"
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc)
        if "readonly" in text or "unable to open" in text or "disk I/O" in text:
            return f"The run ledger {ledger_path} cannot be written ({text}). {LEDGER_FIX}"
        return None
    if isinstance(exc, OSError) and exc.filename and exc.errno in _UNWRITABLE:
        return (
            f"Could not write {exc.filename} ({_reason(exc)}). Make it writable or choose another output "
            "folder or ledger (--out, --ledger)."
        )
    return None
