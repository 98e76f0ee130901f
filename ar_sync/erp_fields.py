"""The canonical ERP input columns and the polars expressions that parse and check one cell.

Every rule here is a function returning a ``pl.Expr`` over one raw column, so the loader can run all of
them in one lazy plan over millions of rows. A rule yields the parsed value (null when absent or
unparseable) and a problem (a human-readable reason, or null when the cell is fine).

Cell conventions, whatever the file type (XLSX workbooks are read as text, cell by cell, so one odd
cell never changes how the rest of its column is read):

- text is stripped of surrounding whitespace and of bidi-control characters (they reorder what a
  reader sees); an empty cell is "not given";
- keys (``invoice_number``, ``customer_ref``) also lose zero-width characters (:mod:`ar_sync.keys`);
- names (``legal_name``, ``contact_name``) that a spreadsheet would run as a formula are refused;
- a number in a text column (a mobile or PIN code typed as a number in Excel or Parquet) is read as its
  integer digits, so ``9876543210.0`` is ``"9876543210"``;
- mobiles are Indian: 10 digits starting with 6-9, after an optional +91 / 91 / 0 prefix, with any
  spaces and hyphens; they are kept as the 10 digits;
- dates are ISO ``yyyy-MM-dd`` text (a time after it is ignored), native date/datetime cells, or Excel
  day numbers from 1990 to 2099 (``46350`` is 2026-11-24);
- amounts are exact decimals (see :func:`amount_problem`): never rounded, never read through a float.
- booleans are native, 1/0, or true/false/yes/no/y/n in any case;
- an invoice's payment ``status`` (optional, with ``amount_paid``: what the ERP already knows was paid)
  is ``unpaid``, ``partially_paid`` or ``paid``, in any case, with spaces or hyphens, or one of the
  common ERP words for them (:data:`PAYMENT_STATUS_WORDS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final, Literal

import polars as pl

from ar_sync.csv_safety import looks_like_formula_expr
from ar_sync.keys import clean_key_expr, strip_bidi_expr
from enkash_ar.contract import EMAIL_PATTERN, MIN_BASE_AMOUNT

Kind = Literal[
    "key", "name", "text", "mobile", "email", "gstin", "pin_code", "date", "amount", "bool", "payment_status"
]

#: The GSTIN character set; a character's position is its value in the check-character sum.
GSTIN_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: State code 01-38, PAN (5 letters, 4 digits, 1 letter), entity number, 'Z', check character.
GSTIN_PATTERN: Final = r"^(0[1-9]|[12][0-9]|3[0-8])[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$"
PIN_CODE_PATTERN: Final = r"^[1-9][0-9]{5}$"
#: The valid frame's amount type: exact to the paisa, up to 16 digits before the decimal point.
AMOUNT_DTYPE: Final = pl.Decimal(precision=18, scale=2)
#: Default ceiling per invoice (10 crore INR): an amount or invoice total above it is rejected.
DEFAULT_MAX_INVOICE_AMOUNT: Final = Decimal("100000000.00")
#: The highest ceiling the loader accepts: below it, a binary float cell still tells paise apart.
MAX_CEILING: Final = Decimal("9999999999999.99")
#: Excel day numbers taken as dates: 1990-01-01 .. 2099-12-31 (anything else is a typo).
EXCEL_DAY_RANGE: Final = (32874, 73050)
_EXCEL_EPOCH: Final = date(1899, 12, 30)  # day 0, with Excel's 1900 leap-year bug folded in

_ISO_DATE: Final = r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$"
_EXCEL_DAY: Final = r"^\d{5}(\.\d+)?$"
_MOBILE: Final = r"^(?:\+91|0091|91|0)?(\d{10})$"
#: A plain number, or one grouped in thousands (Western 1,234,567.89 or Indian 12,34,567.89) ...
_AMOUNT_SHAPE: Final = r"^-?(\d+|\d{1,3}(,\d{3})+|\d{1,2}(,\d{2})*,\d{3})"
#: ... with at most 2 decimals, or more that are only zeros (4053.140 is exactly 4053.14).
_AMOUNT_TEXT: Final = _AMOUNT_SHAPE + r"(\.\d{1,2}0*)?$"
_AMOUNT_ANY_DECIMALS: Final = _AMOUNT_SHAPE + r"(\.\d+)?$"
#: European 4.053,14 or a bare 4053,14: a comma before the last one or two digits.
_DECIMAL_COMMA: Final = r"^-?\d+(\.\d{3})*,\d{1,2}$"
_DIGITS_AND_COMMAS: Final = r"^-?[\d,]*\d[\d,]*(\.\d+)?$"
#: What a float cell's shortest text must look like to be an amount (polars writes 100.0 for 100).
_FLOAT_TEXT: Final = r"^-?\d+(\.\d{1,2})?$"
_TRUE: Final = ("true", "yes", "y", "1")
_FALSE: Final = ("false", "no", "n", "0")

NOT_A_NUMBER: Final = "not a number: expected a plain decimal such as 1234.50"
DECIMAL_COMMA: Final = "decimal comma: a comma is only a thousands separator here; write 4053.14, not 4053,14"
ODD_GROUPING: Final = (
    "misplaced thousands separator: group digits as 1,234,567.89 (Western) or 12,34,567.89 (Indian)"
)
TOO_MANY_DECIMALS: Final = (
    "more than 2 decimals: amounts are rupees and paise; round it in the ERP (it is never rounded here)"
)
FORMULA_NAME: Final = (
    "starts with =, +, - or @, so a spreadsheet would run it as a formula: remove that first character "
    "in the ERP"
)
NOT_A_MOBILE: Final = (
    "not a mobile number: expected 10 digits, optionally after +91, 91 or 0 (spaces and hyphens are fine)"
)
NOT_A_REAL_MOBILE: Final = "cannot be a real Indian mobile number: it must start with 6, 7, 8 or 9"
NOT_A_DATE: Final = "not a date: expected yyyy-MM-dd, a date cell or an Excel date"
#: ERP words for an invoice's payment state -> the canonical one (keys lower case, ``_`` for spaces).
PAYMENT_STATUS_WORDS: Final = {
    "unpaid": "unpaid",
    "open": "unpaid",
    "outstanding": "unpaid",
    "due": "unpaid",
    "partially_paid": "partially_paid",
    "part_paid": "partially_paid",
    "partly_paid": "partially_paid",
    "partial": "partially_paid",
    "paid": "paid",
    "fully_paid": "paid",
    "settled": "paid",
    "closed": "paid",
}
NOT_A_PAYMENT_STATUS: Final = (
    "not a payment status: expected unpaid, partially_paid or paid (a cancelled invoice is left out of "
    "the export instead)"
)


@dataclass(frozen=True)
class Field:
    """One canonical input column: how to parse it and whether a row needs it."""

    name: str
    kind: Kind = "text"
    required: bool = False
    minimum: Decimal | None = None

    @property
    def dtype(self) -> pl.DataType:
        """The polars type of the parsed column in the loader's valid frame."""
        return {"date": pl.Date(), "amount": AMOUNT_DTYPE, "bool": pl.Boolean()}.get(self.kind, pl.String())


CUSTOMER_FIELDS: Final = (
    Field("customer_ref", "key", required=True),
    Field("legal_name", "name", required=True),
    Field("contact_name", "name", required=True),
    Field("mobile", "mobile", required=True),
    Field("email", "email"),
    Field("gstin", "gstin"),
    Field("address"),
    Field("state"),
    Field("pin_code", "pin_code"),
)

INVOICE_FIELDS: Final = (
    Field("invoice_number", "key", required=True),
    Field("customer_ref", "key", required=True),
    Field("invoice_date", "date"),
    Field("due_date", "date", required=True),
    Field("base_amount", "amount", required=True, minimum=Decimal(str(MIN_BASE_AMOUNT))),
    Field("cgst", "amount", minimum=Decimal(0)),
    Field("sgst", "amount", minimum=Decimal(0)),
    Field("igst", "amount", minimum=Decimal(0)),
    Field("description"),
    Field("po_number"),
    Field("partial_payment_allowed", "bool"),
    # What the ERP already knows was paid: compared with EnKash's receipts and reported, never sent.
    Field("amount_paid", "amount", minimum=Decimal(0)),
    Field("status", "payment_status"),
)


def raw_text(col: str, dtype: pl.DataType) -> pl.Expr:
    """The cell as text, for the rejected-rows report (null when the cell is empty)."""
    expr = pl.col(col)
    if dtype.is_float():
        # Integral floats print without ".0" so an Excel-typed mobile reads as the user typed it.
        integral = (expr == expr.round()) & (expr.abs() < 1e15)
        expr = pl.when(integral).then(expr.cast(pl.Int64, strict=False)).otherwise(expr)
    return expr.cast(pl.String)


def text_value(col: str, dtype: pl.DataType) -> pl.Expr:
    """The cell as stripped text without bidi controls; empty or blank cells become null."""
    text = strip_bidi_expr(raw_text(col, dtype)).str.strip_chars()
    return pl.when(text != "").then(text)


def mobile_value(col: str, dtype: pl.DataType) -> pl.Expr:
    """The 10 digits of an Indian mobile number (+91 / 91 / 0 prefix, spaces, hyphens dropped)."""
    return text_value(col, dtype).str.replace_all(r"[\s\-]", "").str.extract(_MOBILE, 1)


def _excel_day(number: pl.Expr) -> pl.Expr:
    """A day number as Excel counts them (fraction = time of day, dropped); null outside 1990-2099."""
    day = number.floor().cast(pl.Int64, strict=False)
    first, last = EXCEL_DAY_RANGE
    return pl.when(day.is_between(first, last)).then(pl.lit(_EXCEL_EPOCH) + pl.duration(days=day))


def date_value(col: str, dtype: pl.DataType) -> pl.Expr:
    """The cell as a date: native date/datetime, ISO ``yyyy-MM-dd`` text, or an Excel day number."""
    if dtype == pl.Date:
        return pl.col(col)
    if isinstance(dtype, pl.Datetime):
        return pl.col(col).dt.date()
    if dtype.is_numeric():
        return _excel_day(pl.col(col).cast(pl.Float64))
    text = text_value(col, dtype)
    # The regex guard: chrono alone would also take "2026-1-5", which the contract does not allow.
    iso = text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    day = _excel_day(text.cast(pl.Float64, strict=False))
    return pl.when(text.str.contains(_ISO_DATE)).then(iso).when(text.str.contains(_EXCEL_DAY)).then(day)


def amount_value(col: str, dtype: pl.DataType) -> pl.Expr:
    """The cell as an exact ``Decimal(38, 2)``; null when it is not an acceptable amount.

    Text must be a plain or thousands-grouped decimal with at most 2 significant decimals; a binary
    float cell must be exactly the float of such a decimal (4053.14 is; 4053.145 is not). Anything
    above :data:`MAX_CEILING` is null too: no ceiling can allow it.
    """
    if dtype.is_float():
        # The shortest text that reads back as the same float is what the ERP wrote: 4053.14 stays
        # "4053.14" and 4053.145 stays "4053.145". Arithmetic on the float would not do: polars may
        # divide by multiplying with a rounded reciprocal.
        number, text = pl.col(col).cast(pl.Float64), pl.col(col).cast(pl.String)
        exact = number.is_finite() & (number.abs() <= float(MAX_CEILING)) & text.str.contains(_FLOAT_TEXT)
        return pl.when(exact).then(text.str.to_decimal(scale=2))
    if dtype.is_integer():
        number = pl.col(col)
        return pl.when(number.abs() <= int(MAX_CEILING)).then(number.cast(pl.Decimal(38, 2)))
    text = text_value(col, dtype)
    digits = pl.when(text.str.contains(_AMOUNT_TEXT)).then(text.str.replace_all(",", "", literal=True))
    parsed = digits.str.to_decimal(scale=2)  # exact: the pattern left only zeros past the 2nd decimal
    return pl.when(parsed.abs() <= MAX_CEILING).then(parsed)


def amount_problem(
    field: Field, dtype: pl.DataType, ceiling: Decimal, value: pl.Expr | None = None
) -> pl.Expr:
    """Why an amount cell is unacceptable (null when fine or empty).

    For a cell that is not an amount, the reason names the first thing to fix: its shape (decimal
    comma, misplaced separators, not a number), then more than 2 decimals; for an amount, the
    minimum, then the ceiling. ``value`` is :func:`amount_value` when the caller already has it.
    """
    value = amount_value(field.name, dtype) if value is None else value
    minimum = field.minimum if field.minimum is not None else Decimal(0)
    below = (
        f"must be at least {minimum}" if field.minimum is not None and minimum > 0 else "must not be negative"
    )
    above = f"above the ceiling of {ceiling:.2f} per invoice: check the amount in the ERP"
    if dtype.is_numeric():
        number = pl.col(field.name).cast(pl.Float64)
        return (
            pl.when(~number.is_finite())
            .then(pl.lit(NOT_A_NUMBER))
            .when(number < float(minimum))
            .then(pl.lit(below))
            .when(number > float(ceiling))
            .then(pl.lit(above))
            .when(value.is_null())
            .then(pl.lit(TOO_MANY_DECIMALS))
        )
    # Only the cells that failed are looked at again (null elsewhere, which the regexes skip).
    failed = pl.when(value.is_null()).then(text_value(field.name, dtype))
    why_not = (
        pl.when(failed.str.contains(_AMOUNT_ANY_DECIMALS))
        .then(
            pl.when(~failed.str.contains(_AMOUNT_TEXT))
            .then(pl.lit(TOO_MANY_DECIMALS))
            .when(failed.str.starts_with("-"))
            .then(pl.lit(below))
            .otherwise(pl.lit(above))  # too many digits for any amount
        )
        .when(failed.str.contains(_DECIMAL_COMMA))
        .then(pl.lit(DECIMAL_COMMA))
        .when(failed.str.contains(_DIGITS_AND_COMMAS))
        .then(pl.lit(ODD_GROUPING))
        .when(failed.is_not_null())
        .then(pl.lit(NOT_A_NUMBER))
    )
    return (
        pl.when(value < minimum)
        .then(pl.lit(below))
        .when(value > ceiling)
        .then(pl.lit(above))
        .otherwise(why_not)
    )


def bool_value(col: str, dtype: pl.DataType) -> pl.Expr:
    """The cell as a boolean: native, 1/0, or true/false/yes/no/y/n in any case."""
    if dtype == pl.Boolean:
        return pl.col(col)
    text = text_value(col, dtype).str.to_lowercase()
    return pl.when(text.is_in(_TRUE)).then(True).when(text.is_in(_FALSE)).then(False)


def payment_status_value(col: str, dtype: pl.DataType) -> pl.Expr:
    """The cell as ``unpaid``, ``partially_paid`` or ``paid`` (:data:`PAYMENT_STATUS_WORDS`), else null."""
    word = text_value(col, dtype).str.to_lowercase().str.replace_all(r"[\s\-]+", "_")
    return word.replace_strict(PAYMENT_STATUS_WORDS, default=None, return_dtype=pl.String)


def gstin_check_char(first14: pl.Expr) -> pl.Expr:
    """The GSTIN check character for the first 14 characters (upper-case) of a GSTIN.

    The GSTN algorithm (a Luhn mod-36 variant): each character's value in ``GSTIN_ALPHABET`` is
    multiplied by 1 at even and 2 at odd 0-based positions; each product adds its base-36 digits
    (``p // 36 + p % 36``); the check value is ``(36 - total % 36) % 36``. Fourteen vectorised
    look-ups, so it costs the same per row as any other string rule.
    """
    codes = {c: i for i, c in enumerate(GSTIN_ALPHABET)}
    total = pl.lit(0, pl.Int64)
    for i in range(14):
        value = first14.str.slice(i, 1).replace_strict(codes, default=None, return_dtype=pl.Int64)
        product = value * (1 + i % 2)
        total = total + product // 36 + product % 36
    check = (36 - total % 36) % 36
    return check.replace_strict(dict(enumerate(GSTIN_ALPHABET)), return_dtype=pl.String)


def field_value(field: Field, dtype: pl.DataType) -> pl.Expr:
    """The parsed, typed value of a field's cell (null when absent or invalid)."""
    col = field.name
    match field.kind:
        case "date":
            return date_value(col, dtype)
        case "amount":
            return amount_value(col, dtype)
        case "bool":
            return bool_value(col, dtype)
        case "payment_status":
            return payment_status_value(col, dtype)
        case "key":
            return clean_key_expr(raw_text(col, dtype))
        case "mobile":
            return mobile_value(col, dtype)
        case "gstin":
            # GSTINs are upper-case by definition; accept a lower-cased export, store the canonical form.
            return text_value(col, dtype).str.to_uppercase()
        case _:
            return text_value(col, dtype)


def field_problem(
    field: Field,
    dtype: pl.DataType,
    *,
    ceiling: Decimal = DEFAULT_MAX_INVOICE_AMOUNT,
    value: pl.Expr | None = None,
    text: pl.Expr | None = None,
) -> pl.Expr:
    """Why a field's cell is unacceptable, or null when it is fine.

    ``ceiling`` is the highest amount an invoice may carry (amount fields only). A caller that has
    already computed the cell's :func:`field_value` and :func:`text_value` passes them as ``value``
    and ``text`` (column references), so a large file does not parse every cell twice.
    """
    value = field_value(field, dtype) if value is None else value
    text = text_value(field.name, dtype) if text is None else text
    # A key made only of invisible characters is as empty as a blank cell.
    given = (value if field.kind == "key" else text).is_not_null()
    missing = f"{field.name} is required but empty"
    rule: pl.Expr
    match field.kind:
        case "date":
            out_of_range = f"an Excel date outside {EXCEL_DAY_RANGE[0]}..{EXCEL_DAY_RANGE[1]} (1990-2099)"
            failed = pl.when(value.is_null()).then(text)
            day_number = pl.lit(True) if dtype.is_numeric() else failed.str.contains(_EXCEL_DAY)
            rule = (
                pl.when(value.is_null() & day_number)
                .then(pl.lit(f"not a plausible date: {out_of_range}; check the cell's format"))
                .when(value.is_null())
                .then(pl.lit(NOT_A_DATE))
            )
        case "amount":
            rule = amount_problem(field, dtype, ceiling, value)
        case "bool":
            rule = pl.when(value.is_null()).then(pl.lit("not a yes/no value: use true/false, yes/no or 1/0"))
        case "payment_status":
            rule = pl.when(value.is_null()).then(pl.lit(NOT_A_PAYMENT_STATUS))
        case "mobile":
            rule = (
                pl.when(value.is_null())
                .then(pl.lit(NOT_A_MOBILE))
                .when(~value.str.contains(r"^[6-9]"))
                .then(pl.lit(NOT_A_REAL_MOBILE))
            )
        case "email":
            rule = pl.when(~value.str.contains(EMAIL_PATTERN)).then(pl.lit("not an e-mail address"))
        case "pin_code":
            rule = pl.when(~value.str.contains(PIN_CODE_PATTERN)).then(
                pl.lit("not a PIN code: expected 6 digits, the first not 0")
            )
        case "gstin":
            rule = (
                pl.when(~value.str.contains(GSTIN_PATTERN))
                .then(pl.lit("not a GSTIN: expected 2-digit state code, PAN, entity digit, 'Z', check"))
                .when(gstin_check_char(value.str.slice(0, 14)) != value.str.slice(14, 1))
                .then(pl.lit("GSTIN check character does not match: re-check the number"))
            )
        case "name":
            rule = pl.when(looks_like_formula_expr(value)).then(pl.lit(FORMULA_NAME))
        case _:
            return pl.when(~given).then(pl.lit(missing)) if field.required else pl.lit(None, pl.String)
    if field.required:
        return pl.when(~given).then(pl.lit(missing)).otherwise(rule)
    return pl.when(given).then(rule)
