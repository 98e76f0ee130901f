"""The canonical ERP input columns and the polars expressions that parse and check one cell.

Every rule here is a function returning a ``pl.Expr`` over one raw column, so the loader can run all of
them in one lazy plan over millions of rows. A rule yields the parsed value (null when absent or
unparseable) and a problem (a human-readable reason, or null when the cell is fine).

Cell conventions, whatever the file type:

- text is stripped of surrounding whitespace; an empty cell is "not given";
- a number in a text column (a mobile or PIN code typed as a number in Excel or Parquet) is read as its
  integer digits, so ``9876543210.0`` is ``"9876543210"``;
- dates are ISO ``yyyy-MM-dd`` text, or native date/datetime cells (the time of day is dropped);
- amounts are numbers or numeric text; thousands separators (``1,23,456.50`` as Indian exports write
  them) are removed, and nothing else is accepted (no currency signs, exponents, ``inf`` or ``NaN``);
- booleans are native, 1/0, or true/false/yes/no/y/n in any case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import polars as pl

from enkash_ar.contract import EMAIL_PATTERN, MIN_BASE_AMOUNT, MOBILE_PATTERN

Kind = Literal["text", "mobile", "email", "gstin", "pin_code", "date", "amount", "bool"]

#: The GSTIN character set; a character's position is its value in the check-character sum.
GSTIN_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: State code 01-38, PAN (5 letters, 4 digits, 1 letter), entity number, 'Z', check character.
GSTIN_PATTERN: Final = r"^(0[1-9]|[12][0-9]|3[0-8])[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$"
PIN_CODE_PATTERN: Final = r"^[1-9][0-9]{5}$"
_ISO_DATE: Final = r"^\d{4}-\d{2}-\d{2}$"
_DECIMAL: Final = r"^-?\d+(\.\d+)?$"
_TRUE: Final = ("true", "yes", "y", "1")
_FALSE: Final = ("false", "no", "n", "0")


@dataclass(frozen=True)
class Field:
    """One canonical input column: how to parse it and whether a row needs it."""

    name: str
    kind: Kind = "text"
    required: bool = False
    minimum: float | None = None

    @property
    def dtype(self) -> pl.DataType:
        """The polars type of the parsed column in the loader's valid frame."""
        return {"date": pl.Date(), "amount": pl.Float64(), "bool": pl.Boolean()}.get(self.kind, pl.String())


CUSTOMER_FIELDS: Final = (
    Field("customer_ref", required=True),
    Field("legal_name", required=True),
    Field("contact_name", required=True),
    Field("mobile", "mobile", required=True),
    Field("email", "email"),
    Field("gstin", "gstin"),
    Field("address"),
    Field("state"),
    Field("pin_code", "pin_code"),
)

INVOICE_FIELDS: Final = (
    Field("invoice_number", required=True),
    Field("customer_ref", required=True),
    Field("invoice_date", "date"),
    Field("due_date", "date", required=True),
    Field("base_amount", "amount", required=True, minimum=MIN_BASE_AMOUNT),
    Field("cgst", "amount", minimum=0.0),
    Field("sgst", "amount", minimum=0.0),
    Field("igst", "amount", minimum=0.0),
    Field("description"),
    Field("po_number"),
    Field("partial_payment_allowed", "bool"),
)


def raw_text(col: str, dtype: pl.DataType) -> pl.Expr:
    """The cell as text, for the rejected-rows report (null when the cell is empty)."""
    expr = pl.col(col)
    if dtype.is_float():
        # Integral floats print without ".0" so an Excel-typed mobile reads as the user typed it.
        expr = pl.when(expr == expr.round()).then(expr.cast(pl.Int64, strict=False)).otherwise(expr)
    return expr.cast(pl.String)


def text_value(col: str, dtype: pl.DataType) -> pl.Expr:
    """The cell as stripped text; empty or blank cells become null."""
    text = raw_text(col, dtype).str.strip_chars()
    return pl.when(text != "").then(text)


def date_value(col: str, dtype: pl.DataType) -> pl.Expr:
    """The cell as a date: native dates, datetimes (date part) or strict ISO ``yyyy-MM-dd`` text."""
    if dtype == pl.Date:
        return pl.col(col)
    if isinstance(dtype, pl.Datetime):
        return pl.col(col).dt.date()
    text = text_value(col, dtype)
    # The regex guard: chrono alone would also take "2026-1-5", which the contract does not allow.
    return pl.when(text.str.contains(_ISO_DATE)).then(text.str.to_date("%Y-%m-%d", strict=False))


def amount_value(col: str, dtype: pl.DataType) -> pl.Expr:
    """The cell as a finite Float64 amount; thousands separators in text are ignored."""
    if dtype.is_numeric():
        value = pl.col(col).cast(pl.Float64)
        return pl.when(value.is_finite()).then(value)
    text = text_value(col, dtype).str.replace_all(",", "", literal=True)
    return pl.when(text.str.contains(_DECIMAL)).then(text.cast(pl.Float64, strict=False))


def bool_value(col: str, dtype: pl.DataType) -> pl.Expr:
    """The cell as a boolean: native, 1/0, or true/false/yes/no/y/n in any case."""
    if dtype == pl.Boolean:
        return pl.col(col)
    text = text_value(col, dtype).str.to_lowercase()
    return pl.when(text.is_in(_TRUE)).then(True).when(text.is_in(_FALSE)).then(False)


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
    if field.kind == "date":
        return date_value(col, dtype)
    if field.kind == "amount":
        return amount_value(col, dtype)
    if field.kind == "bool":
        return bool_value(col, dtype)
    text = text_value(col, dtype)
    # GSTINs are upper-case by definition; accept a lower-cased export and store the canonical form.
    return text.str.to_uppercase() if field.kind == "gstin" else text


def field_problem(field: Field, dtype: pl.DataType) -> pl.Expr:
    """Why a field's cell is unacceptable, or null when it is fine."""
    given = text_value(field.name, dtype).is_not_null()
    value = field_value(field, dtype)
    missing = f"{field.name} is required but empty"
    rule: pl.Expr
    match field.kind:
        case "date":
            rule = pl.when(value.is_null()).then(pl.lit("not a date: expected yyyy-MM-dd"))
        case "amount":
            rule = (
                pl.when(value.is_null())
                .then(pl.lit("not a number: expected a plain decimal such as 1234.50"))
                .when(value < (field.minimum or 0.0))
                .then(
                    pl.lit(f"must be at least {field.minimum}" if field.minimum else "must not be negative")
                )
            )
        case "bool":
            rule = pl.when(value.is_null()).then(pl.lit("not a yes/no value: use true/false, yes/no or 1/0"))
        case "mobile":
            rule = pl.when(~value.str.contains(MOBILE_PATTERN)).then(
                pl.lit("not a mobile number: expected 10 digits, optionally with a +91 prefix")
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
        case _:
            return pl.when(~given).then(pl.lit(missing)) if field.required else pl.lit(None, pl.String)
    if field.required:
        return pl.when(~given).then(pl.lit(missing)).otherwise(rule)
    return pl.when(given).then(rule)
