"""What tonight's cycle must send: the ERP export diffed against what EnKash already holds.

Pure polars, no I/O. The ERP side is the validated output of :mod:`ar_sync.erp_input` (canonical
snake_case columns); the EnKash side is what the search calls return, reduced to the columns below
(:data:`ENKASH_CUSTOMER_COLUMNS`, :data:`ENKASH_INVOICE_COLUMNS`). Matching is on the keys EnKash
stores for us: the ERP ``customer_ref`` is the customer's ``uniqueRefNo`` and the ERP
``invoice_number`` is the invoice's ``externalId``, so the mapping can always be rebuilt from EnKash.

Every stage calls these with a fresh read of EnKash, which is also what makes a rerun safe: whatever an
earlier (crashed or retried) run already created is found here and not sent again. When EnKash holds a
key twice, the planners read only its keeper (``convergence``), the same copy in every run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import polars as pl

from ar_sync.convergence import customer_keepers
from ar_sync.erp_fields import AMOUNT_DTYPE
from enkash_ar.frames import customers_frame
from enkash_ar.models import Customer

#: Columns of the EnKash customers frame the planner reads (:func:`planning_customers`).
ENKASH_CUSTOMER_COLUMNS: Final = (
    "customerId",
    "uniqueRefNo",
    "legalName",
    "contactNumber",
    "panOrGstin",
    "address",
    "state",
    "pinCode",
    "status",
    "keyContactName",
    "keyContactMobile",
    "keyContactEmail",
)

#: Columns of the EnKash invoices frame the planner reads (``frames.INVOICE_SCHEMA`` has them all).
ENKASH_INVOICE_COLUMNS: Final = (
    "invoiceId",
    "externalId",
    "customerId",
    "invoiceDate",
    "dueDate",
    "baseAmount",
    "cgst",
    "sgst",
    "igst",
    "description",
    "poNumber",
    "partialPaymentAllowed",
    "dispatched",
    "receivableStatus",
)

#: ERP customer column -> bulk template column (createCustomer / updateCustomer member names).
CUSTOMER_FIELD_MAP: Final = {
    "legal_name": "legalName",
    "customer_ref": "uniqueRefNo",
    "mobile": "contactNumber",
    "gstin": "panOrGstin",
    "address": "address",
    "state": "state",
    "pin_code": "pinCode",
}
#: ERP customer column -> the flattened key contact columns of the bulk template.
KEY_CONTACT_FIELD_MAP: Final = {
    "contact_name": "customerKeyContacts.name",
    "legal_name": "customerKeyContacts.legalName",
    "mobile": "customerKeyContacts.mobile",
    "email": "customerKeyContacts.email",
}
_CUSTOMER_COMPARED: Final = {
    "legal_name": "legalName",
    "mobile": "contactNumber",
    "gstin": "panOrGstin",
    "address": "address",
    "state": "state",
    "pin_code": "pinCode",
    "contact_name": "keyContactName",
    "email": "keyContactEmail",
}

#: ERP invoice column -> createInvoice / updateInvoice member name.
INVOICE_FIELD_MAP: Final = {
    "invoice_number": "invoiceNumber",
    "invoice_date": "invoiceDate",
    "due_date": "dueDate",
    "base_amount": "baseAmount",
    "cgst": "cgst",
    "sgst": "sgst",
    "igst": "igst",
    "description": "description",
    "po_number": "poNumber",
    "partial_payment_allowed": "partialPaymentAllowed",
}
_AMOUNTS: Final = ("base_amount", "cgst", "sgst", "igst")
_OPEN_STATUSES: Final = ("UNPAID", "PARTIALLY_PAID")


@dataclass(frozen=True)
class CustomerPlan:
    """Customers to create and to update, as bulk template frames."""

    to_create: pl.DataFrame
    to_update: pl.DataFrame
    unchanged: int
    #: ERP customers EnKash already holds: ``customer_ref``, ``customerId``
    present: pl.DataFrame


@dataclass(frozen=True)
class InvoicePlan:
    """Invoices to upload (new) and to patch (changed), and those EnKash holds with no change."""

    to_create: pl.DataFrame
    to_update: pl.DataFrame
    unchanged: int
    skipped_unknown_customer: pl.DataFrame
    #: ERP invoices EnKash already holds: ``externalId``, ``invoiceId``, ``baseAmount``
    present: pl.DataFrame


def planning_customers(customers: Sequence[Customer]) -> pl.DataFrame:
    """EnKash customers as the planner reads them (:data:`ENKASH_CUSTOMER_COLUMNS`).

    The first live key contact's name, mobile and e-mail are columns of their own, since the ERP's
    contact is compared against them.
    """
    contacts = [next((k for k in c.customer_key_contacts if not k.deleted), None) for c in customers]
    return customers_frame(customers).with_columns(
        pl.Series("keyContactName", [k.name if k else None for k in contacts], dtype=pl.String),
        pl.Series("keyContactMobile", [k.mobile if k else None for k in contacts], dtype=pl.String),
        pl.Series("keyContactEmail", [k.email if k else None for k in contacts], dtype=pl.String),
    )


def _text(col: str) -> pl.Expr:
    """A column as comparable text: trimmed, empty string for null."""
    return pl.col(col).cast(pl.String).str.strip_chars().fill_null("")


def customer_bulk_rows(erp_customers: pl.DataFrame) -> pl.DataFrame:
    """ERP customer rows as createBulkCustomer template rows."""
    exprs = [pl.col(src).cast(pl.String).alias(dst) for src, dst in CUSTOMER_FIELD_MAP.items()]
    exprs += [pl.col(src).cast(pl.String).alias(dst) for src, dst in KEY_CONTACT_FIELD_MAP.items()]
    return erp_customers.select(exprs)


def plan_customers(erp_customers: pl.DataFrame, enkash_customers: pl.DataFrame) -> CustomerPlan:
    """Split the ERP customers into new ones and changed ones.

    Args:
        erp_customers: validated ERP customers (canonical columns).
        enkash_customers: EnKash's customers for this seller (:data:`ENKASH_CUSTOMER_COLUMNS`).

    Returns:
        ``to_create`` in createBulkCustomer columns; ``to_update`` in bulkUpdate columns (with the
        EnKash ``customerId``) for customers whose compared fields differ.
    """
    known = customer_keepers(enkash_customers.select(list(ENKASH_CUSTOMER_COLUMNS)))
    joined = erp_customers.join(known, left_on="customer_ref", right_on="uniqueRefNo", how="left")
    new = joined.filter(pl.col("customerId").is_null())
    existing = joined.filter(pl.col("customerId").is_not_null())
    differs = pl.any_horizontal([_text(erp) != _text(ek) for erp, ek in _CUSTOMER_COMPARED.items()])
    changed = existing.filter(differs)
    to_update = pl.concat(
        [changed.select(pl.col("customerId")), customer_bulk_rows(changed)], how="horizontal"
    )
    return CustomerPlan(
        to_create=customer_bulk_rows(new),
        to_update=to_update,
        unchanged=existing.height - changed.height,
        present=existing.select("customer_ref", "customerId"),
    )


def customer_id_map(enkash_customers: pl.DataFrame) -> pl.DataFrame:
    """customer_ref -> EnKash customerId, from EnKash's own records (uniqueRefNo)."""
    return (
        customer_keepers(enkash_customers)
        .filter(pl.col("uniqueRefNo").is_not_null())
        .select(pl.col("uniqueRefNo").alias("customer_ref"), pl.col("customerId"))
    )


def _erp_invoice_fields() -> list[pl.Expr]:
    return [
        pl.col("invoice_number").alias("externalId"),
        pl.col("invoice_number").alias("invoiceNumber"),
        pl.col("invoice_date").cast(pl.Date).alias("invoiceDate"),
        pl.col("due_date").cast(pl.Date).alias("dueDate"),
        # Exact decimals: the bulk file carries the ERP's text ("4053.14"), never a float's rounding.
        *(pl.col(a).cast(AMOUNT_DTYPE).alias(INVOICE_FIELD_MAP[a]) for a in _AMOUNTS),
        pl.col("description").cast(pl.String).alias("description"),
        pl.col("po_number").cast(pl.String).alias("poNumber"),
        pl.col("partial_payment_allowed").cast(pl.Boolean).alias("partialPaymentAllowed"),
    ]


def plan_invoices(
    erp_invoices: pl.DataFrame, customer_ids: pl.DataFrame, enkash_invoices: pl.DataFrame
) -> InvoicePlan:
    """Split the ERP invoices into new ones (to upload) and changed open ones (to patch).

    Args:
        erp_invoices: validated ERP invoices (canonical columns).
        customer_ids: ``customer_ref`` -> ``customerId`` (:func:`customer_id_map`).
        enkash_invoices: EnKash's invoices for this seller (:data:`ENKASH_INVOICE_COLUMNS`), one per
            externalId: the keepers of ``convergence.invoice_twins``.

    Returns:
        ``to_create`` in invoiceBulkUpload columns; ``to_update`` with ``invoiceId`` and the members to
        patch; ERP rows whose customer is not (yet) in EnKash in ``skipped_unknown_customer``; the ERP
        invoices EnKash already holds in ``present``.
    """
    with_ids = erp_invoices.join(customer_ids, on="customer_ref", how="left")
    skipped = with_ids.filter(pl.col("customerId").is_null()).select("invoice_number", "customer_ref")
    rows = with_ids.filter(pl.col("customerId").is_not_null()).select(
        pl.col("customerId"), *_erp_invoice_fields()
    )
    known = enkash_invoices.select(list(ENKASH_INVOICE_COLUMNS)).with_columns(
        pl.col("invoiceDate").dt.date(),
        # EnKash answers in JSON floats: their shortest text is the decimal we sent ("4053.14"), so
        # "unchanged" is an exact match (a float-to-decimal cast would round 2.675 up to 2.68).
        *(
            pl.col(a).cast(pl.String).str.to_decimal(scale=2).cast(AMOUNT_DTYPE, strict=False)
            for a in ("baseAmount", "cgst", "sgst", "igst")
        ),
    )
    joined = rows.join(known, on="externalId", how="left", suffix="_ek")
    new = joined.filter(pl.col("invoiceId").is_null())
    existing = joined.filter(
        pl.col("invoiceId").is_not_null() & pl.col("receivableStatus").is_in(_OPEN_STATUSES)
    )
    compared = [INVOICE_FIELD_MAP[c] for c in INVOICE_FIELD_MAP if c != "invoice_number"]
    differs = pl.any_horizontal(
        [
            pl.col(c).cast(pl.String).fill_null("") != pl.col(f"{c}_ek").cast(pl.String).fill_null("")
            for c in compared
        ]
    )
    changed = existing.filter(differs)
    template_cols = ["customerId", *(e.meta.output_name() for e in _erp_invoice_fields())]
    return InvoicePlan(
        to_create=new.select(template_cols),
        to_update=changed.select(["invoiceId", *template_cols]),
        unchanged=joined.filter(pl.col("invoiceId").is_not_null()).height - changed.height,
        skipped_unknown_customer=skipped,
        present=joined.filter(pl.col("invoiceId").is_not_null()).select(
            "externalId", "invoiceId", "baseAmount"
        ),
    )


def invoices_to_dispatch(erp_invoices: pl.DataFrame, keepers: pl.DataFrame) -> pl.DataFrame:
    """EnKash invoices of tonight's ERP file that are open and have never been dispatched.

    EnKash's ``dispatched`` flag is the truth here, not a local record: an invoice dispatched by an
    earlier run whose answer was lost shows ``dispatched = true`` and is not sent again. ``keepers`` holds
    one copy per externalId (``convergence.invoice_twins(...).keepers``), the dispatched one when there is
    one, so a twin is never dispatched.
    """
    return (
        keepers.filter(
            pl.col("externalId").is_in(erp_invoices.get_column("invoice_number").implode())
            & ~pl.col("dispatched").fill_null(False)
            & pl.col("receivableStatus").is_in(_OPEN_STATUSES)
        )
        .select("invoiceId", "externalId", "customerId")
        .sort("externalId")
    )


def already_dispatched(erp_invoices: pl.DataFrame, keepers: pl.DataFrame) -> pl.DataFrame:
    """ERP invoices EnKash already shows dispatched: ``externalId``, ``invoiceId``."""
    return keepers.filter(
        pl.col("externalId").is_in(erp_invoices.get_column("invoice_number").implode())
        & pl.col("dispatched").fill_null(False)
    ).select("externalId", "invoiceId")
