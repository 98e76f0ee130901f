"""The night's own files: checked writable before anything is sent, and their failures (read-only, disk
full, an unusable ledger) told in one line that names the file and what to do."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import polars as pl
import pytest

from ar_sync.local_files import (
    LocalFileError,
    check_local_files,
    explain_local_failure,
)
from tests.read_only import read_only_folder

DEV_FULL = Path("/dev/full")


def test_writable_places_pass_and_a_missing_output_folder_is_created(tmp_path: Path) -> None:
    check_local_files(tmp_path / "new" / "out", tmp_path / "ledger.sqlite3")

    assert (tmp_path / "new" / "out").is_dir()
    assert list((tmp_path / "new" / "out").iterdir()) == []  # the write check leaves nothing behind


def test_a_read_only_output_folder_is_named_with_what_to_do(tmp_path: Path) -> None:
    with read_only_folder(tmp_path / "ro") as folder, pytest.raises(LocalFileError) as failed:
        check_local_files(folder, tmp_path / "ledger.sqlite3")

    message = str(failed.value)
    assert message.startswith(f"The output folder {folder} cannot be written (")
    assert "--out" in message and "out_dir" in message


def test_a_ledger_in_a_read_only_folder_is_named_with_what_to_do(tmp_path: Path) -> None:
    with read_only_folder(tmp_path / "ro") as folder, pytest.raises(LocalFileError) as failed:
        check_local_files(tmp_path / "out", folder / "ledger.sqlite3")

    message = str(failed.value)
    assert message.startswith(f"The run ledger {folder / 'ledger.sqlite3'}: its folder {folder}")
    assert "--ledger" in message and "ledger_path" in message


def test_an_output_folder_below_a_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "report.txt").write_text("not a folder")

    with pytest.raises(LocalFileError) as failed:
        check_local_files(tmp_path / "report.txt" / "out", tmp_path / "ledger.sqlite3")

    assert str(failed.value).startswith(
        f"The output folder {tmp_path / 'report.txt' / 'out'} cannot be written"
    )


def _raised_by(action: object) -> BaseException:
    assert callable(action)
    # Whatever the library raises (OSError, polars' ComputeError) is the point.
    with pytest.raises(Exception) as caught:
        action()
    return caught.value


@pytest.mark.skipif(not DEV_FULL.exists(), reason="no /dev/full on this system")
def test_a_full_disk_is_told_as_such_whoever_did_the_writing(tmp_path: Path) -> None:
    def write_text() -> None:
        with DEV_FULL.open("w") as handle:
            handle.write("x" * 65536)

    def write_parquet() -> None:
        pl.DataFrame({"row": list(range(10_000))}).write_parquet(DEV_FULL)

    where = {"out_dir": tmp_path / "out", "ledger_path": tmp_path / "ledger.sqlite3"}
    for action in (write_text, write_parquet):
        line = explain_local_failure(_raised_by(action), **where)
        assert line is not None and line.startswith("The disk is full: could not write the night's files")
        assert str(tmp_path / "out") in line and "then run the night again" in line
    named = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out" / "summary.json"))
    assert f"could not write {tmp_path / 'out' / 'summary.json'}" in str(
        explain_local_failure(named, **where)
    )
    ledger_full = sqlite3.OperationalError("database or disk is full")
    assert f"could not write the run ledger {tmp_path / 'ledger.sqlite3'}" in str(
        explain_local_failure(ledger_full, **where)
    )


def test_a_ledger_that_turned_read_only_and_other_errors(tmp_path: Path) -> None:
    where = {"out_dir": tmp_path / "out", "ledger_path": tmp_path / "ledger.sqlite3"}

    readonly = explain_local_failure(
        sqlite3.OperationalError("attempt to write a readonly database"), **where
    )
    denied = explain_local_failure(
        PermissionError(errno.EACCES, "Permission denied", "/srv/out/x.csv"), **where
    )

    assert readonly == (
        f"The run ledger {tmp_path / 'ledger.sqlite3'} cannot be written (attempt to write a readonly "
        "database). Make its folder writable or choose another ledger file (--ledger, or the ledger_path "
        "option)."
    )
    assert denied is not None and denied.startswith("Could not write /srv/out/x.csv (Permission denied).")
    assert explain_local_failure(ValueError("a bug"), **where) is None
    assert explain_local_failure(sqlite3.OperationalError("no such table: entries"), **where) is None
