"""CSV reports are safe to open in a spreadsheet: no cell of ours runs as a formula."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest

from ar_sync.csv_safety import escape_formula, escape_formula_expr, looks_like_formula, write_safe_csv


@pytest.mark.parametrize(
    ("cell", "escaped"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://evil.example","click")', '\'=HYPERLINK("http://evil.example","click")'),
        ("+91 98765 43210", "'+91 98765 43210"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Mehta = Sons", "Mehta = Sons"),
        ("", ""),
        (None, None),
    ],
)
def test_formula_cells_get_a_leading_quote_and_others_stay(cell: str | None, escaped: str | None) -> None:
    assert escape_formula(cell) == escaped
    assert pl.select(escape_formula_expr(pl.lit(cell, dtype=pl.String))).item() == escaped
    assert looks_like_formula(cell) == (cell != escaped)


def test_written_csv_escapes_text_but_not_numbers(tmp_path: Path) -> None:
    frame = pl.DataFrame({"name": ["=1+1", "Acme"], "amount": [-5, 10]})
    path = write_safe_csv(frame, tmp_path / "out" / "report.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["name", "amount"], ["'=1+1", "-5"], ["Acme", "10"]]
    assert not list((tmp_path / "out").glob(".*partial"))  # nothing half-written left behind
