"""The rejected-rows report: one line per rejected record, every reason, safe to open in a spreadsheet.

The loader finds *problems*: one per rule a record breaks (``PROBLEM_SCHEMA``; ``rule`` is the
generic reason, ``reason`` adds what is specific to the row, such as which rows share a duplicate
key). The report a clerk reads has one line per rejected *record* (``REJECTED_COLUMNS``):

- ``entity``, ``file``, ``row``: which record, ``row`` numbered as a spreadsheet shows it;
- ``key``: its invoice_number or customer_ref, exactly as written in the file;
- ``column``: the column(s) at fault, ``reason``: every reason, each after its column's name, and
  ``value``: the cell(s) as written, all three lists in the same order, joined by :data:`SEPARATOR`.

The column names ``column``, ``reason`` and ``value`` (singular) are those of the first release's
per-cell report, so readers of that format keep working; a cell now holds every problem of the record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

import polars as pl

from ar_sync.csv_safety import write_safe_csv

if TYPE_CHECKING:
    from ar_sync.erp_input import LoadResult

#: Between the items of one cell (columns, reasons, values of one record).
SEPARATOR: Final = " | "
#: Shown in ``value`` for a cell that was empty (a missing required value).
EMPTY_CELL: Final = "(empty)"
PROBLEM_SCHEMA: Final = pl.Schema(
    {
        "entity": pl.String,
        "file": pl.String,
        "row": pl.Int64,
        "key": pl.String,
        "column": pl.String,
        "rule": pl.String,
        "reason": pl.String,
        "value": pl.String,
    }
)
REJECTED_COLUMNS: Final = ("entity", "file", "row", "key", "column", "reason", "value")
REJECTED_SCHEMA: Final = pl.Schema({name: PROBLEM_SCHEMA[name] for name in REJECTED_COLUMNS})


@dataclass(frozen=True)
class RejectionSummary:
    """What the night's summary says about rejected input, without reading the report again.

    ``rejected``: rejected records per entity (``{"customers": 2, "invoices": 7}``, zeros kept);
    ``top_reasons``: ``(reason, records)`` pairs, most frequent first, each reason prefixed by its
    entity and column (``"invoices base_amount: decimal comma: ..."``).
    """

    rejected: dict[str, int]
    top_reasons: list[tuple[str, int]]


def records(problems: pl.DataFrame) -> pl.DataFrame:
    """One report line per rejected record (``REJECTED_SCHEMA``) from its problems, in row order.

    ``problems`` must list each record's problems in the order they should be read (column order).
    """
    return (
        problems.group_by("entity", "file", "row", maintain_order=True)
        .agg(
            pl.col("key").first(),
            pl.col("column").str.join(SEPARATOR),
            pl.format("{}: {}", "column", "reason").str.join(SEPARATOR).alias("reason"),
            pl.col("value").fill_null(EMPTY_CELL).str.join(SEPARATOR),
        )
        .sort("entity", "file", "row", maintain_order=True)
        .select(REJECTED_COLUMNS)
        .cast(REJECTED_SCHEMA)
    )


def write_rejected(rejected: Iterable[pl.DataFrame], path: str | Path) -> Path:
    """Write the rejected-rows report (CSV, ``REJECTED_COLUMNS``), header even when empty.

    Every text cell that a spreadsheet would run as a formula is escaped (:mod:`ar_sync.csv_safety`),
    and the file replaces the previous night's in one step.
    """
    frames = [frame.select(REJECTED_COLUMNS).cast(REJECTED_SCHEMA) for frame in rejected]
    report = pl.concat([pl.DataFrame(schema=REJECTED_SCHEMA), *frames])
    return write_safe_csv(report.sort("entity", "file", "row", maintain_order=True), path)


def rejection_summary(results: Iterable[LoadResult], top: int = 5) -> RejectionSummary:
    """Rejected records per entity and the ``top`` most frequent reasons, from the loaded files.

    Example:
        >>> summary = rejection_summary(inputs.results())  # doctest: +SKIP
        >>> summary.rejected, summary.top_reasons[:1]  # doctest: +SKIP
        ({'customers': 1, 'invoices': 4}, [('invoices base_amount: decimal comma: ...', 2)])
    """
    loaded = list(results)
    rejected: dict[str, int] = {}
    for result in loaded:
        rejected[result.entity] = rejected.get(result.entity, 0) + result.rejected_rows
    problems = pl.concat([pl.DataFrame(schema=PROBLEM_SCHEMA), *(r.problems for r in loaded)])
    reasons = (
        problems.group_by(pl.format("{} {}: {}", "entity", "column", "rule").alias("reason"))
        .agg(pl.struct("file", "row").n_unique().alias("records"))
        .sort(["records", "reason"], descending=[True, False])
        .head(top)
    )
    return RejectionSummary(rejected=rejected, top_reasons=list(reasons.iter_rows()))
