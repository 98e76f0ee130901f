"""A stage's report counts its results the same from their rows as from batch-by-batch tallies."""

from __future__ import annotations

import polars as pl

from ar_sync.results import Origin, RowOutcome, Stage, result_rows
from flows.options import stage_report, tally


def test_a_stage_counted_batch_by_batch_reports_what_its_rows_would() -> None:
    dispatch, upload = Stage.INVOICES_DISPATCH, Stage.INVOICES_UPLOAD
    results = pl.concat(
        [
            result_rows(dispatch, [f"I{n}" for n in range(5)]),
            result_rows(dispatch, ["I5", "I6"], origin=Origin.ALREADY_PRESENT),
            result_rows(dispatch, ["I7"], outcome=RowOutcome.FAILURE, reasons=["refused"]),
            result_rows(upload, ["I8"]),
        ]
    )
    # Batches of three rows each, tallied as a stage of many batches keeps them (the empty one too).
    tallies = [tally(results.slice(start, 3)) for start in range(0, results.height + 3, 3)]

    whole = stage_report(dispatch, results, 8, False)
    assert stage_report(dispatch, pl.concat(tallies), 8, False) == whole
    assert (whole.sent, whole.already_present, whole.failed) == (5, 2, 1)
    assert stage_report(upload, pl.concat(tallies), 1, False).sent == 1
