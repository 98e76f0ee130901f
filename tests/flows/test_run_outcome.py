"""The one line a stage logs with its counts, and the night's headline line."""

from __future__ import annotations

from datetime import date

from ar_sync.night_summary import NightSummary
from ar_sync.results import Stage
from flows.options import StageReport
from flows.run_outcome import night_line, stage_line


def test_a_stage_line_holds_every_count_of_each_part_and_the_rejected_rows() -> None:
    reports = [
        StageReport(stage=Stage.INVOICES_UPLOAD, planned=30, sent=27, already_present=2, failed=1),
        StageReport(stage=Stage.INVOICES_UPDATE, planned=1, sent=1),
    ]

    assert stage_line("upload-invoices", reports, rejected=4) == (
        "upload-invoices: invoices_upload planned 30, sent 27, already present 2, failed 1; "
        "invoices_update planned 1, sent 1, already present 0, failed 0; rejected input rows 4"
    )
    dry = [StageReport(stage=Stage.REMINDERS, planned=5, dry_run=True)]
    assert stage_line("setup-reminders", dry) == (
        "setup-reminders: reminders planned 5, sent 0, already present 0, failed 0 (dry run: nothing sent)"
    )


def test_the_night_line_holds_the_headline_counts_and_what_is_owed() -> None:
    summary = NightSummary(
        seller_id="CEKSANDBX1",
        as_of=date(2026, 11, 24),
        invoices_uploaded=29,
        invoices_rejected=1,
        open_invoices=29,
        open_amount=2793625.49,
    )

    line = night_line(summary)

    assert line.startswith("Night 2026-11-24 of CEKSANDBX1: customers_created 0, ")
    assert "invoices_uploaded 29" in line and "invoices_rejected 1" in line
    assert line.endswith("open 29 invoices, 2,793,625.49 INR")
