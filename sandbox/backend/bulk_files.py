"""Bulk upload files in and result files out.

In: the multipart ``file`` part, XLSX when the name ends in ``.xlsx`` or the content starts with the
ZIP magic ``PK\\x03\\x04``, CSV otherwise. Every cell is read as text, trimmed; an empty cell is null
("not given"). XLSX date cells are not converted: dates must be text ``yyyy-MM-dd`` as the template says.

Header: the contract profile's ``bulk_files`` layout says under which header each member comes (the
member's own name unless it says otherwise). A required member whose header is missing → 400
VALIDATION_ERROR, one sub-error per missing column. Columns the layout does not know are ignored;
each one adds 1 to ``warn_count``.

Out: success and failure files, kept in the database by name (served without authentication at
``GET /_sandbox/files/{name}``). Which columns they hold is a ``ResultLayout``: ``template_layout`` is
the one ``enkash_ar.bulk_template`` documents, ``profile_layout`` renames and renumbers it as a contract
profile's ``result_files`` says; ``write_result_files`` writes CSV or XLSX.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from enkash_ar.bulk_template import FAILURE_FIELD, FAILURE_REASON, ROW_NUMBER, BulkTemplate
from enkash_ar.contract_profile import BulkFileLayout, ContractProfile, FileFormat
from sandbox.backend.store import Store
from sandbox.errors import SubError, validation_error

XLSX_MAGIC = b"PK\x03\x04"

#: (template, ok rows, failures, uploaded rows) -> (success file frame, failure file frame)
ResultLayout = Callable[
    [BulkTemplate, pl.DataFrame, pl.DataFrame, pl.DataFrame], tuple[pl.DataFrame, pl.DataFrame]
]


@dataclass(frozen=True)
class Upload:
    """The multipart ``file`` part of a bulk request."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class ResultFiles:
    """The names under which the success and failure files of one bulk request are kept."""

    success_name: str
    failure_name: str


def read_upload(
    upload: Upload | None, template: BulkTemplate, layout: BulkFileLayout | None = None
) -> tuple[pl.DataFrame, int]:
    """The template columns of the upload as text (plus ``rowNumber``) and the count of unknown columns.

    ``layout`` (the profile's ``bulk_files`` entry) says which members the file may carry and under
    which headers; all the template's, under their own names, when None.
    """
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
    members = {layout.header_of(m): m for m in layout.columns} if layout else {m: m for m in template.columns}
    header = [c.strip() for c in frame.columns]
    # A header of the layout becomes its member; anything else stays as written (and is counted).
    frame.columns = [members.get(c, f"\x00{c}") for c in header]
    header = frame.columns
    missing = sorted(template.required - set(header))
    if missing:
        raise validation_error(
            [
                SubError(
                    col,
                    name,
                    f"required column {layout.header_of(col) if layout else col!r} missing from the header "
                    f"of {name}",
                )
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


def template_layout(
    template: BulkTemplate, ok: pl.DataFrame, failures: pl.DataFrame, rows: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The result files as ``enkash_ar.bulk_template`` documents them.

    ``ok`` holds ``rowNumber`` + the id column + the template columns; ``failures`` holds ``rowNumber``,
    ``field`` and ``reason``; ``rows`` is the uploaded frame (for the failure file's original columns).
    """
    success = ok.select(template.success_columns)
    failure = failures.join(rows, on=ROW_NUMBER, how="left", maintain_order="left").select(
        ROW_NUMBER, FAILURE_FIELD, FAILURE_REASON, *template.columns
    )
    return success, failure


def profile_layout(profile: ContractProfile) -> ResultLayout:
    """The result files as ``profile`` has them: its column names and first row number, and the
    uploaded row's columns under the headers of its bulk file layout."""
    result = profile.result_files

    def layout(
        template: BulkTemplate, ok: pl.DataFrame, failures: pl.DataFrame, rows: pl.DataFrame
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        headers = profile.bulk_files[template.kind]
        own = {
            ROW_NUMBER: result.row_number,
            FAILURE_FIELD: result.failure_field,
            FAILURE_REASON: result.failure_reason,
            template.id_column: result.customer_id
            if template.id_column == "customerId"
            else result.invoice_id,
        }

        def renamed(frame: pl.DataFrame) -> pl.DataFrame:
            frame = frame.with_columns(pl.col(ROW_NUMBER) + (result.first_row_number - 1))
            return frame.rename({c: own.get(c, headers.header_of(c)) for c in frame.columns})

        success, failure = template_layout(template, ok, failures, rows)
        return renamed(success), renamed(failure)

    return layout


def _encoded(frame: pl.DataFrame, file_format: FileFormat) -> bytes:
    buffer = io.BytesIO()
    if file_format == "xlsx":
        frame.write_excel(buffer, worksheet="Sheet1", autofit=False)
    else:
        frame.write_csv(buffer)
    return buffer.getvalue()


def write_result_files(
    store: Store, stem: str, frames: tuple[pl.DataFrame, pl.DataFrame], file_format: FileFormat = "csv"
) -> ResultFiles:
    """Keep the (success, failure) frames as ``<stem>-success.<format>`` / ``<stem>-failure.<format>``."""
    files = ResultFiles(f"{stem}-success.{file_format}", f"{stem}-failure.{file_format}")
    for name, frame in zip((files.success_name, files.failure_name), frames, strict=True):
        store.save_result_file(name, _encoded(frame, file_format))
    return files
