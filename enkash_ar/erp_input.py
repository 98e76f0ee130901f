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
import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import polars as pl

from enkash_ar.erp_columns import CUSTOMER_FIELDS, INVOICE_FIELDS, Field, field_problem, field_value, raw_text

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
    rejected_path: str | Path | None = None,
) -> None:
    """Raise ``RejectionThresholdError`` when the rejected share is strictly above ``threshold``."""
    if total_rows <= 0 or rejected_rows / total_rows <= threshold:
        return
    where = f" See {rejected_path} for every problem." if rejected_path else ""
    raise RejectionThresholdError(
        f"{rejected_rows} of {total_rows} {entity} rows ({rejected_rows / total_rows:.1%}) were rejected, "
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
        kind = Path(path).suffix[1:].upper()
        raise InputFileError(f"The {entity} file {file} is not a readable {kind} file: {exc}") from exc
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
    df = _collect(checked, file, entity)

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
    try:
        if suffix == ".csv":
            _check_utf8(path, what)
            return pl.scan_csv(path, infer_schema=False)
        if suffix == ".parquet":
            return pl.scan_parquet(path)
        return pl.read_excel(path, sheet_id=1).lazy()
    except Exception as exc:  # fastexcel raises its own types, polars its own: both mean "unreadable"
        raise InputFileError(f"{what} is not a readable {suffix[1:].upper()} file: {exc}") from exc


def _check_utf8(path: Path, what: str) -> None:
    """Fail with a clear message unless the CSV is UTF-8 (a UTF-8 BOM is fine)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with path.open("rb") as handle:
        head = handle.read(2)
        if head in _UTF16_BOMS:
            raise InputFileError(f"{what} is UTF-16 ('Unicode text'); re-export it as CSV UTF-8.")
        chunk = head + handle.read(1 << 20)
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
        raise InputFileError(
            f"The {entity} file {file} lacks required columns {missing}{near}. Columns found: {found}. "
            "Rename them in the export or pass a column mapping (ERP header -> canonical name)."
        )
    return renames


def _collect(lf: pl.LazyFrame, file: str, entity: Entity) -> pl.DataFrame:
    """Run the plan once, turning a polars failure into a message about the file."""
    try:
        return lf.collect()
    except pl.exceptions.PolarsError as exc:
        raise InputFileError(
            f"The {entity} file {file} could not be parsed ({exc}); check that it is a well-formed "
            "export (same number of fields on every line, one header row)."
        ) from exc
