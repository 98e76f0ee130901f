"""Open one ERP export file (CSV, Parquet or XLSX) as a lazy frame of raw cells, with its real headers.

Everything that can make a file unusable as a whole is found here and raised as ``InputFileError``
with a message that names the file and says what to do: a missing or empty file, an unsupported
extension, a CSV that is not UTF-8 text, a workbook or Parquet file that cannot be read, a row with
the wrong number of fields.

Two choices protect what is inside the file:

- The headers are returned exactly as written (``RawFile.headers``): polars and fastexcel quietly
  rename a repeated header (``base_amount_duplicated_0``, ``base_amount_1``), which would hide a
  second ``base_amount`` column from the loader.
- Workbooks are read as text, every cell of every column: a column's type is then never guessed
  from its first rows, so one date typed as text cannot turn the real date cells of its column into
  nulls. Native date cells read as ``yyyy-MM-dd 00:00:00`` and numbers in their shortest exact form
  (``4053.14``), which the cell rules of :mod:`ar_sync.erp_fields` accept.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import fastexcel
import polars as pl

SUPPORTED_SUFFIXES: Final = (".csv", ".parquet", ".xlsx")
_UTF16_BOMS: Final = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_ZIP_MAGIC: Final = b"PK\x03\x04"
_WHAT_TO_DO: Final = {
    ".csv": "export it again as CSV UTF-8",
    ".parquet": "check that it is the Parquet export itself (not a renamed CSV) and was copied whole",
    ".xlsx": "check that it is an .xlsx workbook (not a renamed CSV or .xls): open it and save it again",
}


class InputFileError(ValueError):
    """An ERP input file cannot be used at all; the message names the file and what to do."""


@dataclass(frozen=True)
class RawFile:
    """A file's raw cells: ``frame`` columns are in file order, ``headers[i]`` is column i's header.

    The frame's column names are unique (the readers' own renaming), the headers are as written.
    """

    frame: pl.LazyFrame
    headers: list[str]


def normalise_header(name: str) -> str:
    """A header as the loader compares it: no BOM, trimmed, lower-case, spaces/hyphens as ``_``."""
    return re.sub(r"[\s\-]+", "_", name.lstrip("\ufeff").strip().lower())


def read_raw(path: Path, what: str) -> RawFile:
    """The file's raw cells and headers, or ``InputFileError`` when it cannot be read at all.

    ``what`` starts every message (``"The invoices file erp/invoices.csv"``).
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        hint = " Legacy .xls is not supported: save it as .xlsx or CSV UTF-8." if suffix == ".xls" else ""
        raise InputFileError(
            f"{what} has an unsupported extension {suffix!r}; use .csv, .parquet or .xlsx.{hint}"
        )
    if not path.is_file():
        raise InputFileError(f"{what} does not exist; check the path or the ERP export job.")
    if path.stat().st_size == 0:
        raise InputFileError(f"{what} is empty (0 bytes); the ERP export probably failed: export again.")
    if suffix == ".csv":
        _check_utf8(path, what)
    try:
        if suffix == ".xlsx":
            return _read_xlsx(path)
        frame = pl.scan_csv(path, infer_schema=False) if suffix == ".csv" else pl.scan_parquet(path)
        names = frame.collect_schema().names()
    except pl.exceptions.DuplicateError as exc:
        # Parquet keeps repeated names as they are, and polars refuses them before anyone can look.
        raise InputFileError(
            f"{what} has more than one column of the same name ({first_line(exc)}); which one the ERP "
            "meant cannot be known: keep one of them and export again."
        ) from exc
    except (pl.exceptions.PolarsError, fastexcel.FastExcelError, OSError) as exc:
        raise InputFileError(
            f"{what} is not a readable {suffix[1:].upper()} file ({first_line(exc)}); {_WHAT_TO_DO[suffix]}."
        ) from exc
    headers = _csv_headers(path) if suffix == ".csv" else names
    # Should the csv module and polars ever split the header differently, polars' names are used.
    return RawFile(frame, headers if len(headers) == len(names) else names)


def collect(lf: pl.LazyFrame, path: Path, what: str, *, streaming: bool = False) -> pl.DataFrame:
    """Run the plan once, turning a polars failure into a message about the file (and row).

    ``streaming``: on polars' streaming engine, which reads the file in pieces: a plan that keeps a few
    columns of every row does not hold every column of every row first.
    """
    try:
        return lf.collect(engine="streaming") if streaming else lf.collect()
    except pl.exceptions.PolarsError as exc:
        raise _unparsable(exc, path, what) from exc


def collect_batches(lf: pl.LazyFrame, rows: int, path: Path, what: str) -> Iterator[pl.DataFrame]:
    """Run the plan once, yielding its rows in order, about ``rows`` at a time (at least one frame, empty
    when there are no rows): a caller that is done with a batch lets it go before the next is read.
    A polars failure becomes a message about the file (and row), as with :func:`collect`."""
    try:
        yielded = False
        for batch in lf.collect_batches(chunk_size=rows):
            yielded = True
            yield batch
        if not yielded:
            yield lf.limit(0).collect()
    except pl.exceptions.PolarsError as exc:
        raise _unparsable(exc, path, what) from exc


def _unparsable(exc: pl.exceptions.PolarsError, path: Path, what: str) -> InputFileError:
    ragged = _ragged_row(path) if path.suffix.lower() == ".csv" else None
    if ragged is not None:
        row, fields, expected = ragged
        return InputFileError(
            f"{what} could not be parsed: row {row} has {fields} fields where the header has "
            f"{expected}. Check that row (a comma inside a value that is not in quotes?) and export "
            "again."
        )
    return InputFileError(
        f"{what} could not be parsed ({first_line(exc)}); check that it is a well-formed export "
        "(same number of fields on every line, one header row)."
    )


def first_line(exc: BaseException) -> str:
    """The first line of a library's error, for a one-line message (polars and calamine add pages)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _csv_headers(path: Path) -> list[str]:
    """The CSV's header row as written (the BOM dropped), by the csv module's quoting rules."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle), [])


def _read_xlsx(path: Path) -> RawFile:
    """The first sheet, every cell as text (see the module docstring), and its header row."""
    reader = fastexcel.read_excel(path)
    header = reader.load_sheet(0, header_row=None, n_rows=1, dtypes="string").to_polars()
    headers = ["" if cell is None else str(cell) for cell in header.row(0)] if header.height else []
    frame = reader.load_sheet(0, dtypes="string").to_polars()
    return RawFile(frame.lazy(), headers if len(headers) == frame.width else frame.columns)


def _check_utf8(path: Path, what: str) -> None:
    """Fail with a clear message unless the CSV is UTF-8 text (a UTF-8 BOM is fine)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with path.open("rb") as handle:
        head = handle.read(2)
        if head in _UTF16_BOMS:
            raise InputFileError(f"{what} is UTF-16 ('Unicode text'); re-export it as CSV UTF-8.")
        chunk = head + handle.read(1 << 20)
        _check_text(chunk[:4096], what)
        while chunk:
            try:
                decoder.decode(chunk, final=len(chunk) < 2)
            except UnicodeDecodeError as exc:
                line += chunk[: exc.start].count(b"\n")
                raise InputFileError(
                    f"{what} is not UTF-8 (first bad byte on line {line}); it is probably Windows-1252 "
                    "or Latin-1: re-export it as CSV UTF-8."
                ) from exc
            line += chunk.count(b"\n")
            chunk = handle.read(1 << 20)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise InputFileError(f"{what} ends in a cut UTF-8 character; re-export it as CSV UTF-8.") from exc


def _check_text(sample: bytes, what: str) -> None:
    """Tell binary content and UTF-16 without a BOM from text: CSV text never holds NUL bytes."""
    if sample.startswith(_ZIP_MAGIC):
        raise InputFileError(
            f"{what} is a ZIP archive (an .xlsx workbook?), not CSV text: name it .xlsx, or save it as "
            "CSV UTF-8."
        )
    nul = sample.find(b"\x00")
    if nul < 0:
        return
    # ASCII text in UTF-16 has a NUL in every other byte.
    if max(sample[0::2].count(0), sample[1::2].count(0)) >= len(sample) // 4:
        raise InputFileError(f"{what} is UTF-16 text without a byte-order mark; re-export it as CSV UTF-8.")
    raise InputFileError(
        f"{what} is not a text file (binary data, a NUL byte at offset {nul}); check that the path points "
        "at the ERP's CSV export, and export it again as CSV UTF-8."
    )


def _ragged_row(path: Path) -> tuple[int, int, int] | None:
    """The first row (as a spreadsheet numbers it) whose field count differs from the header's.

    Only called after polars refused the file, so a slow pure-Python pass costs nothing on good files.
    """
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return None
        for record in reader:
            if len(record) != len(header) and any(cell.strip() for cell in record):
                return reader.line_num, len(record), len(header)
    return None
