"""Realistic demo ERP exports: Indian customers and GST invoices, deterministic under a seed.

Randomness is a splitmix64 hash of (row index, seed, stream) computed as polars UInt64 expressions,
so a million invoices take about a second, need no numpy, and the same seed gives the same files on
every machine and polars version (the hash is ours, not polars' unstable ``Expr.hash``).

With ``bad_rows=True`` a few rows (about 2-4 %) are made invalid at fixed positions, one kind per
position, so ``injected_bad_rows`` can say exactly how many rows the loader must reject. Invoices only
reference valid customers, except the deliberate unknown-customer rows. Dates are written as ISO text
(so a bad date can sit in the same column); amounts are numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Final, Literal

import polars as pl

from ar_sync.erp_fields import gstin_check_char
from enkash_ar.contract import MOBILE_PATTERN

FileFormat = Literal["csv", "parquet", "xlsx"]

#: (GST state code, state, city, PIN prefix); the seller sits in the first one.
STATES: Final = (
    ("27", "Maharashtra", "Mumbai", "400"),
    ("29", "Karnataka", "Bengaluru", "560"),
    ("07", "Delhi", "New Delhi", "110"),
    ("33", "Tamil Nadu", "Chennai", "600"),
    ("24", "Gujarat", "Ahmedabad", "380"),
    ("09", "Uttar Pradesh", "Lucknow", "226"),
    ("19", "West Bengal", "Kolkata", "700"),
    ("36", "Telangana", "Hyderabad", "500"),
    ("08", "Rajasthan", "Jaipur", "302"),
    ("32", "Kerala", "Kochi", "682"),
)
SELLER_STATE_CODE: Final = STATES[0][0]
CUSTOMER_SCHEMA: Final = pl.Schema(
    dict.fromkeys(
        (
            "customer_ref",
            "legal_name",
            "contact_name",
            "mobile",
            "email",
            "gstin",
            "address",
            "state",
            "pin_code",
        ),
        pl.String(),
    )
)
INVOICE_SCHEMA: Final = pl.Schema(
    dict.fromkeys(("invoice_number", "customer_ref", "invoice_date", "due_date"), pl.String())
    | dict.fromkeys(("base_amount", "cgst", "sgst", "igst"), pl.Float64())
    | {"description": pl.String(), "po_number": pl.String(), "partial_payment_allowed": pl.Boolean()}
)
_FIRMS: Final = ("Shree Ganesh", "Mehta", "Sai Krishna", "Bharat", "Kaveri", "Om Sai", "Lakshmi", "Patel")
_FIRMS2: Final = ("Agarwal", "Sri Venkateswara", "Navbharat", "Jai Hind", "Annapurna", "Vijay", "Rathi")
_TRADES: Final = ("Traders", "Textiles", "Steels", "Pharma", "Agro Industries", "Polymers", "Electricals")
_TRADES2: Final = ("Logistics", "Foods", "Engineering Works", "Chemicals", "Auto Parts", "Enterprises")
_FORMS: Final = ("Pvt Ltd", "LLP", "Private Limited", "& Co", "Ltd")
_PAN_HOLDER: Final = ("C", "F", "C", "F", "C")  # PAN 4th character: C company, F firm/LLP
_FIRST: Final = ("Ravi", "Priya", "Amit", "Sunita", "Rajesh", "Anjali", "Vikram", "Meena", "Suresh", "Kavya")
_LAST: Final = ("Sharma", "Iyer", "Patel", "Reddy", "Gupta", "Nair", "Joshi", "Khan", "Das", "Kulkarni")
_STREETS: Final = ("MG Road", "Station Road", "Industrial Area Phase II", "Ring Road", "Gandhi Nagar")
_ITEMS: Final = ("Supply of goods", "Freight charges", "Maintenance services", "Raw material", "Spares")
_TERMS: Final = (15, 30, 45, 60)
_LETTERS: Final = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_U64: Final = pl.UInt64
# Bad-row positions: row i is bad when i % stride == offset (0-based data row index).
_CUSTOMER_STRIDE, _BAD_MOBILE, _NO_LEGAL_NAME = 100, 17, 41
_INVOICE_STRIDE: Final = 300
_ZERO, _NEGATIVE, _UNKNOWN_REF, _BAD_DATE, _DUE_BEFORE, _DUPLICATE = 17, 67, 117, 167, 217, 267


def _random(seed: int, stream: int) -> pl.Expr:
    """A uniform UInt64 per row (splitmix64 of row index, seed and stream)."""
    salt = ((seed * 0x9E3779B1 + stream * 0x85EBCA77) * 0xD1B54A32D192ED03) & 0xFFFFFFFFFFFFFFFF
    x = pl.int_range(pl.len(), dtype=_U64) * pl.lit(0x9E3779B97F4A7C15, _U64) + pl.lit(salt, _U64)
    x = (x ^ (x // pl.lit(1 << 30, _U64))) * pl.lit(0xBF58476D1CE4E5B9, _U64)
    x = (x ^ (x // pl.lit(1 << 27, _U64))) * pl.lit(0x94D049BB133111EB, _U64)
    return x ^ (x // pl.lit(1 << 31, _U64))


def _uniform(seed: int, stream: int) -> pl.Expr:
    """A uniform float in [0, 1) per row."""
    return (_random(seed, stream) // pl.lit(1 << 11, _U64)).cast(pl.Float64) / float(1 << 53)


def _index(seed: int, stream: int, size: int) -> pl.Expr:
    """A uniform integer index in [0, size) per row."""
    return (_random(seed, stream) % pl.lit(size, _U64)).cast(pl.Int64)


def _pick(values: tuple[str, ...] | tuple[int, ...], seed: int, stream: int) -> pl.Expr:
    """A uniform choice from ``values`` per row."""
    return pl.lit(pl.Series(values)).gather(_index(seed, stream, len(values)))


def _digits(seed: int, stream: int, width: int) -> pl.Expr:
    """``width`` random decimal digits as text (leading zeros kept)."""
    return _index(seed, stream, 10**width).cast(pl.String).str.zfill(width)


def _at(stride: int, offset: int) -> pl.Expr:
    """Rows whose 0-based index is ``offset`` modulo ``stride``: where one kind of bad row goes."""
    return pl.int_range(pl.len()) % stride == offset


def _rows(n: int) -> pl.LazyFrame:
    """A frame of ``n`` rows to evaluate the per-row expressions against."""
    return pl.LazyFrame().select(pl.int_range(n).alias("_row"))


def _gather(values: Sequence[object], index: pl.Expr) -> pl.Expr:
    """``values[index]`` per row."""
    return pl.lit(pl.Series(values)).gather(index)


def sample_customers(
    n: int = 50, *, seed: int = 7, bad_rows: bool = True, first_number: int = 0
) -> pl.DataFrame:
    """``n`` customers in the canonical ERP columns, refs ``CUST00001``... from ``first_number + 1``."""
    # Materialise the shared draws first: reusing them inline makes polars' plan optimiser crawl.
    draws = _rows(n).select(
        _state=_index(seed, 1, len(STATES)),
        _firm=_pick(_FIRMS + _FIRMS2, seed, 2),
        _form=_index(seed, 3, len(_FORMS)),
        _first=_pick(_FIRST, seed, 4),
        _last=_pick(_LAST, seed, 5),
    )
    state, firm, form = pl.col("_state"), pl.col("_firm"), pl.col("_form")
    first, last = pl.col("_first"), pl.col("_last")
    letter = [_pick(_LETTERS, seed, stream) for stream in (6, 7, 8, 10)]
    # PAN: 3 letters, holder type, the name's initial, 4 digits, 1 letter.
    pan = pl.concat_str(
        *letter[:3], _gather(list(_PAN_HOLDER), form), firm.str.slice(0, 1), _digits(seed, 9, 4), letter[3]
    )
    gstin14 = pl.concat_str(_gather([s[0] for s in STATES], state), pan, pl.lit("1Z"))
    domain = firm.str.replace_all(" ", "").str.to_lowercase()
    number = pl.int_range(pl.len()) + first_number + 1
    frame = draws.select(
        customer_ref=pl.format("CUST{}", number.cast(pl.String).str.zfill(5)),
        legal_name=pl.concat_str(
            firm, _pick(_TRADES + _TRADES2, seed, 11), _gather(list(_FORMS), form), separator=" "
        ),
        contact_name=pl.concat_str(first, last, separator=" "),
        mobile=pl.concat_str(_pick(("6", "7", "8", "9"), seed, 12), _digits(seed, 13, 9)),
        # Some customers keep no e-mail or are unregistered for GST, as in real ledgers.
        email=pl.when(_uniform(seed, 14) < 0.9).then(
            pl.format("{}.{}@{}.in", first, last, domain).str.to_lowercase()
        ),
        gstin=pl.when(_uniform(seed, 15) < 0.9).then(gstin14),
        address=pl.format(
            "{}, {}, {}",
            _index(seed, 16, 300) + 1,
            _pick(_STREETS, seed, 17),
            _gather([s[2] for s in STATES], state),
        ),
        state=_gather([s[1] for s in STATES], state),
        pin_code=pl.concat_str(_gather([s[3] for s in STATES], state), _digits(seed, 18, 3)),
    ).with_columns(
        # A separate step: inlining the 14-character sum into the GSTIN expression blows up the plan.
        gstin=pl.concat_str("gstin", gstin_check_char(pl.col("gstin")))
    )
    if bad_rows:
        frame = frame.with_columns(
            mobile=pl.when(_at(_CUSTOMER_STRIDE, _BAD_MOBILE)).then(pl.lit("98765")).otherwise("mobile"),
            legal_name=pl.when(~_at(_CUSTOMER_STRIDE, _NO_LEGAL_NAME)).then("legal_name"),
        )
    return frame.collect().cast(CUSTOMER_SCHEMA)


def sample_invoices(
    customers: pl.DataFrame,
    n: int = 500,
    *,
    as_of: date,
    seed: int = 7,
    bad_rows: bool = True,
    first_number: int = 0,
    spread_days: int = 120,
) -> pl.DataFrame:
    """``n`` invoices of the valid ``customers``, dated over the ``spread_days`` before ``as_of``.

    Amounts are log-uniform from 1,000 to 5,00,000 INR; GST is CGST+SGST 9 % each for customers in the
    seller's state and IGST 18 % otherwise; terms are 15/30/45/60 days so every aging bucket fills.
    """
    valid = customers.filter(
        pl.col("legal_name").is_not_null() & pl.col("mobile").str.contains(MOBILE_PATTERN)
    )
    codes = {s[1]: s[0] for s in STATES}
    local = valid["state"].replace_strict(codes, default="").eq(SELLER_STATE_CODE).to_list()
    who = _index(seed, 21, valid.height)
    # Materialise the shared draws first: reusing them inline makes polars' plan optimiser crawl.
    draws = _rows(n).select(
        _who=who,
        _intra=_gather(local, who),
        _issued=pl.lit(as_of) - pl.duration(days=_index(seed, 22, spread_days)),
        _term=_pick(_TERMS, seed, 23),
        _base=((_uniform(seed, 24) * 6.2146).exp() * 1000).round(2),  # ln(500) = 6.2146: 1e3 .. 5e5
    )
    intra, issued, base = pl.col("_intra"), pl.col("_issued"), pl.col("_base")
    due = issued + pl.duration(days=pl.col("_term"))
    fiscal_year = issued.dt.year() - (issued.dt.month() < 4).cast(pl.Int32)
    number = (pl.int_range(pl.len()) + first_number + 1).cast(pl.String).str.zfill(6)
    frame = draws.select(
        invoice_number=pl.format(
            "INV/{}-{}/{}", fiscal_year, ((fiscal_year + 1) % 100).cast(pl.String).str.zfill(2), number
        ),
        customer_ref=_gather(valid["customer_ref"].to_list(), pl.col("_who")),
        invoice_date=issued.dt.to_string("%Y-%m-%d"),
        due_date=due.dt.to_string("%Y-%m-%d"),
        base_amount=base,
        cgst=pl.when(intra).then((base * 0.09).round(2)),
        sgst=pl.when(intra).then((base * 0.09).round(2)),
        igst=pl.when(~intra).then((base * 0.18).round(2)),
        description=pl.format("{} - order {}", _pick(_ITEMS, seed, 25), _digits(seed, 26, 4)),
        po_number=pl.when(_uniform(seed, 27) < 0.4).then(pl.format("PO-{}", _digits(seed, 28, 5))),
        partial_payment_allowed=_uniform(seed, 29) < 0.7,
    )
    if bad_rows:
        at = lambda offset: _at(_INVOICE_STRIDE, offset)  # noqa: E731
        frame = frame.with_columns(
            base_amount=pl.when(at(_ZERO))
            .then(0.0)
            .when(at(_NEGATIVE))
            .then(-500.0)
            .otherwise("base_amount"),
            customer_ref=pl.when(at(_UNKNOWN_REF)).then(pl.lit("CUST-NOT-IN-ERP")).otherwise("customer_ref"),
            # The Indian dd/mm/yyyy habit: the most common bad date in real exports.
            due_date=pl.when(at(_BAD_DATE))
            .then(pl.col("due_date").str.to_date().dt.to_string("%d/%m/%Y"))
            .when(at(_DUE_BEFORE))
            .then((pl.col("invoice_date").str.to_date() - pl.duration(days=5)).dt.to_string("%Y-%m-%d"))
            .otherwise("due_date"),
            invoice_number=pl.when(at(_DUPLICATE))
            .then(pl.col("invoice_number").shift(1))
            .otherwise("invoice_number"),
        )
    return frame.collect().cast(INVOICE_SCHEMA)


def injected_bad_rows(customers: int, invoices: int) -> dict[str, int]:
    """How many rows ``bad_rows=True`` makes invalid in files of these sizes (a duplicate spoils two)."""

    def hits(n: int, stride: int, offset: int) -> int:
        return max(0, (n - offset + stride - 1) // stride)

    kinds = (_ZERO, _NEGATIVE, _UNKNOWN_REF, _BAD_DATE, _DUE_BEFORE)
    return {
        "customers": hits(customers, _CUSTOMER_STRIDE, _BAD_MOBILE)
        + hits(customers, _CUSTOMER_STRIDE, _NO_LEGAL_NAME),
        "invoices": sum(hits(invoices, _INVOICE_STRIDE, k) for k in kinds)
        + 2 * hits(invoices, _INVOICE_STRIDE, _DUPLICATE),
    }


def next_night(
    customers: pl.DataFrame,
    invoices: pl.DataFrame,
    *,
    as_of: date,
    seed: int = 8,
    changed_fraction: float = 0.05,
    new_fraction: float = 0.02,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The next export of frames made here: some rows changed, some new rows, bad rows kept as they are.

    Changed customers get a new e-mail and address; changed invoices a due date 15 days later and a
    revised description. New customers and invoices (``new_fraction`` of each file, at least one) are
    numbered after the existing ones and new invoices are dated in the week before ``as_of``.
    """
    pick = _uniform(seed, 31) < changed_fraction
    changed_customers = customers.with_columns(
        email=pl.when(pick & pl.col("email").is_not_null())
        .then(pl.format("accounts.{}", "email"))
        .otherwise("email"),
        address=pl.when(pick).then(pl.format("Unit 2, {}", "address")).otherwise("address"),
    )
    later = pl.col("due_date").str.to_date("%Y-%m-%d", strict=False) + pl.duration(days=15)
    changed_invoices = invoices.with_columns(
        due_date=pl.when(_uniform(seed, 32) < changed_fraction)
        .then(pl.coalesce(later.dt.to_string("%Y-%m-%d"), "due_date"))
        .otherwise("due_date")
    ).with_columns(
        description=pl.when(pl.col("due_date") != invoices["due_date"])
        .then(pl.format("{} (revised)", "description"))
        .otherwise("description")
    )
    new_customers = sample_customers(
        max(1, round(customers.height * new_fraction)),
        seed=seed,
        bad_rows=False,
        first_number=customers.height,
    )
    all_customers = pl.concat([changed_customers, new_customers])
    new_invoices = sample_invoices(
        all_customers,
        max(1, round(invoices.height * new_fraction)),
        as_of=as_of,
        seed=seed,
        bad_rows=False,
        first_number=invoices.height,
        spread_days=7,
    )
    return all_customers, pl.concat([changed_invoices, new_invoices])


def write_frame(frame: pl.DataFrame, path: Path, file_format: FileFormat) -> Path:
    """Write one ERP frame as CSV, Parquet or XLSX."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if file_format == "csv":
        frame.write_csv(path)
    elif file_format == "parquet":
        frame.write_parquet(path)
    else:
        frame.write_excel(path, autofit=False)
    return path


def read_frame(path: Path, like: pl.Schema) -> pl.DataFrame:
    """Read back an ERP file written by ``write_frame`` with the generator's column types."""
    if path.suffix == ".csv":
        return pl.read_csv(path, schema=like)
    if path.suffix == ".parquet":
        return pl.read_parquet(path)
    return pl.read_excel(path, schema_overrides=like).select(like.names()).cast(like)


def generate_erp_files(
    out_dir: str | Path,
    *,
    as_of: date,
    customers: int = 50,
    invoices: int = 500,
    seed: int = 7,
    bad_rows: bool = True,
    file_format: FileFormat = "csv",
) -> tuple[Path, Path]:
    """Write ``customers.<fmt>`` and ``invoices.<fmt>`` demo exports into ``out_dir``; return both paths."""
    out = Path(out_dir)
    customer_frame = sample_customers(customers, seed=seed, bad_rows=bad_rows)
    invoice_frame = sample_invoices(customer_frame, invoices, as_of=as_of, seed=seed, bad_rows=bad_rows)
    return (
        write_frame(customer_frame, out / f"customers.{file_format}", file_format),
        write_frame(invoice_frame, out / f"invoices.{file_format}", file_format),
    )


def mutate_erp_files(
    customers_path: str | Path,
    invoices_path: str | Path,
    out_dir: str | Path,
    *,
    as_of: date,
    seed: int = 8,
    changed_fraction: float = 0.05,
    new_fraction: float = 0.02,
) -> tuple[Path, Path]:
    """Write the next night's export (see ``next_night``) of files made by ``generate_erp_files``."""
    c_path, i_path = Path(customers_path), Path(invoices_path)
    schema_c, schema_i = (
        sample_customers(0).schema,
        sample_invoices(sample_customers(1), 0, as_of=as_of).schema,
    )
    customers, invoices = next_night(
        read_frame(c_path, schema_c),
        read_frame(i_path, schema_i),
        as_of=as_of,
        seed=seed,
        changed_fraction=changed_fraction,
        new_fraction=new_fraction,
    )
    file_format: FileFormat = c_path.suffix.lstrip(".")  # type: ignore[assignment]
    out = Path(out_dir)
    return (
        write_frame(customers, out / c_path.name, file_format),
        write_frame(invoices, out / i_path.name, file_format),
    )
