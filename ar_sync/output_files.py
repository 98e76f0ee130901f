"""The files a night leaves in ``out_dir``, named in one place."""

from __future__ import annotations

from typing import Final

#: The night's summary (``NightSummary``), JSON.
SUMMARY_FILE: Final = "summary.json"
#: One result row per record per stage of the night (``results.RESULT_SCHEMA``), Parquet.
BULK_RESULTS_FILE: Final = "bulk_results.parquet"
#: One row per ERP record that input validation rejected, CSV.
REJECTED_ROWS_FILE: Final = "rejected_rows.csv"
