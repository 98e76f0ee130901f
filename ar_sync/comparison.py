"""How an ERP value and the value EnKash holds are compared: set, clear, or leave alone.

A second night on the same files must make no update call, so "changed" is decided on normalised
values, the way EnKash may store what it was sent: text trimmed with its spaces collapsed and its
bidi controls removed, e-mails in lower case, GSTINs in upper case, mobiles as their last 10 digits,
a missing tax as 0, a date-time read as its date in India. Pure polars, no I/O.

Per field and record, exactly one of:

- *set*: the ERP has a value and EnKash holds another (or none): the value is sent;
- *clear*: the ERP cell is empty and EnKash holds a value: EnKash's value is removed with the call that
  can remove it (a PATCH member set to null; the bulk update file cannot, an empty cell there means
  "unchanged"). A field with no such call is reported as *cannot clear*, never counted as updated;
- nothing, when both normalised values are equal (both empty included).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import polars as pl

from ar_sync.erp_fields import AMOUNT_DTYPE
from ar_sync.keys import strip_bidi_expr

#: Where India's business dates are read from EnKash's UTC date-times (an invoice dated by a clerk in
#: India at midnight IST is the previous day in UTC).
BUSINESS_TIME_ZONE: Final = "Asia/Kolkata"

Kind = Literal["text", "upper", "email", "mobile", "amount", "tax", "date", "bool", "id"]


@dataclass(frozen=True)
class ComparedField:
    """One field compared between the ERP and EnKash.

    ``erp`` is the column of the ERP side, ``enkash`` the column of EnKash's picture, ``name`` what a
    clerk calls it (the ERP column name); ``clear`` is the PATCH member that clears it, or None when
    EnKash offers no call that can (then an emptied ERP cell is reported as "cannot clear");
    ``empty_means_keep``: an empty ERP cell leaves EnKash's value alone (no opinion, not "clear").
    """

    name: str
    erp: str
    enkash: str
    kind: Kind
    clear: str | None = None
    empty_means_keep: bool = False


#: The key contact's e-mail lives inside the customer's key contact list: clearing it sends the list
#: back without it (updateCustomer ``customerKeyContacts``).
CONTACT_EMAIL: Final = "customerKeyContacts.email"

#: ERP customer column -> EnKash planning column (suffixed ``_ek`` after the join); required ERP columns
#: are never empty.
CUSTOMER_COMPARED: Final = (
    ComparedField("legal_name", "legal_name", "legalName_ek", "text"),
    ComparedField("mobile", "mobile", "contactNumber_ek", "mobile"),
    ComparedField("gstin", "gstin", "panOrGstin_ek", "upper", clear="panOrGstin"),
    ComparedField("address", "address", "address_ek", "text", clear="address"),
    ComparedField("state", "state", "state_ek", "text", clear="state"),
    ComparedField("pin_code", "pin_code", "pinCode_ek", "text", clear="pinCode"),
    ComparedField("contact_name", "contact_name", "keyContactName_ek", "text"),
    ComparedField("email", "email", "keyContactEmail_ek", "email", clear=CONTACT_EMAIL),
)

#: Invoice template column (ERP side) -> EnKash invoice column (suffixed ``_ek`` after the join).
INVOICE_COMPARED: Final = (
    ComparedField("invoice_date", "invoiceDate", "invoiceDate_ek", "date", clear="invoiceDate"),
    ComparedField("due_date", "dueDate", "dueDate_ek", "date"),
    ComparedField("base_amount", "baseAmount", "baseAmount_ek", "amount"),
    ComparedField("cgst", "cgst", "cgst_ek", "tax", clear="cgst"),
    ComparedField("sgst", "sgst", "sgst_ek", "tax", clear="sgst"),
    ComparedField("igst", "igst", "igst_ek", "tax", clear="igst"),
    ComparedField("description", "description", "description_ek", "text", clear="description"),
    ComparedField("po_number", "poNumber", "poNumber_ek", "text", clear="poNumber"),
    # Empty means "EnKash's default": a dispatch may set it (the partial_payment_allowed option).
    ComparedField(
        "partial_payment_allowed",
        "partialPaymentAllowed",
        "partialPaymentAllowed_ek",
        "bool",
        empty_means_keep=True,
    ),
    ComparedField("customer_ref", "customerId", "customerId_ek", "id"),
)


def _text(expr: pl.Expr) -> pl.Expr:
    cleaned = strip_bidi_expr(expr.cast(pl.String)).str.replace_all(r"\s+", " ").str.strip_chars()
    return pl.when(cleaned == "").then(None).otherwise(cleaned)


def _amount(expr: pl.Expr) -> pl.Expr:
    # EnKash answers in JSON floats: their shortest text is the decimal that was sent ("4053.14"), so
    # reading that text keeps the comparison exact (a float-to-decimal cast would turn 2.675 into 2.67).
    return expr.cast(pl.String).str.to_decimal(scale=2).cast(AMOUNT_DTYPE, strict=False).cast(pl.String)


_NORMALISE: Final[dict[Kind, Callable[[pl.Expr], pl.Expr]]] = {
    "text": _text,
    "upper": lambda e: _text(e).str.to_uppercase(),
    "email": lambda e: _text(e).str.to_lowercase(),
    "mobile": lambda e: _text(e.cast(pl.String).str.replace_all(r"\D", "")).str.slice(-10),
    "amount": _amount,
    "tax": lambda e: _amount(e).fill_null("0.00"),
    "date": lambda e: e.cast(pl.Date),
    "bool": lambda e: e.cast(pl.Boolean),
    "id": lambda e: e.cast(pl.String),
}


def normalised(expr: pl.Expr, kind: Kind) -> pl.Expr:
    """``expr`` in the form two values of ``kind`` are compared on (see the module docstring).

    Example:
        >>> frame = pl.DataFrame({"m": ["+91 98765-43210", "9876543210"]})
        >>> frame.select(normalised(pl.col("m"), "mobile")).to_series().to_list()
        ['9876543210', '9876543210']
    """
    return _NORMALISE[kind](expr)


def enkash_business_dates(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """EnKash's date-time ``columns`` of ``frame`` as the dates they are in India (nulls stay null)."""
    exprs = []
    for column in columns:
        dtype = frame.schema.get(column)
        if not isinstance(dtype, pl.Datetime):
            continue
        # A date-time without a zone is UTC, as the client reads every EnKash date-time.
        utc = pl.col(column) if dtype.time_zone else pl.col(column).dt.replace_time_zone("UTC")
        exprs.append(utc.dt.convert_time_zone(BUSINESS_TIME_ZONE).dt.date().alias(column))
    return frame.with_columns(exprs)


def differs(field: ComparedField) -> pl.Expr:
    """True where the ERP has a value for ``field`` and EnKash holds another one (or none)."""
    erp, enkash = normalised(pl.col(field.erp), field.kind), normalised(pl.col(field.enkash), field.kind)
    return pl.col(field.erp).is_not_null() & erp.ne_missing(enkash)


def emptied(field: ComparedField) -> pl.Expr:
    """True where the ERP cell of ``field`` is empty and EnKash still holds a value for it.

    A tax EnKash holds as 0 is no value to clear: EnKash may store a missing tax as 0.
    """
    if field.empty_means_keep:
        return pl.lit(False)
    enkash = normalised(pl.col(field.enkash), field.kind)
    held = (enkash != "0.00") if field.kind == "tax" else enkash.is_not_null()
    return pl.col(field.erp).is_null() & held


def field_changes(
    frame: pl.DataFrame, fields: Sequence[ComparedField], key: str, record_id: str
) -> tuple[pl.Series, pl.DataFrame]:
    """Which rows of ``frame`` (ERP values beside EnKash's) need a value set, and which fields to clear.

    Returns:
        A boolean Series (a value to set, per row), and one row per emptied field: ``key``,
        ``record_id``, ``field`` (the clerk's name), ``member`` (how it is cleared; null when EnKash
        offers no call that can).
    """
    if frame.is_empty():
        return pl.Series("set", [], dtype=pl.Boolean), _empty_clears(key, record_id)
    # One lazy query: polars then normalises each column once for both questions (its common
    # subexpression elimination, which an eager select does not do): 100,000 invoices 0.17 -> 0.08 s.
    flags = (
        frame.lazy()
        .select(
            pl.any_horizontal([differs(f) for f in fields]).alias("__set"),
            *(emptied(f).alias(f"__clear_{f.name}") for f in fields),
            pl.col(key),
            pl.col(record_id),
        )
        .collect()
    )
    clears = [
        flags.filter(pl.col(f"__clear_{f.name}")).select(
            pl.col(key),
            pl.col(record_id),
            pl.lit(f.name).alias("field"),
            pl.lit(f.clear, dtype=pl.String).alias("member"),
        )
        for f in fields
    ]
    return flags.get_column("__set"), pl.concat([_empty_clears(key, record_id), *clears])


def _empty_clears(key: str, record_id: str) -> pl.DataFrame:
    return pl.DataFrame(
        schema={key: pl.String, record_id: pl.String, "field": pl.String, "member": pl.String}
    )
