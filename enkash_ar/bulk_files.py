"""Bulk upload files and result files: polars DataFrames in, bytes out, and back.

Frames use the member names of ``enkash_ar.bulk_template``. Which of them a file carries, under which
headers and in which format is the contract profile's ``bulk_files`` layout (a guess: the portal
publishes no template); the result files' column names and row numbering are its ``result_files``.
Result files are read back into one normalized shape whatever the layout (:func:`normalize_result_frame`),
so the code that matches result rows to uploaded rows never depends on the guess.

Cells are text: dates ``yyyy-MM-dd``, date-times ``yyyy-MM-ddTHH:mm:ss``, booleans ``true``/``false``,
numbers in plain decimal notation (never ``1e-05``), missing values empty.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Literal

import polars as pl

from enkash_ar.bulk_template import FAILURE_FIELD, FAILURE_REASON, ROW_NUMBER, BulkKind, BulkTemplate
from enkash_ar.contract import DATE_FORMAT
from enkash_ar.contract_profile import BulkFileLayout, FileFormat, ResultFileLayout
from enkash_ar.errors import CONTRACT_PROFILE_HINT, ContractMismatchError, EnkashError

#: The first bytes of an XLSX file (a ZIP archive).
XLSX_MAGIC = b"PK\x03\x04"
#: The operation whose result files each kind of bulk file gets.
OPERATION_OF_KIND: dict[BulkKind, str] = {
    "customer_create": "createBulkCustomer",
    "customer_update": "bulkUpdate",
    "invoice_create": "invoiceBulkUpload",
}

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


def to_template_frame(
    rows: pl.DataFrame, template: BulkTemplate, layout: BulkFileLayout | None = None
) -> pl.DataFrame:
    """Reorder ``rows`` into the file's columns, all text, missing optional columns empty.

    Args:
        rows: one row per record, columns named as in the template (order free).
        template: the bulk template (``bulk_template.CUSTOMER_CREATE`` ...).
        layout: which members the file carries and in which order (the contract profile's
            ``bulk_files``); all of the template's, in its order, when None.

    Returns:
        A frame with exactly the layout's members as columns (not yet renamed to the file's headers),
        every column ``pl.String``.

    Raises:
        BulkFileError: unknown columns, missing required columns, or no rows.

    Example:
        >>> from enkash_ar.bulk_template import INVOICE_CREATE
        >>> df = pl.DataFrame({"customerId": ["KC00000000000001"], "dueDate": ["2025-08-01"],
        ...                    "baseAmount": [1e-05]})
        >>> to_template_frame(df, INVOICE_CREATE)["baseAmount"].to_list()
        ['0.00001']
    """
    allowed = layout.columns if layout is not None else template.columns
    unknown = [c for c in rows.columns if c not in allowed]
    missing = sorted(template.required - set(rows.columns))
    problems = []
    if unknown:
        problems.append(f"unknown columns {unknown}")
    if missing:
        problems.append(f"missing required columns {missing}")
    if problems:
        raise BulkFileError(
            f"{template.kind} bulk file: {'; '.join(problems)}. Allowed columns: {list(allowed)}"
            + (" (the contract profile's bulk_files layout)." if layout is not None else ".")
        )
    if rows.height == 0:
        raise BulkFileError(f"{template.kind} bulk file: no rows to upload.")
    columns = [
        _as_text(rows[name]).alias(name)
        if name in rows.columns
        else pl.Series(name, [None] * rows.height, dtype=pl.String)
        for name in allowed
    ]
    return pl.DataFrame(columns)


def encode_bulk_file(
    rows: pl.DataFrame,
    template: BulkTemplate,
    file_format: FileFormat | None = None,
    layout: BulkFileLayout | None = None,
) -> tuple[str, bytes, str]:
    """Build the upload file for ``rows``.

    Args:
        rows: the records (see :func:`to_template_frame`).
        template: the bulk template.
        file_format: ``"csv"`` or ``"xlsx"``; the layout's format (else CSV) when None.
        layout: the file's members, headers and format (the contract profile's ``bulk_files``).

    Returns:
        ``(file name, content, content type)``, ready for a multipart ``file`` part.
    """
    file_format = file_format or (layout.format if layout is not None else "csv")
    frame = to_template_frame(rows, template, layout)
    if layout is not None:
        frame = frame.rename({c: layout.header_of(c) for c in frame.columns})
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

    Text is kept as text (``"007"`` stays ``"007"``); empty cells become null. A file that starts as
    an XLSX file does is read as one whatever ``xlsx`` says.
    """
    if xlsx or content.startswith(XLSX_MAGIC):
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


def normalize_result_frame(
    frame: pl.DataFrame,
    layout: ResultFileLayout,
    template: BulkTemplate | None,
    which: Literal["success", "failure"],
) -> pl.DataFrame:
    """A result file read with ``layout``, in the shape the shipped profile documents.

    The row number column becomes ``rowNumber`` counting data rows from 1, the id column
    ``customerId`` / ``invoiceId``, the failure columns ``field`` and ``reason``; other columns stay.

    Raises:
        ContractMismatchError: a column the layout names is missing, or a row number is not a whole
            number at or after the layout's first row number. The message names the columns seen.
    """
    if frame.width == 0:
        return empty_result_frame(template, which)
    renames = {layout.row_number: ROW_NUMBER}
    if which == "success" and template is not None:
        id_column = layout.customer_id if template.id_column == "customerId" else layout.invoice_id
        renames[id_column] = template.id_column
    if which == "failure":
        renames[layout.failure_field] = FAILURE_FIELD
        renames[layout.failure_reason] = FAILURE_REASON
    operation = OPERATION_OF_KIND[template.kind] if template is not None else "bulk upload"
    missing = [name for name in renames if name not in frame.columns]
    if missing:
        raise ContractMismatchError(
            f"{operation}: the {which} result file has no column {missing} (its columns: {frame.columns}). "
            f"The contract profile's result_files names them. {CONTRACT_PROFILE_HINT}",
            operation=operation,
            setting="result_files",
        )
    # Renaming first, so that a layout column spelt like a canonical one cannot collide with it.
    kept = frame.drop([c for c in renames.values() if c in frame.columns and c not in renames])
    normalized = kept.rename(renames)
    numbers = normalized.get_column(ROW_NUMBER).cast(pl.Int64, strict=False)
    if (numbers.is_null() | (numbers < layout.first_row_number)).any():
        raise ContractMismatchError(
            f"{operation}: the {which} result file's {layout.row_number!r} holds values that are not row "
            f"numbers from {layout.first_row_number} on: "
            f"{normalized.get_column(ROW_NUMBER).head(5).to_list()}. "
            f"Check result_files.row_number and result_files.first_row_number. {CONTRACT_PROFILE_HINT}",
            operation=operation,
            setting="result_files.first_row_number",
        )
    shift = 1 - layout.first_row_number
    leading = [ROW_NUMBER, *(c for c in renames.values() if c != ROW_NUMBER)]
    return normalized.with_columns((numbers + shift).cast(pl.String).alias(ROW_NUMBER)).select(
        *leading, *(c for c in normalized.columns if c not in leading)
    )


__all__ = [
    "BulkFileError",
    "BulkKind",
    "FileFormat",
    "decode_result_file",
    "empty_result_frame",
    "encode_bulk_file",
    "normalize_result_frame",
    "to_template_frame",
]
