"""The night's markdown beyond the numbers: rejected rows with their top reasons and where the file is,
links to the night's files, and the note of a night that stopped (naming contract drift)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from ar_sync.night_markdown import (
    files_section,
    rejected_section,
    stopped_night_markdown,
    top_rejection_reasons,
)
from ar_sync.rejections import REJECTED_SCHEMA


def _rejected(*rows: tuple[str, int, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "entity": e,
                "file": f"{e}.csv",
                "row": r,
                "key": f"K{r}",
                "column": "",
                "reason": why,
                "value": "",
            }
            for e, r, why in rows
        ],
        schema=REJECTED_SCHEMA,
    )


REJECTED = _rejected(
    ("invoices", 2, "base_amount: must be at least 0.1"),
    ("invoices", 3, "base_amount: must be at least 0.1 | due_date: not a date"),
    ("invoices", 4, "due_date: not a date"),
    ("invoices", 5, "base_amount: must be at least 0.1"),
    ("customers", 2, "mobile: not a mobile number | x"),
)


def test_top_reasons_count_each_record_once_per_reason() -> None:
    top = top_rejection_reasons(REJECTED, top=3)

    assert top.rows() == [
        ("invoices", "base_amount: must be at least 0.1", 3),
        ("invoices", "due_date: not a date", 2),
        ("customers", "mobile: not a mobile number", 1),
    ]


def test_the_rejected_section_names_the_count_the_reasons_and_the_file(tmp_path: Path) -> None:
    report = tmp_path / "out" / "rejected_rows.csv"

    text = rejected_section(REJECTED, report)

    assert "**5 rows rejected** (1 customers, 4 invoices), not sent to EnKash" in text
    assert f"[rejected_rows.csv]({report.resolve().as_uri()}) in `{report.resolve().parent}`" in text
    assert "| invoices | base_amount: must be at least 0.1 | 3 |" in text
    # A reason holding a pipe stays inside its table cell.
    pipe = rejected_section(_rejected(("customers", 2, "legal_name: bad a\\|b")), report)
    assert "| customers | legal_name: bad a\\\\|b | 1 |" in pipe


def test_a_night_without_rejected_rows_says_so(tmp_path: Path) -> None:
    text = rejected_section(pl.DataFrame(schema=REJECTED_SCHEMA), tmp_path / "rejected_rows.csv")

    assert "None: every ERP row passed validation" in text


def test_the_files_section_links_the_files_that_exist(tmp_path: Path) -> None:
    for name in ("ar-report-CEKSANDBX1-2026-11-24.html", "summary.json"):
        (tmp_path / name).write_text("{}")

    text = files_section(
        tmp_path, ["ar-report-CEKSANDBX1-2026-11-24.html", "summary.json", "bulk_results.parquet"]
    )

    assert text.index("ar-report-") < text.index("summary.json")
    assert f"({(tmp_path / 'summary.json').resolve().as_uri()})" in text
    assert "bulk_results.parquet" not in text
    assert f"All in `{tmp_path.resolve()}`" in text and "address bar" in text


def test_a_stopped_night_says_why_and_names_drift_with_what_to_do() -> None:
    night = date(2026, 11, 24)

    drift = stopped_night_markdown("CEKSANDBX1", night, "searchCustomer answered a page", drift=True)
    other = stopped_night_markdown("CEKSANDBX1", night, "The output folder /x cannot be written", drift=False)

    assert drift.startswith("# Accounts receivable of CEKSANDBX1 as of 2026-11-24: the night stopped")
    assert "**Why:** searchCustomer answered a page" in drift
    assert "## Contract drift" in drift and "`enkash-ar doctor`" in drift
    assert "drift" not in other.lower() and "**Why:** The output folder /x cannot be written" in other
