"""Validation runs on batches of rows: the same answer, row for row, as on the whole file at once."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ar_sync import erp_input
from ar_sync.erp_input import LoadResult, load_customers, load_invoices
from sandbox.sample_data import generate_erp_files


def _load(folder: Path) -> tuple[LoadResult, LoadResult]:
    customers = load_customers(folder / "customers.csv")
    return customers, load_invoices(folder / "invoices.csv", customers=customers)


def _same(a: LoadResult, b: LoadResult) -> None:
    assert (a.total_rows, a.rejected_rows) == (b.total_rows, b.rejected_rows)
    assert_frame_equal(a.valid, b.valid)
    assert_frame_equal(a.problems, b.problems)
    assert a.rejected.equals(b.rejected)


def test_batches_of_three_rows_give_the_whole_files_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sample export with its bad rows, plus an invoice number repeated far apart (rows 2 and 40:
    # other batches) and in another case with spaces, which the duplicate check must still tie together.
    generate_erp_files(tmp_path, as_of=date(2026, 11, 24), customers=30, invoices=120, seed=3)
    invoices = pl.read_csv(tmp_path / "invoices.csv", infer_schema=False)
    first = invoices.get_column("invoice_number")[0]
    invoices = invoices.with_columns(
        pl.when(pl.int_range(pl.len()) == 38)
        .then(pl.lit(f"  {first.lower()} "))
        .otherwise(pl.col("invoice_number"))
        .alias("invoice_number")
    )
    invoices.write_csv(tmp_path / "invoices.csv")

    whole = _load(tmp_path)
    monkeypatch.setattr(erp_input, "VALIDATION_BATCH_ROWS", 3)
    batched = _load(tmp_path)

    for a, b in zip(whole, batched, strict=True):
        _same(a, b)
    customers, loaded = batched
    assert customers.rejected_rows > 0 and loaded.rejected_rows > 0
    duplicate = loaded.problems.filter(pl.col("reason").str.starts_with("duplicate"))
    assert {2, 40} <= set(duplicate.get_column("row").to_list())
    assert duplicate.filter(pl.col("row") == 40).get_column("reason").item().startswith("duplicate: rows 2 ")


def test_a_file_of_only_a_header_still_gives_empty_frames(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text("customer_ref,legal_name,contact_name,mobile\n")
    result = load_customers(tmp_path / "customers.csv")
    assert (result.total_rows, result.valid.height, result.problems.height) == (0, 0, 0)
    assert "customer_ref" in result.valid.columns
