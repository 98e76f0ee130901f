"""Row validation of bulk files as polars expressions: the same rules as the single endpoints.

A rule is an expression that yields a reason (text) for an offending cell and null otherwise. The rules
of one field are tried in order and the first reason wins, so a row gets at most one failure per
field; ``failures`` turns them into the long ``(rowNumber, field, reason)`` frame.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from enkash_ar.bulk_template import FAILURE_FIELD, FAILURE_REASON, ROW_NUMBER
from enkash_ar.contract import (
    ACCOUNT_NUMBER_PATTERN,
    CUSTOMER_ID_PATTERN,
    EMAIL_PATTERN,
    IFSC_PATTERN,
    MIN_BASE_AMOUNT,
    MOBILE_PATTERN,
)
from sandbox.backend.checks import normalise_date_time

Rule = tuple[str, pl.Expr]
_ERR = "__err__"
_NUMBER = r"^-?\d+(\.\d+)?$"
_DATE = r"^\d{4}-\d{2}-\d{2}$"


def _reason(bad: pl.Expr, reason: str) -> pl.Expr:
    return pl.when(bad).then(pl.lit(reason))


def required(col: str) -> Rule:
    """The cell must not be empty."""
    return col, _reason(pl.col(col).is_null(), "is required")


def pattern(col: str, regex: str) -> Rule:
    """A given cell must match ``regex``."""
    return col, _reason(pl.col(col).is_not_null() & ~pl.col(col).str.contains(regex), f"must match {regex}")


def number(col: str, minimum: float | None = None) -> list[Rule]:
    """A given cell must be a plain decimal, at least ``minimum``."""
    rules = [
        (col, _reason(pl.col(col).is_not_null() & ~pl.col(col).str.contains(_NUMBER), "must be a number"))
    ]
    if minimum is not None:
        value = pl.col(col).cast(pl.Float64, strict=False)
        rules.append((col, _reason(value < minimum, f"must be greater than or equal to {minimum}")))
    return rules


def date(col: str) -> Rule:
    """A given cell must be a real ``yyyy-MM-dd`` date."""
    parsed = pl.col(col).str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    bad = pl.col(col).is_not_null() & (~pl.col(col).str.contains(_DATE) | parsed.is_null())
    return col, _reason(bad, "must be a date yyyy-MM-dd")


def boolean(col: str) -> Rule:
    """A given cell must be ``true`` or ``false``."""
    bad = pl.col(col).is_not_null() & ~pl.col(col).str.to_lowercase().is_in(["true", "false"])
    return col, _reason(bad, "must be true or false")


def member_of(col: str, known: pl.Series, reason: str) -> Rule:
    """A given cell must be one of ``known`` (e.g. the company's customer ids)."""
    return col, _reason(pl.col(col).is_not_null() & ~pl.col(col).is_in(known.implode()), reason)


def date_time_column(frame: pl.DataFrame, col: str) -> pl.Series:
    """``col`` normalised to UTC ``yyyy-MM-ddTHH:mm:ssZ`` (null when empty or invalid).

    The Python parser runs once per distinct value, not once per row.
    """
    distinct = frame[col].drop_nulls().unique().to_list()
    return frame[col].replace_strict(
        distinct, [normalise_date_time(v) for v in distinct], default=None, return_dtype=pl.String
    )


def contact_rules(prefix: str, *, create: bool) -> list[Rule]:
    """Rules of the flattened key contact columns."""
    rules = [pattern(f"{prefix}.mobile", MOBILE_PATTERN), pattern(f"{prefix}.email", EMAIL_PATTERN)]
    if create:
        rules = [
            required(f"{prefix}.name"),
            required(f"{prefix}.legalName"),
            required(f"{prefix}.mobile"),
            *rules,
        ]
    return rules


def customer_rules(*, create: bool) -> list[Rule]:
    """Rules of a customer row (create or update)."""
    rules = (
        [required("legalName")]
        if create
        else [required("customerId"), pattern("customerId", CUSTOMER_ID_PATTERN)]
    )
    return [
        *rules,
        pattern("contactNumber", MOBILE_PATTERN),
        pattern("accountNumber", ACCOUNT_NUMBER_PATTERN),
        pattern("ifsc", IFSC_PATTERN),
        *contact_rules("customerKeyContacts", create=create),
    ]


def invoice_rules(customers: pl.Series, iso_date_col: str) -> list[Rule]:
    """Rules of an invoice row; ``customers`` are the company's live customer ids.

    ``iso_date_col`` holds ``invoiceDate`` normalised by ``date_time_column`` (null when invalid).
    """
    bad_date = pl.col("invoiceDate").is_not_null() & pl.col(iso_date_col).is_null()
    return [
        required("customerId"),
        pattern("customerId", CUSTOMER_ID_PATTERN),
        member_of("customerId", customers, "customer not found for this seller"),
        required("dueDate"),
        date("dueDate"),
        required("baseAmount"),
        *number("baseAmount", MIN_BASE_AMOUNT),
        *(r for tax in ("cgst", "sgst", "igst", "tds") for r in number(tax, 0)),
        ("invoiceDate", _reason(bad_date, "must be an ISO date-time (yyyy-MM-ddTHH:mm:ssZ) or date")),
        boolean("partialPaymentAllowed"),
        boolean("gstExclusive"),
        pattern("emailAddress", EMAIL_PATTERN),
        pattern("mobileNumber", MOBILE_PATTERN),
    ]


def apply_rules(
    frame: pl.DataFrame, rules: Iterable[Rule]
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Split ``frame`` into (valid rows, invalid rows, failures ``rowNumber, field, reason``)."""
    by_field: dict[str, list[pl.Expr]] = {}
    for field, expr in rules:
        by_field.setdefault(field, []).append(expr)
    err_cols = [_ERR + f for f in by_field]
    checked = frame.with_columns(
        [pl.coalesce(exprs).cast(pl.String).alias(_ERR + f) for f, exprs in by_field.items()]
    )
    ok_mask = pl.all_horizontal([pl.col(c).is_null() for c in err_cols]) if err_cols else pl.lit(True)
    valid = checked.filter(ok_mask).drop(err_cols)
    invalid = checked.filter(~ok_mask)
    failures = (
        invalid.select(ROW_NUMBER, *err_cols)
        .unpivot(index=ROW_NUMBER, variable_name=FAILURE_FIELD, value_name=FAILURE_REASON)
        .drop_nulls(FAILURE_REASON)
        .with_columns(pl.col(FAILURE_FIELD).str.strip_prefix(_ERR))
        .sort(ROW_NUMBER, maintain_order=True)
    )
    return valid, invalid.drop(err_cols), failures
