"""Files written whole through a private partial file (``ar_sync.output_files``)."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path
from typing import Any

import pytest

from ar_sync.output_files import STALE_PARTIAL, private_partial, write_replacing


def test_a_partial_file_left_by_a_dead_writer_is_removed_and_a_live_writers_is_not(tmp_path: Path) -> None:
    target = tmp_path / "bulk_results.parquet"
    dead = private_partial(target)
    dead.write_text("half")
    an_hour_ago = time.time() - STALE_PARTIAL.total_seconds() - 60
    os.utime(dead, (an_hour_ago, an_hour_ago))
    live = private_partial(target)  # another writer, writing now
    live.write_text("writing")
    other = private_partial(tmp_path / "summary.json")  # another file's: not this target's to judge
    other.write_text("half")
    os.utime(other, (an_hour_ago, an_hour_ago))

    write_replacing(target, lambda partial: partial.write_text("whole"))

    assert target.read_text() == "whole"
    assert not dead.exists()
    assert live.exists() and other.exists()


def test_a_failed_write_leaves_the_old_file_and_no_partial(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("last night's")

    def fail(partial: Path) -> None:
        partial.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_replacing(target, fail)

    assert target.read_text() == "last night's"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_a_file_reaches_the_disk_before_its_new_name_and_the_name_before_the_writer_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A power cut cannot be staged here: what is checked is the order of the syncs that survive one.
    target = tmp_path / "payments.csv"
    target.write_text("last night's")
    synced: list[tuple[str, str]] = []
    real_fsync = os.fsync

    def fsync(handle: int) -> None:
        synced.append((os.readlink(f"/proc/self/fd/{handle}"), target.read_text()))
        real_fsync(handle)

    monkeypatch.setattr(os, "fsync", fsync)
    write_replacing(target, lambda partial: partial.write_text("tonight's"))

    (file, seen_then), (folder, seen_after) = synced
    assert Path(file).name.startswith(".payments.csv.") and seen_then == "last night's"
    assert Path(folder) == tmp_path and seen_after == "tonight's"
    assert target.read_text() == "tonight's"


def test_a_folder_the_system_will_not_sync_still_gets_its_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A write-only drop folder, a network share: the folder cannot be opened or synced (this process
    # runs as root here, so the refusal is staged at the call that would meet it).
    real_open = os.open

    def refusing_open(path: Any, flags: int, *args: Any) -> int:
        if flags & os.O_DIRECTORY:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refusing_open)
    target = write_replacing(tmp_path / "payments.csv", lambda partial: partial.write_text("tonight's"))

    assert target.read_text() == "tonight's"
    assert [p.name for p in tmp_path.iterdir()] == ["payments.csv"]
