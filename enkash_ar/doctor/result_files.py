"""Doctor's check of the result-file layout, from result files the user already has.

Reading a result file needs an upload, which doctor never makes. A user who made one (in the portal,
or with a two-invoice night) passes its success and failure files (``--result-file``, a URL or a
path; both files of one upload, so that the first row's number shows); downloading them is a read.
The columns' roles are recognised by their names: row number, customer id, invoice id, failing field,
reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import polars as pl

from enkash_ar.bulk_files import XLSX_MAGIC, decode_result_file
from enkash_ar.contract_profile import ContractProfile, ResultFileLayout
from enkash_ar.doctor.report import Finding, Verdict


@dataclass(frozen=True)
class ResultFile:
    """One result file as downloaded or read: where from, and its bytes."""

    source: str
    content: bytes


#: An id column's name (lower case, letters and digits only) -> the result layout member naming it.
_ID_MEMBERS: Final = {"customerid": "customer_id", "invoiceid": "invoice_id"}


def _plain(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _column(columns: Sequence[str], test: Any) -> str | None:
    return next((c for c in columns if test(_plain(c))), None)


def infer_layout(
    files: Sequence[ResultFile], profile: ContractProfile
) -> tuple[ResultFileLayout | None, list[str]]:
    """The result-file layout these files have (members not shown keep the profile's), and notes."""
    notes: list[str] = []
    found: dict[str, Any] = {}
    formats = {"xlsx" if f.content.startswith(XLSX_MAGIC) else "csv" for f in files}
    numbers: list[int] = []
    for file in files:
        frame = decode_result_file(file.content)
        columns = frame.columns
        row = _column(columns, lambda c: "row" in c)
        if row is None:
            notes.append(f"{file.source}: no row number column among {columns}")
            continue
        found["row_number"] = row
        parsed = frame.get_column(row).cast(pl.Int64, strict=False).drop_nulls().to_list()
        numbers += parsed
        row_plain = _plain(row)
        reason = _column(
            columns,
            lambda c, r=row_plain: (
                c != r and any(w in c for w in ("reason", "message", "error")) and "field" not in c
            ),
        )
        if reason is not None:  # a failure file: its other columns echo the uploaded row
            found["failure_reason"] = reason
            field = _column(columns, lambda c: "field" in c)
            if field is not None:
                found["failure_field"] = field
            continue
        # A success file: the id of what was created comes first; later columns echo the uploaded row,
        # which for invoices holds a customerId of its own.
        first_id = _column([c for c in columns if c != row], lambda c: c in _ID_MEMBERS)
        if first_id is not None:
            found[_ID_MEMBERS[_plain(first_id)]] = first_id
    if not found:
        return None, notes
    if len(formats) == 1:
        found["format"] = formats.pop()
    if numbers:
        first = min(numbers)
        if first in (0, 1, 2):
            found["first_row_number"] = first
        else:
            notes.append(f"the smallest row number is {first}: pass both files of one upload")
    return profile.result_files.model_copy(update=found), notes


def check_result_files(
    files: Sequence[ResultFile], profile: ContractProfile
) -> tuple[list[Finding], ResultFileLayout | None]:
    """The finding on ``result_files`` and the layout that fits the files given (None: none given)."""
    expected = _describe(profile.result_files)
    assumption = "bulk result files have the profile's columns and row numbering"
    if not files:
        return [
            Finding(
                assumption,
                "result_files",
                expected,
                "not checkable",
                "needs an upload; pass the success and failure files of one you made with --result-file",
            )
        ], None
    layout, notes = infer_layout(files, profile)
    if layout is None:
        return [Finding(assumption, "result_files", expected, "different", "; ".join(notes))], None
    verdict: Verdict = "confirmed" if layout == profile.result_files else "different"
    seen = _describe(layout) + (f" ({'; '.join(notes)})" if notes else "")
    return [Finding(assumption, "result_files", expected, verdict, seen)], layout


def _describe(layout: ResultFileLayout) -> str:
    return (
        f"{layout.format.upper()}; row number {layout.row_number!r} from {layout.first_row_number}; ids "
        f"{layout.customer_id!r} / {layout.invoice_id!r}; failures {layout.failure_field!r}, "
        f"{layout.failure_reason!r}"
    )
