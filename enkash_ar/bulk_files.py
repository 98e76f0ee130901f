"""Bulk upload files and result files: polars DataFrames in, bytes out, and back.

The layout comes from ``enkash_ar.bulk_template`` (the one place that names the columns). Cells are
text: dates ``yyyy-MM-dd``, date-times ``yyyy-MM-ddTHH:mm:ss``, booleans ``true``/``false``, numbers
in plain decimal notation (never ``1e-05``), missing values empty.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Literal

import polars as pl

from enkash_ar.bulk_template import BulkKind, BulkTemplate
from enkash_ar.contract import DATE_FORMAT
from enkash_ar.errors import EnkashError

FileFormat = Literal["csv", "xlsx"]

CONTENT_TYPES: dict[str, str] = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class BulkFileError(EnkashError):
    """A bulk upload frame does not fit the template (unknown or missing columns, bad format)."""


def _plain_number(value: float | None) -> str | None:
    if value is None or value != value:  # NaN has no decimal form; treat it as missing.
        return None
    text = format(Decimal(repr(float(value))), "f")
    return text


def _as_text(column: pl.Series) -> pl.Series:
    dtype = column.dtype
    if dtype == pl.Date:
        return column.dt.strftime(DATE_FORMAT)
    if isinstance(dtype, pl.Datetime):
        return column.dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dtype == pl.Boolean:
        return column.map_elements(lambda b: "true" if b else "false", return_dtype=pl.String)
    if dtype.is_float():
        return column.map_elements(_plain_number, return_dtype=pl.String)
    if dtype == pl.Null:
        return column.cast(pl.String)
    return column.cast(pl.String)


def to_template_frame(rows: pl.DataFrame, template: BulkTemplate) -> pl.DataFrame:
    """Reorder ``rows`` into the template's columns, all text, missing optional columns empty.

    Args:
        rows: one row per record, columns named as in the template (order free).
        template: the bulk template (``bulk_template.CUSTOMER_CREATE`` ...).

    Returns:
        A frame with exactly ``template.columns``, every column ``pl.String``.

    Raises:
        BulkFileError: unknown columns, missing required columns, or no rows.

    Example:
        >>> from enkash_ar.bulk_template import INVOICE_CREATE
        >>> df = pl.DataFrame({"customerId": ["KC00000000000001"], "dueDate": ["2025-08-01"],
        ...                    "baseAmount": [1e-05]})
        >>> to_template_frame(df, INVOICE_CREATE)["baseAmount"].to_list()
        ['0.00001']
    """
    unknown = [c for c in rows.columns if c not in template.columns]
    missing = sorted(template.required - set(rows.columns))
    problems = []
    if unknown:
        problems.append(f"unknown columns {unknown}")
    if missing:
        problems.append(f"missing required columns {missing}")
    if problems:
        raise BulkFileError(
            f"{template.kind} bulk file: {'; '.join(problems)}. Allowed columns: {list(template.columns)}."
        )
    if rows.height == 0:
        raise BulkFileError(f"{template.kind} bulk file: no rows to upload.")
    columns = [
        _as_text(rows[name]).alias(name)
        if name in rows.columns
        else pl.Series(name, [None] * rows.height, dtype=pl.String)
        for name in template.columns
    ]
    return pl.DataFrame(columns)


def encode_bulk_file(
    rows: pl.DataFrame, template: BulkTemplate, file_format: FileFormat = "csv"
) -> tuple[str, bytes, str]:
    """Build the upload file for ``rows``.

    Args:
        rows: the records (see :func:`to_template_frame`).
        template: the bulk template.
        file_format: ``"csv"`` (default) or ``"xlsx"``.

    Returns:
        ``(file name, content, content type)``, ready for a multipart ``file`` part.
    """
    frame = to_template_frame(rows, template)
    buffer = io.BytesIO()
    if file_format == "csv":
        frame.write_csv(buffer, null_value="")
    elif file_format == "xlsx":
        frame.write_excel(buffer, worksheet="Sheet1", autofit=False)
    else:
        raise BulkFileError(f"unsupported bulk file format {file_format!r}; use 'csv' or 'xlsx'")
    return f"{template.kind}.{file_format}", buffer.getvalue(), CONTENT_TYPES[file_format]


def decode_result_file(content: bytes, *, xlsx: bool = False) -> pl.DataFrame:
    """Parse a success / failure result file into a frame whose columns are all ``pl.String``.

    Text is kept as text (``"007"`` stays ``"007"``); empty cells become null.
    """
    if xlsx:
        frame = pl.read_excel(io.BytesIO(content), infer_schema_length=0)
        return frame.with_columns(pl.all().cast(pl.String))
    if not content.strip():
        return pl.DataFrame()
    return pl.read_csv(io.BytesIO(content), infer_schema=False)


def empty_result_frame(template: BulkTemplate | None, which: Literal["success", "failure"]) -> pl.DataFrame:
    """The frame of a result file that does not exist (no rows succeeded or failed)."""
    if template is None:
        return pl.DataFrame()
    columns = template.success_columns if which == "success" else template.failure_columns
    return pl.DataFrame({c: pl.Series([], dtype=pl.String) for c in columns})


__all__ = [
    "BulkFileError",
    "BulkKind",
    "FileFormat",
    "decode_result_file",
    "empty_result_frame",
    "encode_bulk_file",
    "to_template_frame",
]
