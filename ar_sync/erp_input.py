"""Load and validate the ERP's export of customers and invoices (CSV, Parquet or XLSX).

Whole-file problems (missing, unreadable, wrong encoding, missing columns) raise ``InputFileError``
with a message that names the file and what to do. Row problems never raise: each bad cell becomes a
row of the rejected-rows frame (``REJECTED_COLUMNS``) and the row stays out of the valid frame.

Decisions, so users and tests can rely on them:

- Headers are normalised (trimmed, lower-cased, runs of spaces/hyphens to ``_``) before the optional
  ``mapping`` (ERP header -> canonical name) is applied, so ``Customer Ref`` is ``customer_ref``.
  Columns that are not canonical are ignored.
- ``row`` is the line a spreadsheet user sees: header = 1, first data row = 2 (Parquet: record index
  + 2, the same way). Fully blank rows are skipped silently and not counted.
- A key (customer ``customer_ref``, invoice ``invoice_number``) on several rows rejects *all* of them:
  we cannot know which one the ERP meant. Keys are compared exactly, after trimming.
- An invoice whose ``customer_ref`` is not among ``known_customer_refs`` (the valid customers) is
  rejected; pass ``None`` to skip that check.
- A header-only file is not an error: it loads as empty frames and the caller decides.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import polars as pl

from ar_sync.erp_fields import CUSTOMER_FIELDS, INVOICE_FIELDS, Field, field_problem, field_value, raw_text

Entity = Literal["customers", "invoices"]

REJECTED_COLUMNS: Final = ("entity", "file", "row", "column", "reason", "value")
REJECTED_SCHEMA: Final = pl.Schema(
    {
        "entity": pl.String,
        "file": pl.String,
        "row": pl.Int64,
        "column": pl.String,
        "reason": pl.String,
        "value": pl.String,
    }
)
SOURCE_ROW: Final = "source_row"
SUPPORTED_SUFFIXES: Final = (".csv", ".parquet", ".xlsx")
_FIELDS: Final[dict[Entity, tuple[Field, ...]]] = {"customers": CUSTOMER_FIELDS, "invoices": INVOICE_FIELDS}
_KEY: Final[dict[Entity, str]] = {"customers": "customer_ref", "invoices": "invoice_number"}
_UTF16_BOMS: Final = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_ZIP_MAGIC: Final = b"PK\x03\x04"
_WHAT_TO_DO: Final = {
    ".csv": "export it again as CSV UTF-8",
    ".parquet": "check that it is the Parquet export itself (not a renamed CSV) and was copied whole",
    ".xlsx": "check that it is an .xlsx workbook (not a renamed CSV or .xls): open it and save it again",
}


class InputFileError(ValueError):
    """An ERP input file cannot be used at all; the message names the file and what to do."""


class RejectionThresholdError(InputFileError):
    """Too large a share of the input rows was rejected to trust the export."""


@dataclass(frozen=True)
class LoadResult:
    """One loaded file: typed valid rows (canonical columns + ``source_row``) and rejected cells."""

    entity: Entity
    file: str
    valid: pl.DataFrame
    rejected: pl.DataFrame
    total_rows: int
    rejected_rows: int


def load_customers(path: str | Path, *, mapping: Mapping[str, str] | None = None) -> LoadResult:
    """Load and validate the customer file.

    Example:
        >>> result = load_customers("erp/customers.csv")  # doctest: +SKIP
        >>> refs = result.valid["customer_ref"]  # doctest: +SKIP
    """
    return _load("customers", path, mapping, known_customer_refs=None)


def load_invoices(
    path: str | Path,
    *,
    known_customer_refs: pl.Series | Iterable[str] | None,
    mapping: Mapping[str, str] | None = None,
) -> LoadResult:
    """Load and validate the invoice file; ``known_customer_refs`` are the valid customers' refs."""
    return _load("invoices", path, mapping, known_customer_refs)


def normalise_header(name: str) -> str:
    """A header as the loader compares it: no BOM, trimmed, lower-case, spaces/hyphens as ``_``."""
    return re.sub(r"[\s\-]+", "_", name.lstrip("\ufeff").strip().lower())


def write_rejected(rejected: Iterable[pl.DataFrame], path: str | Path) -> Path:
    """Write the rejected-rows report (CSV, ``REJECTED_COLUMNS``), header even when empty."""
    frames = [frame.select(REJECTED_COLUMNS).cast(REJECTED_SCHEMA) for frame in rejected]
    report = pl.concat([pl.DataFrame(schema=REJECTED_SCHEMA), *frames])
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    report.sort("entity", "file", "row", maintain_order=True).write_csv(target)
    return target


def check_rejection_threshold(
    total_rows: int,
    rejected_rows: int,
    threshold: float = 0.2,
    *,
    entity: str = "input",
    file: str | Path | None = None,
    rejected_path: str | Path | None = None,
) -> None:
    """Raise ``RejectionThresholdError`` when the rejected share is strictly above ``threshold``."""
    if total_rows <= 0 or rejected_rows / total_rows <= threshold:
        return
    where = f" See {rejected_path} for every problem." if rejected_path else ""
    source = f" of {file}" if file else ""
    raise RejectionThresholdError(
        f"{rejected_rows} of {total_rows} {entity} rows{source} ({rejected_rows / total_rows:.1%}) were "
        "rejected, "
        f"above the {threshold:.0%} threshold; nothing was sent.{where} Fix the export (or the column "
        "mapping) and run again, or raise the threshold if this is expected."
    )


def _load(
    entity: Entity,
    path: str | Path,
    mapping: Mapping[str, str] | None,
    known_customer_refs: pl.Series | Iterable[str] | None,
) -> LoadResult:
    file = str(path)
    fields = _FIELDS[entity]
    raw = _scan(Path(path), entity)
    try:
        found = raw.collect_schema().names()
    except pl.exceptions.PolarsError as exc:
        suffix = Path(path).suffix.lower()
        raise InputFileError(
            f"The {entity} file {file} is not a readable {suffix[1:].upper()} file ({_first_line(exc)}); "
            f"{_WHAT_TO_DO.get(suffix, 'export it again')}."
        ) from exc
    renames = _canonical_columns(found, fields, mapping, file, entity)
    lf = raw.with_row_index(SOURCE_ROW, offset=2).select(
        pl.col(SOURCE_ROW).cast(pl.Int64), *(pl.col(src).alias(dst) for src, dst in renames.items())
    )
    schema = lf.collect_schema()
    lf = lf.with_columns(pl.lit(None, pl.String).alias(f.name) for f in fields if f.name not in schema)
    dtypes = {f.name: schema.get(f.name, pl.String()) for f in fields}
    # Spreadsheets often export trailing blank rows; they are nobody's data, so skip them.
    blank = [raw_text(c, dtypes[c]).str.strip_chars().fill_null("") == "" for c in renames.values()]
    checked = lf.filter(~pl.all_horizontal(blank))
    checked = checked.with_columns(
        *(raw_text(f.name, dtypes[f.name]).alias(f"__raw_{f.name}") for f in fields),
        *(field_problem(f, dtypes[f.name]).alias(f"__bad_{f.name}") for f in fields),
    ).with_columns(field_value(f, dtypes[f.name]).alias(f.name) for f in fields)
    checked = checked.with_columns(_cross_checks(entity, known_customer_refs))
    df = _collect(checked, Path(path), entity)

    problems = [f.name for f in fields]
    bad = pl.any_horizontal(pl.col(f"__bad_{c}").is_not_null() for c in problems)
    rejected = pl.concat(
        [pl.DataFrame(schema=REJECTED_SCHEMA)]
        + [
            df.filter(pl.col(f"__bad_{c}").is_not_null()).select(
                entity=pl.lit(entity),
                file=pl.lit(file),
                row=pl.col(SOURCE_ROW),
                column=pl.lit(c),
                reason=pl.col(f"__bad_{c}"),
                value=pl.col(f"__raw_{c}"),
            )
            for c in problems
        ]
    ).sort("row", maintain_order=True)
    valid = df.filter(~bad).select(*(pl.col(f.name).cast(f.dtype) for f in fields), SOURCE_ROW)
    return LoadResult(entity, file, valid, rejected, df.height, rejected["row"].n_unique())


def _cross_checks(entity: Entity, known: pl.Series | Iterable[str] | None) -> list[pl.Expr]:
    """Problems that need more than one cell: duplicate keys, unknown customers, due before issue."""
    key = _KEY[entity]
    seen = pl.len().over(key)
    duplicate = pl.when(pl.col(key).is_not_null() & (seen > 1)).then(
        pl.format(
            "duplicate {}: {} rows share this value (first at row {}); all of them are rejected",
            pl.lit(key),
            seen,
            pl.col(SOURCE_ROW).min().over(key),
        )
    )
    exprs = [pl.coalesce(f"__bad_{key}", duplicate).alias(f"__bad_{key}")]
    if entity == "invoices":
        early = pl.col("due_date") < pl.col("invoice_date")
        exprs.append(
            pl.coalesce(
                "__bad_due_date",
                pl.when(early).then(pl.format("due_date is before invoice_date {}", "invoice_date")),
            ).alias("__bad_due_date")
        )
        if known is not None:
            refs = known if isinstance(known, pl.Series) else pl.Series(list(known), dtype=pl.String)
            unknown = pl.when(
                pl.col("customer_ref").is_not_null() & ~pl.col("customer_ref").is_in(refs.implode())
            )
            exprs.append(
                pl.coalesce(
                    "__bad_customer_ref",
                    unknown.then(pl.lit("unknown customer_ref: not a valid row of the customer file")),
                ).alias("__bad_customer_ref")
            )
    return exprs


def _scan(path: Path, entity: Entity) -> pl.LazyFrame:
    """A lazy frame over the raw file, or ``InputFileError`` for a file that cannot be read at all."""
    what = f"The {entity} file {path}"
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
        if suffix == ".csv":
            return pl.scan_csv(path, infer_schema=False)
        if suffix == ".parquet":
            return pl.scan_parquet(path)
        return pl.read_excel(path, sheet_id=1).lazy()
    except Exception as exc:  # fastexcel raises its own types, polars its own: both mean "unreadable"
        raise InputFileError(
            f"{what} is not a readable {suffix[1:].upper()} file ({_first_line(exc)}); {_WHAT_TO_DO[suffix]}."
        ) from exc


def _first_line(exc: BaseException) -> str:
    """The first line of a library's error, for a one-line message (polars and calamine add pages)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


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


def _canonical_columns(
    found: list[str], fields: tuple[Field, ...], mapping: Mapping[str, str] | None, file: str, entity: Entity
) -> dict[str, str]:
    """Source column -> canonical name, or ``InputFileError`` naming the missing required columns."""
    names = {f.name for f in fields}
    wanted = {normalise_header(k): v for k, v in (mapping or {}).items()}
    if stray := sorted(set(wanted.values()) - names):
        raise InputFileError(
            f"The mapping for {file} targets {stray}, which are not {entity} columns: {sorted(names)}."
        )
    renames: dict[str, str] = {}
    for src in found:
        dst = wanted.get(normalise_header(src), normalise_header(src))
        if dst in names:
            if dst in renames.values():
                raise InputFileError(f"{file}: two columns both give {dst!r}; keep one or fix the mapping.")
            renames[src] = dst
    missing = [f.name for f in fields if f.required and f.name not in renames.values()]
    if missing:
        hints = [
            f"{m!r} looks like {close[0]!r}"
            for m in missing
            if (close := difflib.get_close_matches(m, [normalise_header(c) for c in found], 1, 0.6))
        ]
        near = f" ({'; '.join(hints)})" if hints else ""
        option = f"{entity[:-1]}_columns"
        raise InputFileError(
            f"The {entity} file {file} lacks required columns {missing}{near}. Columns found: {found}. "
            f"Rename them in the export, or give a column mapping (ERP header -> canonical name): the "
            f"{option} option of the flow, or on the command line --{option[:-1].replace('_', '-')} "
            f"'ERP header={missing[0]}'."
        )
    return renames


def _collect(lf: pl.LazyFrame, path: Path, entity: Entity) -> pl.DataFrame:
    """Run the plan once, turning a polars failure into a message about the file (and row)."""
    try:
        return lf.collect()
    except pl.exceptions.PolarsError as exc:
        ragged = _ragged_row(path) if path.suffix.lower() == ".csv" else None
        if ragged is not None:
            row, fields, expected = ragged
            raise InputFileError(
                f"The {entity} file {path} could not be parsed: row {row} has {fields} fields where the "
                f"header has {expected}. Check that row (a comma inside a value that is not in quotes?) "
                "and export again."
            ) from exc
        raise InputFileError(
            f"The {entity} file {path} could not be parsed ({_first_line(exc)}); check that it is a "
            "well-formed export (same number of fields on every line, one header row)."
        ) from exc


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
