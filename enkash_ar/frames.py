"""Search results as polars DataFrames with a fixed schema (the same columns even with zero rows).

Column names are the API's member names; ``{label, name}`` statuses become their ``name``; date-times
are UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import polars as pl

from enkash_ar.models import Customer, Invoice, StatusValue

_UTC_DATETIME: Final = pl.Datetime("us", "UTC")

INVOICE_SCHEMA: Final = pl.Schema(
    {
        "invoiceId": pl.String(),
        "externalId": pl.String(),
        "invoiceNumber": pl.String(),
        "sellerId": pl.String(),
        "customerId": pl.String(),
        "customerLegalName": pl.String(),
        "invoiceDate": _UTC_DATETIME,
        "dueDate": pl.Date(),
        "baseAmount": pl.Float64(),
        "netAmount": pl.Float64(),
        "balanceAmount": pl.Float64(),
        "totalReceived": pl.Float64(),
        "cgst": pl.Float64(),
        "sgst": pl.Float64(),
        "igst": pl.Float64(),
        "tds": pl.Float64(),
        "partialPaymentAllowed": pl.Boolean(),
        "dispatched": pl.Boolean(),
        "dispatchedOn": _UTC_DATETIME,
        "approvalStatus": pl.String(),
        "receivableStatus": pl.String(),
        "payoutStatus": pl.String(),
        "paymentLink": pl.String(),
        "description": pl.String(),
        "poNumber": pl.String(),
        "createdOn": _UTC_DATETIME,
        "modifiedOn": _UTC_DATETIME,
        "lastPaymentOn": _UTC_DATETIME,
        "lastPaymentMode": pl.String(),
        "lastPaymentReference": pl.String(),
    }
)

CUSTOMER_SCHEMA: Final = pl.Schema(
    {
        "customerId": pl.String(),
        "companyId": pl.String(),
        "legalName": pl.String(),
        "status": pl.String(),
        "uniqueRefNo": pl.String(),
        "contactNumber": pl.String(),
        "panOrGstin": pl.String(),
        "address": pl.String(),
        "state": pl.String(),
        "pinCode": pl.String(),
        "accountNumber": pl.String(),
        "ifsc": pl.String(),
        "assignedAgent": pl.String(),
    }
)


def _cell(value: Any) -> Any:
    if isinstance(value, StatusValue):
        return value.name
    if isinstance(value, datetime):
        # Naive date-times from the API are taken as UTC, so every row shares one time zone.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def _frame(records: Sequence[Any], schema: pl.Schema) -> pl.DataFrame:
    if not records:
        return pl.DataFrame(schema=schema)
    by_alias = {name: field.alias or name for name, field in type(records[0]).model_fields.items()}
    attr_of = {alias: name for name, alias in by_alias.items()}
    columns = {col: [_cell(getattr(r, attr_of[col])) for r in records] for col in schema}
    return pl.DataFrame(columns, schema=schema)


def invoices_frame(invoices: Iterable[Invoice]) -> pl.DataFrame:
    """Invoices as a frame with :data:`INVOICE_SCHEMA`."""
    return _frame(list(invoices), INVOICE_SCHEMA)


def customers_frame(customers: Iterable[Customer]) -> pl.DataFrame:
    """Customers as a frame with :data:`CUSTOMER_SCHEMA`."""
    return _frame(list(customers), CUSTOMER_SCHEMA)


def concat_frames(frames: Sequence[pl.DataFrame], schema: pl.Schema) -> pl.DataFrame:
    """Stack frames of one ``schema`` (an empty frame of it when there are none)."""
    return pl.concat(frames, how="vertical", rechunk=True) if frames else pl.DataFrame(schema=schema)


def unique_rows(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Keep the first row of each ``column`` value; rows without one are all kept."""
    key = pl.col(column)
    return frame.filter(key.is_null() | key.is_first_distinct())
