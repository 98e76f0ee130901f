"""Bulk upload files in and result files out.

In: the multipart ``file`` part, XLSX when the name ends in ``.xlsx`` or the content starts with the
ZIP magic ``PK\\x03\\x04``, CSV otherwise. Every cell is read as text, trimmed; an empty cell is null
("not given"). XLSX date cells are not converted: dates must be text ``yyyy-MM-dd`` as the template says.

Header: a required column of the template that is missing → 400 VALIDATION_ERROR, one sub-error per
missing column. Columns the template does not know are ignored; each one adds 1 to ``warn_count``.

Out: success and failure CSV files, kept in the database and served without authentication at
``GET /_sandbox/files/{name}``.
"""

from __future__ import annotations

import io

import polars as pl

from enkash_ar.bulk_template import FAILURE_FIELD, FAILURE_REASON, ROW_NUMBER, BulkTemplate
from sandbox.envelope import SubError, validation_error
from sandbox.state import Call, Upload

XLSX_MAGIC = b"PK\x03\x04"
FILES_PATH = "/_sandbox/files/"


def read_upload(upload: Upload | None, template: BulkTemplate) -> tuple[pl.DataFrame, int]:
    """The template columns of the upload as text (plus ``rowNumber``) and the count of unknown columns."""
    if upload is None or not upload.content:
        raise validation_error([SubError("file", None, "a non-empty multipart part 'file' is required")])
    name = upload.filename or "upload"
    try:
        if name.lower().endswith(".xlsx") or upload.content.startswith(XLSX_MAGIC):
            frame = pl.read_excel(io.BytesIO(upload.content), engine="calamine", infer_schema_length=0)
        else:
            frame = pl.read_csv(io.BytesIO(upload.content), infer_schema=False)
    except Exception as exc:  # polars/fastexcel raise many types for a broken file; all mean "unreadable"
        raise validation_error(
            [SubError("file", name, f"cannot read the file as CSV or XLSX: {type(exc).__name__}")]
        ) from exc
    header = [c.strip() for c in frame.columns]
    frame.columns = header
    missing = sorted(template.required - set(header))
    if missing:
        raise validation_error(
            [
                SubError(col, name, f"required column {col!r} missing from the header of {name}")
                for col in missing
            ],
            f"Bulk file {name} lacks required columns",
        )
    unknown = [c for c in header if c not in template.columns]
    present = [c for c in template.columns if c in header]
    text = [pl.col(c).cast(pl.String).str.strip_chars() for c in present]
    frame = frame.select(text).with_columns(
        [pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in present]
    )
    frame = frame.with_columns(
        [pl.lit(None, dtype=pl.String).alias(c) for c in template.columns if c not in present]
    ).select(template.columns)
    frame = frame.with_row_index(ROW_NUMBER, offset=1).with_columns(pl.col(ROW_NUMBER).cast(pl.Int64))
    return frame, len(unknown)


def save_file(call: Call, name: str, frame: pl.DataFrame) -> str:
    """Store ``frame`` as the CSV result file ``name``; its download URL."""
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    with call.store.tx() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO result_files (name, content) VALUES (?, ?)", (name, buffer.getvalue())
        )
    return f"{call.base_url.rstrip('/')}{FILES_PATH}{name}"


def result_files(
    call: Call, template: BulkTemplate, ok: pl.DataFrame, failures: pl.DataFrame, rows: pl.DataFrame
) -> dict[str, str]:
    """Write the success and failure files; the BulkResponse ``*_file_name`` / ``*_file_url`` members.

    ``ok`` holds ``rowNumber`` + the id column + the template columns; ``failures`` holds ``rowNumber``,
    ``field`` and ``reason``; ``rows`` is the uploaded frame (for the failure file's original columns).
    """
    stem = f"{template.kind}-{call.request_id}"
    success = ok.select(template.success_columns)
    failure = failures.join(rows, on=ROW_NUMBER, how="left", maintain_order="left").select(
        ROW_NUMBER, FAILURE_FIELD, FAILURE_REASON, *template.columns
    )
    success_name, failure_name = f"{stem}-success.csv", f"{stem}-failure.csv"
    return {
        "success_file_name": success_name,
        "success_file_url": save_file(call, success_name, success),
        "failure_file_name": failure_name,
        "failure_file_url": save_file(call, failure_name, failure),
    }
