"""What the night's summary and its markdown tell a clerk about rejected rows and what left the export."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from ar_sync.night_summary import RejectedInput
from ar_sync.rejections import rejection_summary
from ar_sync.results import Origin, RowOutcome, Stage, result_rows
from ar_sync.summaries import OPEN_INVOICE_SCHEMA, aging, build_night_summary, stage_counts, summary_markdown
from tests.engine.pictures import customer_line, export, invoice_line

AS_OF = date(2026, 11, 25)


def test_the_summary_names_the_rejections_their_top_reasons_the_report_and_what_left_the_export(
    tmp_path: Path,
) -> None:
    erp = export(
        tmp_path,
        [customer_line("C1"), "C2,C2 Traders,Asha Rao,0000000000,,,,Maharashtra,400001\n"],
        [
            invoice_line("INV-1", "C1", base='"4053,14"'),
            invoice_line("INV-2", "C1", base='"1,0,0"'),
            invoice_line("INV-3", "C1", base='"99,5"'),
            invoice_line("INV-4", "C2"),
        ],
    )
    rejected = RejectedInput.of(rejection_summary(erp), "out/rejected_rows.csv")
    results = pl.concat(
        [
            result_rows(Stage.INVOICES_CANCEL, ["INV-7", "INV-8"]),
            result_rows(Stage.CUSTOMERS_DEACTIVATE, ["C9"]),
            result_rows(Stage.CUSTOMER_FIELDS_CLEAR, ["C1:gstin"]),
            result_rows(
                Stage.INVOICE_FIELDS_CLEAR,
                ["INV/2026:27/1:po_number"],
                outcome=RowOutcome.FAILURE,
                origin=Origin.ALREADY_PRESENT,
                reasons=["cannot clear: EnKash refused to clear it (x); clear it on the EnKash portal"],
            ),
        ]
    )
    open_invoices = pl.DataFrame(schema=OPEN_INVOICE_SCHEMA)

    summary = build_night_summary(results, open_invoices, AS_OF, seller_id="CEKSANDBX1", rejected=rejected)
    markdown = summary_markdown(summary, stage_counts(results), aging(open_invoices, AS_OF), pl.DataFrame())

    assert (summary.customers_rejected, summary.invoices_rejected) == (1, 4)
    assert [(r.reason.split(":")[0], r.records) for r in summary.top_rejection_reasons][:2] == [
        ("invoices base_amount", 2),  # decimal comma: INV-1 and INV-3
        ("customers mobile", 1),
    ]
    assert (summary.invoices_cancelled, summary.customers_deactivated, summary.customer_fields_cleared) == (
        2,
        1,
        1,
    )
    assert summary.fields_not_cleared == 1
    assert (summary.uncleared_fields[0].record, summary.uncleared_fields[0].field) == (
        "INV/2026:27/1",
        "po_number",
    )
    assert (
        "**Rejected input rows:** 1 customers, 4 invoices (every reason in `out/rejected_rows.csv`)"
        in markdown
    )
    assert "| invoices base_amount: decimal comma" in markdown
    assert "**Left the export:** 2 invoices cancelled, 1 customers deactivated" in markdown
    assert "**Emptied in the ERP:** 1 fields cleared, 1 cannot be cleared" in markdown
    assert "## Needs attention" in markdown and "INV/2026:27/1 po_number" in markdown


def test_a_dry_run_summary_shows_what_each_stage_would_send() -> None:
    open_invoices = pl.DataFrame(schema=OPEN_INVOICE_SCHEMA)
    results = pl.DataFrame(schema=result_rows(Stage.INVOICES_UPLOAD, []).schema)
    summary = build_night_summary(
        results,
        open_invoices,
        AS_OF,
        seller_id="CEKSANDBX1",
        dry_run=True,
        planned={"invoices_cancel": 1, "invoices_upload": 3},
    )
    markdown = summary_markdown(summary, stage_counts(results), aging(open_invoices, AS_OF), pl.DataFrame())
    assert "## Dry run: what a real run would send" in markdown
    assert "| invoices_upload | 3 |" in markdown
