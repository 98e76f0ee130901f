"""The parts of the night's markdown artifact that point a reader at the files: rejected rows and their
reasons, the night's files, and the note a night leaves when it stopped on contract drift.

The numbers themselves are :func:`ar_sync.summaries.summary_markdown`; these sections follow them.
Links are ``file://`` URIs of the folder the night wrote into (browsers do not follow them from a web
page: the text says to copy them).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

import polars as pl

from ar_sync.rejections import SEPARATOR


def _cell(text: str) -> str:
    # Inside a markdown table a pipe would end the cell; ERP values can hold one.
    return text.replace("|", "\\|")


def top_rejection_reasons(rejected: pl.DataFrame, top: int = 5) -> pl.DataFrame:
    """The ``top`` most frequent reasons in a rejected-rows report (``entity``, ``reason``, ``rows``).

    Each record's ``reason`` cell lists every problem (``column: reason``, joined by ``|``); a record
    counts once per distinct reason it has.
    """
    return (
        rejected.select("entity", "file", "row", pl.col("reason").str.split(SEPARATOR).alias("reason"))
        .explode("reason")
        .group_by("entity", "reason")
        .agg(pl.struct("file", "row").n_unique().alias("rows"))
        .sort(["rows", "entity", "reason"], descending=[True, False, False])
        .head(top)
    )


def rejected_section(rejected: pl.DataFrame, report: Path, top: int = 5) -> str:
    """How many input rows were left out, the most frequent reasons, and where the full list is."""
    location = f"[{report.name}]({report.resolve().as_uri()}) in `{report.resolve().parent}`"
    if rejected.is_empty():
        return f"## Rejected input rows\n\nNone: every ERP row passed validation ({location}).\n"
    per_entity = rejected.group_by("entity").agg(pl.struct("file", "row").n_unique().alias("rows"))
    counts = dict(zip(per_entity["entity"].to_list(), per_entity["rows"].to_list(), strict=True))
    total = sum(counts.values())
    lines = [
        "## Rejected input rows",
        "",
        f"**{total} rows rejected** ({', '.join(f'{n} {e}' for e, n in sorted(counts.items()))}), "
        f"not sent to EnKash. Every row with its file, row number, key and reason: {location}.",
        "",
        "| Entity | Reason | Rows |",
        "|---|---|---:|",
        *(
            f"| {r['entity']} | {_cell(r['reason'])} | {r['rows']} |"
            for r in top_rejection_reasons(rejected, top).to_dicts()
        ),
        "",
    ]
    return "\n".join(lines)


def files_section(folder: Path, names: Iterable[str]) -> str:
    """Links to the night's files in ``folder`` that exist (the run report first, as given)."""
    present = [folder / name for name in names if (folder / name).is_file()]
    lines = ["## The night's files", ""]
    lines += [f"- [{path.name}]({path.resolve().as_uri()})" for path in present]
    lines += [
        "",
        f"All in `{folder.resolve()}`. These are `file://` links: copy one into the browser's address bar.",
        "",
    ]
    return "\n".join(lines)


def stopped_night_markdown(seller_id: str, night: date, reason: str, *, drift: bool) -> str:
    """The markdown a night leaves when it stopped before its summary: why, and what to do."""
    lines = [
        f"# Accounts receivable of {seller_id} as of {night.isoformat()}: the night stopped",
        "",
        f"**Why:** {reason}",
        "",
    ]
    if drift:
        lines += [
            "## Contract drift",
            "",
            "EnKash answered otherwise than the contract profile says, so the night stopped rather than "
            "end with records missing. Run `enkash-ar doctor` (or the `doctor` deployment) against this "
            "EnKash: it names the setting that differs and writes a profile that fits. Then run the "
            "night again: what was already sent is not sent twice.",
            "",
        ]
    else:
        lines += ["Fix what the reason says, then run the night again: what was sent is not sent twice.", ""]
    return "\n".join(lines)
