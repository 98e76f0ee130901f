"""Validated ERP exports kept as files: read back exactly, keyed by what was validated, pruned when old."""

from __future__ import annotations

import os
import time
from decimal import Decimal
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from ar_sync import validated_exports
from ar_sync.validated_exports import (
    entry_folder,
    file_digest,
    prune,
    read_validated,
    save_validated,
    validation_key,
)
from tests.engine.pictures import customer_line, export, invoice_line

CEILING = Decimal("100000000.00")


def _files(folder: Path) -> list[str | None]:
    return [str(folder / "customers.csv"), str(folder / "invoices.csv")]


def test_a_validated_export_reads_back_exactly_as_it_was_validated(tmp_path: Path) -> None:
    customers, invoices = export(
        tmp_path / "erp",
        [customer_line("C1", gstin="27AAPFU0939F1ZV"), customer_line("C2", email="not-an-email")],
        [invoice_line("INV-1", "C1", base="4053.14", cgst="10.01"), invoice_line("INV-2", "C2")],
    )
    assert customers.rejected_rows == 1 and invoices.rejected_rows == 1

    folder = save_validated(entry_folder(tmp_path / "cache", "k1"), [customers, invoices])
    back = read_validated(folder)

    assert back is not None and len(back) == 2
    for original, kept in zip([customers, invoices], back, strict=True):
        assert (kept.entity, kept.file, kept.total_rows, kept.rejected_rows) == (
            original.entity,
            original.file,
            original.total_rows,
            original.rejected_rows,
        )
        # Amounts stay exact decimals, dates stay dates: the same frames, not a re-typed copy.
        assert_frame_equal(kept.valid, original.valid)
        assert_frame_equal(kept.rejected, original.rejected)
        assert_frame_equal(kept.problems, original.problems)


def test_a_cleared_or_half_written_folder_reads_as_missing(tmp_path: Path) -> None:
    customers, invoices = export(tmp_path / "erp", [customer_line("C1")], [invoice_line("INV-1", "C1")])
    folder = save_validated(entry_folder(tmp_path / "cache", "k1"), [customers, invoices])
    (folder / "invoices.valid.parquet").unlink()

    assert read_validated(folder) is None
    assert read_validated(tmp_path / "cache" / "inputs" / "never-written") is None


def test_a_stage_reads_only_the_columns_it_names_of_the_valid_rows(tmp_path: Path) -> None:
    customers, invoices = export(
        tmp_path / "erp",
        [customer_line("C1"), customer_line("C2", email="not-an-email")],
        [invoice_line("INV-1", "C1", po="PO-9"), invoice_line("INV-2", "C2")],
    )
    folder = save_validated(entry_folder(tmp_path / "cache", "k1"), [customers, invoices])
    # A column the kept rows do not have is left out, as it is from the whole frame.
    wanted = ("invoice_number", "customer_key", "no_such_column")
    back = read_validated(folder, valid_columns={"invoices": wanted})

    assert back is not None
    kept_customers, kept_invoices = back
    assert "no_such_column" not in invoices.valid.columns
    assert_frame_equal(kept_invoices.valid, invoices.valid.select("invoice_number", "customer_key"))
    # The other entity, the rejected rows and the problems are read whole.
    assert_frame_equal(kept_customers.valid, customers.valid)
    assert_frame_equal(kept_invoices.rejected, invoices.rejected)
    assert_frame_equal(kept_invoices.problems, invoices.problems)
    assert (kept_invoices.total_rows, kept_invoices.rejected_rows) == (
        invoices.total_rows,
        invoices.rejected_rows,
    )


def test_a_damaged_kept_file_reads_as_missing_so_the_export_is_validated_again(tmp_path: Path) -> None:
    customers, invoices = export(tmp_path / "erp", [customer_line("C1")], [invoice_line("INV-1", "C1")])
    folder = save_validated(entry_folder(tmp_path / "cache", "k1"), [customers, invoices])
    (folder / "invoices.valid.parquet").write_bytes(b"PAR1 not a parquet file")

    assert read_validated(folder) is None
    assert read_validated(folder, valid_columns={"invoices": ("invoice_number",)}) is None


def test_the_key_follows_content_name_mapping_and_ceiling_never_the_modification_time(tmp_path: Path) -> None:
    export(tmp_path / "erp", [customer_line("C1")], [invoice_line("INV-1", "C1")])
    files = _files(tmp_path / "erp")
    key = validation_key(files, None, None, CEILING)

    os.utime(files[0] or "", (time.time() + 60, time.time() + 60))
    assert validation_key(files, None, None, CEILING) == key
    assert validation_key(files, {"Cust Code": "customer_ref"}, None, CEILING) != key
    assert validation_key(files, None, None, Decimal("5000.00")) != key
    export(tmp_path / "copy", [customer_line("C1")], [invoice_line("INV-1", "C1")])
    assert validation_key(_files(tmp_path / "copy"), None, None, CEILING) != key  # the report names the file
    export(tmp_path / "erp", [customer_line("C1")], [invoice_line("INV-1", "C1", base="1000.01")])
    assert validation_key(files, None, None, CEILING) != key
    assert validation_key([str(tmp_path / "missing.csv"), None], None, None, CEILING) is None


def test_old_entries_are_pruned_and_recent_ones_kept(tmp_path: Path) -> None:
    customers, _ = export(tmp_path / "erp", [customer_line("C1")], [])
    old = save_validated(entry_folder(tmp_path / "cache", "old"), [customers])
    recent = save_validated(entry_folder(tmp_path / "cache", "recent"), [customers])
    eight_days_ago = time.time() - 8 * 86400
    os.utime(old, (eight_days_ago, eight_days_ago))

    assert prune(tmp_path / "cache") == [old]
    assert not old.exists() and read_validated(recent) is not None


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    real = validated_exports._read_digest

    def read(path: str | Path) -> str:
        reads.append(str(path))
        return real(path)

    monkeypatch.setattr(validated_exports, "_read_digest", read)
    return reads


def test_an_unchanged_file_is_read_once_and_a_changed_one_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = _counting_reads(monkeypatch)
    # A file's change time cannot be set back: trust files however recent, for this test only.
    monkeypatch.setattr(validated_exports, "RACY_SECONDS", -60.0)
    path = tmp_path / "invoices.csv"
    path.write_text("invoice_number\nINV-1\n")
    an_hour_ago = time.time() - 3600
    os.utime(path, (an_hour_ago, an_hour_ago))

    first = [file_digest(path) for _ in range(3)]
    path.write_text("invoice_number\nINV-2\n")  # same size, new content
    os.utime(path, (an_hour_ago, an_hour_ago))  # and the old modification time back
    second = file_digest(path)

    assert first == [first[0]] * 3 and second != first[0]
    assert len(reads) == 2


def test_a_file_changed_just_now_is_read_every_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Within the file system's timestamp granularity a rewrite could keep size and times: not trusted.
    reads = _counting_reads(monkeypatch)
    path = tmp_path / "customers.csv"
    path.write_text("customer_ref\nC1\n")

    assert file_digest(path) == file_digest(path)
    assert len(reads) == 2
