"""The fleet's summary: a row per seller from its summary.json and run, and the fleet's totals."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl

from ar_sync.fleet_summary import (
    NOT_STARTED,
    SellerOutcome,
    failure_line,
    fleet_markdown,
    fleet_table,
    fleet_totals,
    read_night_summary,
    write_fleet_files,
)
from ar_sync.night_summary import InvoiceTwin, NightSummary

NIGHT = date(2026, 11, 24)


def summary(seller_id: str, **fields: object) -> NightSummary:
    return NightSummary.model_validate({"seller_id": seller_id, "as_of": NIGHT, **fields})


def outcomes() -> list[SellerOutcome]:
    twin = InvoiceTwin(invoice_number="INV-7", invoice_id="I2", keeper_id="I1", reason="both dispatched")
    return [
        SellerOutcome(
            "CEKACME001",
            "COMPLETED",
            flow_run="http://ui/runs/flow-run/1",
            summary=summary(
                "CEKACME001",
                invoices_uploaded=5,
                invoices_dispatched=5,
                open_invoices=5,
                open_amount=1000.0,
                dso=30.0,
                customers_rejected=1,
            ),
        ),
        SellerOutcome(
            "CEKBETA002",
            "COMPLETED",
            flow_run="2",
            summary=summary(
                "CEKBETA002",
                invoices_uploaded=3,
                open_invoices=4,
                open_amount=3000.0,
                dso=60.0,
                invoice_twins=[twin],
            ),
        ),
        SellerOutcome("CEKGAMA003", "FAILED", message="invoices.csv: required column base_amount missing"),
        SellerOutcome("CEKDLTA004", NOT_STARTED, message="seller CEKDLTA004: ERP file missing: x.csv"),
    ]


def test_a_row_per_seller_and_the_fleets_totals() -> None:
    table = fleet_table(outcomes())
    totals = fleet_totals(table)

    assert table["seller_id"].to_list() == ["CEKACME001", "CEKBETA002", "CEKGAMA003", "CEKDLTA004"]
    assert table["status"].to_list() == ["COMPLETED", "COMPLETED", "FAILED", NOT_STARTED]
    assert table["open_amount"].to_list() == [1000.0, 3000.0, None, None]
    assert table["twins"].to_list() == [0, 1, 0, 0]
    assert "INV-7" in table["warnings"][1]
    assert totals["sellers"] == 4 and totals["completed"] == 2 and totals["failed"] == 2
    assert totals["failed_sellers"] == ["CEKGAMA003", "CEKDLTA004"]
    assert totals["invoices_uploaded"] == 8 and totals["open_invoices"] == 9 and totals["rows_rejected"] == 1
    assert totals["open_amount"] == 4000.0
    # 1000 at 30 days is 3000 of sales, 3000 at 60 days is 4500: 4000 / 7500 * 90 days.
    assert totals["dso"] == 48.0


def test_the_failure_line_names_every_failed_seller_and_why() -> None:
    line = failure_line(fleet_table(outcomes()))
    assert line == (
        "2 of 4 sellers failed: CEKGAMA003 (failed: invoices.csv: required column base_amount missing); "
        "CEKDLTA004 (not_started: seller CEKDLTA004: ERP file missing: x.csv). "
        "The other sellers' nights stand."
    )
    assert failure_line(fleet_table(outcomes()[:2])) is None


def test_files_and_markdown(tmp_path: Path) -> None:
    table = fleet_table(outcomes())
    totals = fleet_totals(table)
    path = write_fleet_files(tmp_path / "fleet", NIGHT, table, totals)

    document = json.loads(path.read_text())
    assert document["night"] == "2026-11-24" and document["totals"] == totals
    assert [s["seller_id"] for s in document["sellers"]] == table["seller_id"].to_list()
    assert pl.read_parquet(tmp_path / "fleet" / "fleet_summary.parquet").equals(table)
    assert pl.read_csv(tmp_path / "fleet" / "fleet_summary.csv").height == 4
    markdown = fleet_markdown(NIGHT, table, totals)
    assert "**2 of 4 sellers completed**" in markdown
    assert "- **CEKGAMA003** (FAILED): invoices.csv: required column base_amount missing" in markdown
    assert "[run](http://ui/runs/flow-run/1)" in markdown


def test_only_this_sellers_summary_of_this_night_counts(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text(summary("CEKACME001", open_invoices=2).to_json())
    assert read_night_summary(tmp_path, "CEKACME001", NIGHT) is not None
    assert read_night_summary(tmp_path, "CEKACME001", date(2026, 11, 25)) is None  # yesterday's file
    assert read_night_summary(tmp_path, "CEKBETA002", NIGHT) is None
    assert read_night_summary(tmp_path / "nothing", "CEKACME001", NIGHT) is None
