"""Search results as polars DataFrames with a fixed schema (the same columns even with zero rows).

Column names are the API's member names; ``{label, name}`` statuses become their ``name``; date-times
are UTC.

Invoice searches have a fast path (:data:`INVOICE_ROW`, :func:`invoice_rows_frame`): a page's records
are validated as plain dicts of the frame's columns only, with the types of the ``Invoice`` model's
members (so the same formats are accepted and refused), instead of as one ``Invoice`` model each. At
50,000 invoices that is about 0.7 s instead of 4.5 s; the models stay for callers that want them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal

import polars as pl
from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict

from enkash_ar.models import Customer, Invoice, StatusValue

if TYPE_CHECKING:
    from enkash_ar.contract_profile import ContractProfile

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


#: The members of an invoice answer that are ``{label, name}`` statuses.
STATUS_COLUMNS: Final = frozenset({"approvalStatus", "receivableStatus", "payoutStatus"})


class _StatusRow(TypedDict, total=False):
    """A ``{label, name}`` status read as a dict (``StatusValue``'s members)."""

    name: str | None
    label: str | None


def _row_type() -> Any:
    """A TypedDict of the invoice frame's columns, each typed as the ``Invoice`` model types its member."""
    by_alias = {field.alias or name: field for name, field in Invoice.model_fields.items()}
    members = {
        column: (_StatusRow | None) if column in STATUS_COLUMNS else by_alias[column].annotation
        for column in INVOICE_SCHEMA
    }
    return with_config(ConfigDict(extra="ignore"))(TypedDict("InvoiceRow", members, total=False))  # type: ignore[operator]


#: One invoice of a search answer as a dict of the frame's columns (other members are dropped), read
#: with the same types as ``Invoice``: validate a page with ``TypeAdapter(list[INVOICE_ROW])``.
INVOICE_ROW: Final = _row_type()
#: :data:`INVOICE_SCHEMA` as :data:`INVOICE_ROW` dicts hold it: a status is a ``{name, label}`` dict.
_ROW_SCHEMA: Final = pl.Schema(
    {c: pl.Struct({"name": pl.String()}) if c in STATUS_COLUMNS else t for c, t in INVOICE_SCHEMA.items()}
)


def _utc(value: datetime | None) -> datetime | None:
    # Naive date-times from the API are taken as UTC, so every row shares one time zone.
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def invoice_rows_frame(
    rows: Sequence[dict[str, Any]], profile: ContractProfile | None = None
) -> pl.DataFrame:
    """A page of :data:`INVOICE_ROW` dicts as a frame with :data:`INVOICE_SCHEMA`.

    With a ``profile``, receivable statuses get their canonical names, as ``Invoice`` read with one does.

    Raises:
        ValueError: a receivable status the profile does not know (``ContractProfile.canonical_name``).
    """
    if not rows:
        return pl.DataFrame(schema=INVOICE_SCHEMA)
    # polars reads the validated dicts itself (a third of the time of Python lists per column): a
    # missing member is null, a naive date-time is taken as UTC and an aware one converted to UTC
    # (as ``_utc`` does for the models), and a status keeps only its name.
    frame = pl.from_dicts(rows, schema=_ROW_SCHEMA).with_columns(
        pl.col(column).struct.field("name").alias(column) for column in STATUS_COLUMNS
    )
    if profile is None:
        return frame
    names = frame.get_column("receivableStatus").drop_nulls().unique().to_list()
    canonical = {name: profile.canonical_name(name) for name in names}
    return frame.with_columns(pl.col("receivableStatus").replace(canonical))


def _cell(value: Any) -> Any:
    if isinstance(value, StatusValue):
        return value.name
    if isinstance(value, datetime):
        return _utc(value)
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
    """Stack frames of one ``schema`` (an empty frame of it when there are none).

    The frames' buffers become the result's chunks, not copied into one: a contiguous copy held every
    page of a read and the whole read at once (a second picture of every invoice, at a million invoices
    the night's peak of memory). Operations that need one chunk make it from the columns they read.
    """
    return pl.concat(frames, how="vertical", rechunk=False) if frames else pl.DataFrame(schema=schema)


def unique_rows(frame: pl.DataFrame, column: str, keep: Literal["first", "last"] = "first") -> pl.DataFrame:
    """Keep the ``keep`` row of each ``column`` value, in frame order; rows without one are all kept.

    ``frame`` itself when every row is kept (the usual case). (polars 2.1's filter also shares the
    buffers when its mask keeps every row; what costs here is the distinct-key mask itself.)
    """
    key = frame.get_column(column)
    kept = key.is_null() | (key.is_first_distinct() if keep == "first" else key.is_last_distinct())
    return frame if kept.all() else frame.filter(kept)
