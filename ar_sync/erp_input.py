"""Load and validate the ERP's export of customers and invoices (CSV, Parquet or XLSX).

Whole-file problems (missing, unreadable, wrong encoding, missing or repeated columns) raise
``InputFileError`` with a message that names the file and what to do. Row problems never raise: a
record that breaks any rule is one line of the rejected frame (every reason at once, see
:mod:`ar_sync.rejections`) and stays out of the valid frame.

Decisions, so users and tests can rely on them:

- Headers are normalised (trimmed, lower-cased, runs of spaces/hyphens to ``_``) before the optional
  ``mapping`` (ERP header -> canonical name) is applied, so ``Customer Ref`` is ``customer_ref``.
  Columns that are not canonical are ignored. Two headers that give the same canonical column (a
  repeated ``base_amount``, ``Base Amount`` beside ``base_amount``, a mapping onto a column that is
  also present) refuse the file: which of the two the ERP meant cannot be known.
- ``row`` is the line a spreadsheet user sees: header = 1, first data row = 2 (Parquet: record index
  + 2, the same way). Fully blank rows are skipped silently and not counted.
- Keys (``invoice_number``, ``customer_ref``) are sent as written, less zero-width and bidi characters
  and surrounding spaces, and compared on their normalised form (:mod:`ar_sync.keys`), kept in the
  valid frames as ``invoice_key`` / ``customer_key``. A key on several rows rejects *all* of them
  (which one the ERP meant cannot be known); the reason names those rows and their values.
- Invoices are matched to customers by normalised key and carry the customer file's spelling of the
  ``customer_ref``, so EnKash sees one customer. An invoice whose customer was rejected is rejected
  with that customer's row and reasons; one whose customer is absent as an unknown customer_ref.
- Amounts are exact ``Decimal(18, 2)``; each amount and the invoice total (base + taxes) must not
  exceed ``max_invoice_amount`` (default :data:`~ar_sync.erp_fields.DEFAULT_MAX_INVOICE_AMOUNT`).
- A header-only file is not an error: it loads as empty frames and the caller decides.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Final, Literal

import polars as pl

from ar_sync.erp_fields import (
    CUSTOMER_FIELDS,
    DEFAULT_MAX_INVOICE_AMOUNT,
    INVOICE_FIELDS,
    MAX_CEILING,
    Field,
    field_problem,
    field_value,
    raw_text,
    text_value,
)
from ar_sync.erp_reader import InputFileError, RawFile, collect, collect_batches, normalise_header, read_raw
from ar_sync.keys import normalise_key_expr, show_invisible_expr
from ar_sync.rejections import (
    PROBLEM_SCHEMA,
    REJECTED_COLUMNS,
    REJECTED_SCHEMA,
    RejectionSummary,
    records,
    rejection_summary,
    write_rejected,
)

__all__ = [
    "REJECTED_COLUMNS",
    "REJECTED_SCHEMA",
    "SOURCE_ROW",
    "InputFileError",
    "LoadResult",
    "RejectionSummary",
    "RejectionThresholdError",
    "check_rejection_threshold",
    "load_customers",
    "load_invoices",
    "normalise_header",
    "rejection_summary",
    "write_rejected",
]

Entity = Literal["customers", "invoices"]

SOURCE_ROW: Final = "source_row"
#: The report's ``column`` for the invoice-total check.
TOTAL_COLUMN: Final = "base_amount+cgst+sgst+igst"
DUPLICATE_KEY: Final = (
    "duplicate: the same key on several rows (case, spaces around it and invisible characters ignored); "
    "all of them are rejected"
)
CUSTOMER_REJECTED: Final = "customer was rejected"
UNKNOWN_CUSTOMER: Final = "unknown customer_ref: not in the customer file"
DUE_BEFORE_ISSUE: Final = "due_date is before invoice_date"
PAID_OVER_TOTAL: Final = "more than the invoice total (base_amount + cgst + sgst + igst)"
STATUS_CONTRADICTS_PAID: Final = "contradicts amount_paid"
_FIELDS: Final[dict[Entity, tuple[Field, ...]]] = {"customers": CUSTOMER_FIELDS, "invoices": INVOICE_FIELDS}
_KEY: Final[dict[Entity, str]] = {"customers": "customer_ref", "invoices": "invoice_number"}
#: Normalised key columns of the valid frames: source column -> key column.
_KEY_COLUMNS: Final[dict[Entity, dict[str, str]]] = {
    "customers": {"customer_ref": "customer_key"},
    "invoices": {"invoice_number": "invoice_key", "customer_ref": "customer_key"},
}
_AMOUNTS: Final = ("base_amount", "cgst", "sgst", "igst")
_LISTED_ROWS: Final = 10  # rows named in a duplicate's reason; more are counted, not listed
#: Rows checked together: the checks' intermediate columns exist for one batch at a time.
VALIDATION_BATCH_ROWS: Final = 50_000


class RejectionThresholdError(InputFileError):
    """Too large a share of the input rows was rejected to trust the export."""


@dataclass(frozen=True)
class LoadResult:
    """One loaded file.

    ``valid``: typed rows (canonical columns, the normalised key columns, ``source_row``);
    ``rejected``: one line per rejected record (``REJECTED_SCHEMA``); ``problems``: one line per
    broken rule (``PROBLEM_SCHEMA``), for counting reasons; ``total_rows`` excludes blank rows.
    """

    entity: Entity
    file: str
    valid: pl.DataFrame
    rejected: pl.DataFrame
    total_rows: int
    rejected_rows: int
    problems: pl.DataFrame


@dataclass(frozen=True)
class _Check:
    """One rule's result columns in the checked frame (``rule`` generic, ``reason`` row-specific)."""

    column: str
    reason: str
    rule: str
    value: str


def load_customers(path: str | Path, *, mapping: Mapping[str, str] | None = None) -> LoadResult:
    """Load and validate the customer file.

    Example:
        >>> result = load_customers("erp/customers.csv")  # doctest: +SKIP
        >>> refs = result.valid["customer_ref"]  # doctest: +SKIP
    """
    return _load("customers", path, mapping, customers=None, ceiling=DEFAULT_MAX_INVOICE_AMOUNT)


def load_invoices(
    path: str | Path,
    *,
    customers: LoadResult | None = None,
    known_customer_refs: pl.Series | Iterable[str] | None = None,
    mapping: Mapping[str, str] | None = None,
    max_invoice_amount: Decimal | int | str = DEFAULT_MAX_INVOICE_AMOUNT,
) -> LoadResult:
    """Load and validate the invoice file.

    Args:
        path: the invoice file.
        customers: the loaded customer file: invoices must belong to one of its valid customers, and
            those of its rejected customers are rejected naming the customer's row and reasons.
        known_customer_refs: instead of ``customers``, just the valid refs (no reasons to name).
            With neither, the customer of an invoice is not checked.
        mapping: ERP header -> canonical column.
        max_invoice_amount: the ceiling for each amount and for base + taxes of one invoice.

    Example:
        >>> customers = load_customers("erp/customers.csv")  # doctest: +SKIP
        >>> invoices = load_invoices("erp/invoices.csv", customers=customers)  # doctest: +SKIP
    """
    if customers is not None and known_customer_refs is not None:
        raise ValueError("give either customers or known_customer_refs, not both")
    lookup = _customer_lookup(customers, known_customer_refs)
    return _load("invoices", path, mapping, customers=lookup, ceiling=_ceiling(max_invoice_amount))


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
        "mapping) and run again, or, if this is expected, raise the threshold (--rejection-threshold, or "
        "the rejection_threshold option)."
    )


def _ceiling(value: Decimal | int | str) -> Decimal:
    """``max_invoice_amount`` as a Decimal, or ``ValueError`` saying what is allowed."""
    try:
        amount = Decimal(value)
        exact = amount == amount.quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError(
            f"max_invoice_amount {value!r} is not a decimal amount such as 100000000.00"
        ) from exc
    if not exact or not Decimal(0) < amount <= MAX_CEILING:
        raise ValueError(
            f"max_invoice_amount must be above 0, at most {MAX_CEILING} and have at most 2 decimals; "
            f"got {value!r}"
        )
    return amount


def _customer_lookup(
    customers: LoadResult | None, refs: pl.Series | Iterable[str] | None
) -> tuple[pl.LazyFrame, pl.LazyFrame] | None:
    """Valid customers (``customer_key`` -> ``__known_ref``) and rejected ones (-> their reasons)."""
    rejected = pl.LazyFrame(schema={"customer_key": pl.String, "__customer_rejection": pl.String})
    if customers is not None:
        known = customers.valid.lazy().select("customer_key", pl.col("customer_ref").alias("__known_ref"))
        rejected = (
            customers.rejected.lazy()
            .with_columns(normalise_key_expr(pl.col("key")).alias("customer_key"))
            .filter(pl.col("customer_key").is_not_null())
            .group_by("customer_key")
            .agg(
                pl.format("row {}: {}", "row", "reason")
                .sort_by("row")
                .str.join("; ")
                .alias("__customer_rejection")
            )
        )
        return known, rejected
    if refs is not None:
        series = refs if isinstance(refs, pl.Series) else pl.Series(list(refs), dtype=pl.String)
        known = (
            pl.LazyFrame({"__known_ref": series.cast(pl.String)})
            .select(normalise_key_expr(pl.col("__known_ref")).alias("customer_key"), "__known_ref")
            .unique("customer_key", keep="first", maintain_order=True)
        )
        return known, rejected
    return None


def _load(
    entity: Entity,
    path: str | Path,
    mapping: Mapping[str, str] | None,
    *,
    customers: tuple[pl.LazyFrame, pl.LazyFrame] | None,
    ceiling: Decimal,
) -> LoadResult:
    file = str(path)
    what = f"The {entity} file {file}"
    fields = _FIELDS[entity]
    raw = read_raw(Path(path), what)
    renames = _canonical_columns(raw, fields, mapping, file, entity)
    lf = raw.frame.with_row_index(SOURCE_ROW, offset=2).select(
        pl.col(SOURCE_ROW).cast(pl.Int64), *(pl.col(src).alias(dst) for src, dst in renames.items())
    )
    schema = lf.collect_schema()
    lf = lf.with_columns(pl.lit(None, pl.String).alias(f.name) for f in fields if f.name not in schema)
    dtypes = {f.name: schema.get(f.name, pl.String()) for f in fields}
    # Spreadsheets often export trailing blank rows; they are nobody's data, so skip them.
    blank = [raw_text(c, dtypes[c]).str.strip_chars().fill_null("") == "" for c in renames.values()]
    rows = lf.filter(~pl.all_horizontal(blank))
    # Duplicate keys are the one check across rows: found over every row's key (read alone), first.
    shared = _duplicate_keys(rows, entity, dtypes, Path(path), what)
    # The checks run on batches of rows read one after the other, each let go of once checked: run on
    # every row at once, they held every intermediate column of every row together (1,000,000 invoices
    # peaked ~1 GiB above the process, for 172 MB of valid rows); on batches of rows all read first,
    # every row's cells were held to the last batch (~780 MiB).
    batches = [
        _check_batch(cells, entity, dtypes, shared, customers, ceiling, file, what)
        for cells in collect_batches(rows, VALIDATION_BATCH_ROWS, Path(path), what)
    ]
    valid = pl.concat([batch.valid for batch in batches])
    problems = pl.concat([batch.problems for batch in batches])
    rejected = records(problems.drop("rule"))
    return LoadResult(entity, file, valid, rejected, sum(b.rows for b in batches), rejected.height, problems)


@dataclass(frozen=True)
class _Batch:
    """What one batch of rows leaves: its valid rows (final columns), its problems, how many rows."""

    valid: pl.DataFrame
    problems: pl.DataFrame
    rows: int


def _check_batch(
    cells: pl.DataFrame,
    entity: Entity,
    dtypes: Mapping[str, pl.DataType],
    shared: pl.DataFrame,
    customers: tuple[pl.LazyFrame, pl.LazyFrame] | None,
    ceiling: Decimal,
    file: str,
    what: str,
) -> _Batch:
    """Every check of one batch of rows of ``file`` (``what`` names it in a failure)."""
    fields = _FIELDS[entity]
    # Three steps, so that every cell is parsed once: raw text and parsed values, then the problems
    # (reading those columns), then the values take the canonical names.
    checked = (
        cells.lazy()
        .with_columns(
            *(raw_text(f.name, dtypes[f.name]).alias(f"__raw_{f.name}") for f in fields),
            *(text_value(f.name, dtypes[f.name]).alias(f"__text_{f.name}") for f in fields),
            *(field_value(f, dtypes[f.name]).alias(f"__value_{f.name}") for f in fields),
            *(
                normalise_key_expr(raw_text(src, dtypes[src])).alias(key)
                for src, key in _KEY_COLUMNS[entity].items()
            ),
        )
        .with_columns(
            field_problem(
                f,
                dtypes[f.name],
                ceiling=ceiling,
                value=pl.col(f"__value_{f.name}"),
                text=pl.col(f"__text_{f.name}"),
            ).alias(f"__bad_{f.name}")
            for f in fields
        )
        .with_columns(pl.col(f"__value_{f.name}").alias(f.name) for f in fields)
    )
    checked, extra = _duplicates(checked, shared, entity)
    if entity == "invoices":
        checked, more = _invoice_checks(checked, customers, ceiling)
        extra += more
    # The parsed texts and values only feed the problem columns (the values live on under the canonical
    # names): dropped in the plan, so the collected frame does not hold them. Loading 300,000 invoices
    # peaked at 690-748 MiB with them, 556-585 MiB without (the same valid rows and problems).
    helpers = [f"__{part}_{f.name}" for f in fields for part in ("text", "value")]
    df = collect(checked.drop(helpers), Path(file), what)
    checks = []
    for f in fields:
        checks.append(_Check(f.name, f"__bad_{f.name}", f"__bad_{f.name}", f"__raw_{f.name}"))
        checks += [c for c in extra if c.column == f.name or (f.name == "igst" and c.column == TOTAL_COLUMN)]
    bad = pl.any_horizontal(pl.col(c.reason).is_not_null() for c in checks)
    customer_ref = pl.col("customer_ref")
    if "__known_ref" in df.columns:
        customer_ref = pl.coalesce("__known_ref", "customer_ref")
    valid = df.filter(~bad).select(
        *(
            (customer_ref if f.name == "customer_ref" else pl.col(f.name)).cast(f.dtype).alias(f.name)
            for f in fields
        ),
        *_KEY_COLUMNS[entity].values(),
        SOURCE_ROW,
    )
    return _Batch(valid, _problems(df, entity, file, checks), df.height)


def _duplicate_keys(
    rows: pl.LazyFrame, entity: Entity, dtypes: Mapping[str, pl.DataType], path: Path, what: str
) -> pl.DataFrame:
    """Per normalised key held by more than one row: how many rows, and the first of them as shown."""
    key, norm = _KEY[entity], next(iter(_KEY_COLUMNS[entity].values()))
    shown = pl.format("{} '{}'", SOURCE_ROW, show_invisible_expr(raw_text(key, dtypes[key])))
    plan = (
        rows.select(SOURCE_ROW, key, normalise_key_expr(raw_text(key, dtypes[key])).alias(norm))
        .filter(pl.col(norm).is_not_null() & (pl.len().over(norm) > 1))
        .group_by(norm)
        .agg(
            pl.len().cast(pl.Int64).alias("__dup_rows"),
            shown.sort_by(SOURCE_ROW).head(_LISTED_ROWS).str.join(", ").alias("__dup_list"),
        )
    )
    return collect(plan, path, what, streaming=True)


def _duplicates(lf: pl.LazyFrame, shared: pl.DataFrame, entity: Entity) -> tuple[pl.LazyFrame, list[_Check]]:
    """Rows whose key collides with another row's once normalised (``shared``, over the whole file):
    the reason lists those rows."""
    key, norm = _KEY[entity], next(iter(_KEY_COLUMNS[entity].values()))
    unlisted = pl.col("__dup_rows") - _LISTED_ROWS
    more = pl.when(unlisted > 0).then(pl.format(" and {} more", unlisted)).otherwise(pl.lit(""))
    lf = lf.join(shared.lazy(), on=norm, how="left", maintain_order="left").with_columns(
        pl.when(pl.col("__dup_rows").is_not_null()).then(pl.lit(DUPLICATE_KEY)).alias("__rule_dup"),
        pl.format(
            "duplicate: rows {}{} hold the same key (case, spaces around it and invisible characters "
            "ignored); all of them are rejected",
            "__dup_list",
            more,
        ).alias("__bad_dup"),
    )
    return lf, [_Check(key, "__bad_dup", "__rule_dup", f"__raw_{key}")]


def _invoice_checks(
    lf: pl.LazyFrame, customers: tuple[pl.LazyFrame, pl.LazyFrame] | None, ceiling: Decimal
) -> tuple[pl.LazyFrame, list[_Check]]:
    """Checks across cells of an invoice (dates, total) and against the customer file."""
    early = pl.col("due_date") < pl.col("invoice_date")
    amounts_ok = pl.all_horizontal(pl.col(f"__bad_{a}").is_null() for a in _AMOUNTS)
    total = pl.sum_horizontal(pl.col(a).cast(pl.Decimal(38, 2)) for a in _AMOUNTS)
    over = f"invoice total above the ceiling of {ceiling:.2f} per invoice: check the amounts in the ERP"
    lf = lf.with_columns(
        pl.when(early).then(pl.lit(DUE_BEFORE_ISSUE)).alias("__rule_due"),
        pl.when(early).then(pl.format("{} {}", pl.lit(DUE_BEFORE_ISSUE), "invoice_date")).alias("__bad_due"),
        total.cast(pl.String).alias("__total"),
        pl.when(amounts_ok & (total > ceiling)).then(pl.lit(over)).alias("__rule_total"),
    ).with_columns(pl.format("{} (total {})", "__rule_total", "__total").alias("__bad_total"))
    checks = [
        _Check("due_date", "__bad_due", "__rule_due", "__raw_due_date"),
        _Check(TOTAL_COLUMN, "__bad_total", "__rule_total", "__total"),
    ]
    lf, more = _paid_checks(lf, amounts_ok, total)
    checks += more
    if customers is None:
        return lf, checks
    known, rejected = customers
    lf = (
        lf.join(known, on="customer_key", how="left", maintain_order="left")
        .join(rejected, on="customer_key", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("__customer_rejection").is_not_null())
            .then(pl.lit(CUSTOMER_REJECTED))
            .alias("__rule_customer"),
            pl.format("customer {} was rejected ({})", "customer_ref", "__customer_rejection").alias(
                "__bad_customer"
            ),
            pl.when(
                pl.col("customer_key").is_not_null()
                & pl.col("__known_ref").is_null()
                & pl.col("__customer_rejection").is_null()
            )
            .then(pl.lit(UNKNOWN_CUSTOMER))
            .alias("__unknown_customer"),
        )
    )
    checks += [
        _Check("customer_ref", "__bad_customer", "__rule_customer", "__raw_customer_ref"),
        _Check("customer_ref", "__unknown_customer", "__unknown_customer", "__raw_customer_ref"),
    ]
    return lf, checks


def _paid_checks(lf: pl.LazyFrame, amounts_ok: pl.Expr, total: pl.Expr) -> tuple[pl.LazyFrame, list[_Check]]:
    """What the ERP says was paid must fit the invoice: not above its total, not against its status.

    A paid invoice may show less than its total (TDS withheld by the customer), so only an amount
    above the total, or a status that denies the amount (unpaid with money paid, paid or partly paid
    with nothing paid, partly paid with the whole total paid), is refused.
    """
    paid, status = pl.col("amount_paid").cast(pl.Decimal(38, 2)), pl.col("status")
    readable = amounts_ok & pl.col("__bad_amount_paid").is_null()
    over = readable & (paid > total)
    denied = pl.col("__bad_status").is_null() & (
        ((status == "unpaid") & (paid > 0))
        | (status.is_in(["partially_paid", "paid"]) & (paid == 0))
        | ((status == "partially_paid") & (paid >= total))
    )
    lf = lf.with_columns(
        pl.when(over).then(pl.lit(PAID_OVER_TOTAL)).alias("__rule_paid"),
        pl.when(over)
        .then(pl.format("more than the invoice total {} (base_amount + cgst + sgst + igst)", "__total"))
        .alias("__bad_paid"),
        pl.when(readable & denied).then(pl.lit(STATUS_CONTRADICTS_PAID)).alias("__rule_paid_status"),
        pl.when(readable & denied)
        .then(
            pl.format(
                "{} contradicts amount_paid {}: correct one of them in the ERP",
                "status",
                "__raw_amount_paid",
            )
        )
        .alias("__bad_paid_status"),
    )
    return lf, [
        _Check("amount_paid", "__bad_paid", "__rule_paid", "__raw_amount_paid"),
        _Check("status", "__bad_paid_status", "__rule_paid_status", "__raw_status"),
    ]


def _problems(df: pl.DataFrame, entity: Entity, file: str, checks: list[_Check]) -> pl.DataFrame:
    """One line per broken rule (``PROBLEM_SCHEMA``), in row order, then in ``checks`` order."""
    parts = [
        df.filter(pl.col(check.reason).is_not_null()).select(
            pl.lit(entity).alias("entity"),
            pl.lit(file).alias("file"),
            pl.col(SOURCE_ROW).alias("row"),
            pl.col(f"__raw_{_KEY[entity]}").alias("key"),
            pl.lit(check.column).alias("column"),
            pl.col(check.rule).alias("rule"),
            pl.col(check.reason).alias("reason"),
            pl.col(check.value).alias("value"),
            pl.lit(order).alias("__order"),
        )
        for order, check in enumerate(checks)
    ]
    empty = pl.DataFrame(schema=PROBLEM_SCHEMA | {"__order": pl.Int32})
    return pl.concat([empty, *parts], how="vertical_relaxed").sort("row", "__order").drop("__order")


def _column_letter(index: int) -> str:
    """A 0-based column index as a spreadsheet names the column (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _canonical_columns(
    raw: RawFile, fields: tuple[Field, ...], mapping: Mapping[str, str] | None, file: str, entity: Entity
) -> dict[str, str]:
    """Source column -> canonical name; ``InputFileError`` for repeated or missing columns."""
    what = f"The {entity} file {file}"
    names = {f.name for f in fields}
    wanted = {normalise_header(k): v for k, v in (mapping or {}).items()}
    if stray := sorted(set(wanted.values()) - names):
        raise InputFileError(
            f"The mapping for {file} targets {stray}, which are not {entity} columns: {sorted(names)}."
        )
    sources = raw.frame.collect_schema().names()  # unique names, in the same order as raw.headers
    found: dict[str, list[int]] = {}
    for index, header in enumerate(raw.headers):
        target = wanted.get(normalise_header(header), normalise_header(header))
        if target in names:
            found.setdefault(target, []).append(index)
    if repeated := {target: at for target, at in found.items() if len(at) > 1}:
        listing = "; ".join(
            f"{target} from " + " and ".join(f"{raw.headers[i]!r} (column {_column_letter(i)})" for i in at)
            for target, at in repeated.items()
        )
        raise InputFileError(
            f"{what} has more than one column for the same field: {listing}. Which one the ERP meant "
            "cannot be known: keep one of them (delete or rename the others) and export again, or "
            "correct the column mapping."
        )
    missing = [f.name for f in fields if f.required and f.name not in found]
    if missing:
        hints = [
            f"{m!r} looks like {close[0]!r}"
            for m in missing
            if (close := difflib.get_close_matches(m, [normalise_header(c) for c in raw.headers], 1, 0.6))
        ]
        near = f" ({'; '.join(hints)})" if hints else ""
        option = f"{entity[:-1]}_columns"
        raise InputFileError(
            f"{what} lacks required columns {missing}{near}. Columns found: {raw.headers}. "
            f"Rename them in the export, or give a column mapping (ERP header -> canonical name): the "
            f"{option} option of the flow, or on the command line --{option[:-1].replace('_', '-')} "
            f"'ERP header={missing[0]}'."
        )
    return {sources[at[0]]: target for target, at in found.items()}
