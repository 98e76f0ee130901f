"""What tonight's cycle must send: the ERP export diffed against what EnKash already holds.

Pure polars, no I/O. The ERP side is the validated output of :mod:`ar_sync.erp_input` (canonical
snake_case columns and the normalised keys ``customer_key`` / ``invoice_key``); the EnKash side is what
the search calls return, reduced to the columns below (:data:`ENKASH_CUSTOMER_COLUMNS`,
:data:`ENKASH_INVOICE_COLUMNS`). Matching is on the keys EnKash stores for us, compared the way the ERP
compares them (:func:`ar_sync.keys.normalise_key`: case, outer spaces and invisible characters
ignored): the ERP ``customer_ref`` is the customer's ``uniqueRefNo`` and the ERP ``invoice_number`` is
the invoice's ``externalId``, so ``INV/1`` in the ERP is the ``inv/1`` EnKash holds, and the mapping can
always be rebuilt from EnKash.

Values are compared normalised (:mod:`ar_sync.comparison`): a field is *set* when the ERP holds another
value, *cleared* when the ERP cell was emptied, and left alone when both agree, so a second night on
the same files plans nothing.

Every stage calls these with a fresh read of EnKash, which is also what makes a rerun safe: whatever an
earlier (crashed or retried) run already created is found here and not sent again. When EnKash holds a
key twice, the planners read only its keeper (``convergence``), the same copy in every run; cancelled
copies are not read at all (an invoice back in the export after its cancellation is billed again).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import polars as pl

from ar_sync.comparison import CUSTOMER_COMPARED, INVOICE_COMPARED, enkash_business_dates, field_changes
from ar_sync.convergence import customer_keepers
from ar_sync.erp_fields import AMOUNT_DTYPE
from ar_sync.keys import normalise_key_expr
from enkash_ar.contract import OPEN_RECEIVABLE_STATUSES
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
    "keyContacts",
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
_OPEN_STATUSES: Final = tuple(sorted(s.value for s in OPEN_RECEIVABLE_STATUSES))


@dataclass(frozen=True)
class CustomerPlan:
    """Customers to create and to update (bulk template frames), and fields to clear."""

    to_create: pl.DataFrame
    to_update: pl.DataFrame
    unchanged: int
    #: ERP customers EnKash already holds: ``customer_ref``, ``customerId``
    present: pl.DataFrame
    #: one row per field emptied in the ERP that EnKash still holds: ``customer_ref``, ``customerId``,
    #: ``field``, ``member`` (null: EnKash offers no call that can clear it), ``keyContacts``
    to_clear: pl.DataFrame


@dataclass(frozen=True)
class InvoicePlan:
    """Invoices to upload (new) and to patch (changed), fields to clear, and those EnKash holds as is."""

    to_create: pl.DataFrame
    to_update: pl.DataFrame
    unchanged: int
    skipped_unknown_customer: pl.DataFrame
    #: ERP invoices EnKash already holds: ``externalId`` (the ERP's spelling), ``invoiceId``, ``baseAmount``
    present: pl.DataFrame
    #: one row per field emptied in the ERP that EnKash still holds: ``externalId``, ``invoiceId``,
    #: ``field``, ``member`` (null: EnKash offers no call that can clear it)
    to_clear: pl.DataFrame


def key_of(frame: pl.DataFrame, key: str, source: str) -> pl.Expr:
    """The normalised key column ``key`` of ``frame``, or one computed from ``source`` when absent."""
    return pl.col(key) if key in frame.columns else normalise_key_expr(pl.col(source)).alias(key)


def planning_customers(customers: Sequence[Customer]) -> pl.DataFrame:
    """EnKash customers as the planner reads them (:data:`ENKASH_CUSTOMER_COLUMNS`).

    The first live key contact's name, mobile and e-mail are columns of their own, since the ERP's
    contact is compared against them; ``keyContacts`` holds the whole contact list as JSON, which
    clearing the e-mail sends back without it.
    """
    contacts = [next((k for k in c.customer_key_contacts if not k.deleted), None) for c in customers]
    listed = [
        json.dumps(
            [k.model_dump(mode="json", by_alias=True, exclude_none=True) for k in c.customer_key_contacts]
        )
        for c in customers
    ]
    return customers_frame(customers).with_columns(
        pl.Series("keyContactName", [k.name if k else None for k in contacts], dtype=pl.String),
        pl.Series("keyContactMobile", [k.mobile if k else None for k in contacts], dtype=pl.String),
        pl.Series("keyContactEmail", [k.email if k else None for k in contacts], dtype=pl.String),
        pl.Series("keyContacts", listed, dtype=pl.String),
    )


def customer_bulk_rows(erp_customers: pl.DataFrame) -> pl.DataFrame:
    """ERP customer rows as createBulkCustomer template rows."""
    exprs = [pl.col(src).cast(pl.String).alias(dst) for src, dst in CUSTOMER_FIELD_MAP.items()]
    exprs += [pl.col(src).cast(pl.String).alias(dst) for src, dst in KEY_CONTACT_FIELD_MAP.items()]
    return erp_customers.select(exprs)


def _null(column: str) -> pl.Expr:
    return pl.lit(None, pl.String).alias(column)


def _with_columns(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """``frame`` with each of ``columns`` (missing ones as null text), in that order."""
    return frame.select(
        pl.col(c) if c in frame.columns else pl.lit(None, pl.String).alias(c) for c in columns
    )


def plan_customers(erp_customers: pl.DataFrame, enkash_customers: pl.DataFrame) -> CustomerPlan:
    """Split the ERP customers into new ones, changed ones and fields to clear.

    Args:
        erp_customers: validated ERP customers (canonical columns, ``customer_key``).
        enkash_customers: EnKash's customers for this seller (:data:`ENKASH_CUSTOMER_COLUMNS`).

    Returns:
        ``to_create`` in createBulkCustomer columns; ``to_update`` in bulkUpdate columns (with the
        EnKash ``customerId``) for customers with a value to set; ``to_clear`` for emptied fields.
    """
    known = (
        customer_keepers(_with_columns(enkash_customers, ENKASH_CUSTOMER_COLUMNS))
        .with_columns(normalise_key_expr(pl.col("uniqueRefNo")).alias("customer_key"))
        .filter(pl.col("customer_key").is_not_null())
    )
    erp = erp_customers.with_columns(key_of(erp_customers, "customer_key", "customer_ref"))
    joined = erp.join(_suffixed(known, keep=("customer_key", "customerId")), on="customer_key", how="left")
    new = joined.filter(pl.col("customerId").is_null())
    existing = joined.filter(pl.col("customerId").is_not_null())
    to_set, to_clear = field_changes(existing, CUSTOMER_COMPARED, "customer_ref", "customerId")
    changed = existing.filter(to_set)
    contacts = existing.select("customerId", pl.col("keyContacts_ek").alias("keyContacts"))
    return CustomerPlan(
        to_create=customer_bulk_rows(new),
        to_update=pl.concat(
            [changed.select(pl.col("customerId")), customer_bulk_rows(changed)], how="horizontal"
        ),
        unchanged=existing.height - changed.height,
        present=existing.select("customer_ref", "customerId"),
        to_clear=to_clear.join(contacts, on="customerId", how="left", maintain_order="left"),
    )


def _suffixed(frame: pl.DataFrame, keep: Sequence[str]) -> pl.DataFrame:
    """EnKash's columns renamed ``<name>_ek`` (but ``keep``), so they never meet an ERP column's name."""
    return frame.rename({c: f"{c}_ek" for c in frame.columns if c not in keep})


def customer_id_map(enkash_customers: pl.DataFrame) -> pl.DataFrame:
    """``customer_key`` (and EnKash's ``customer_ref`` spelling) -> EnKash customerId, from EnKash itself."""
    return (
        customer_keepers(enkash_customers)
        .filter(pl.col("uniqueRefNo").is_not_null())
        .select(
            normalise_key_expr(pl.col("uniqueRefNo")).alias("customer_key"),
            pl.col("uniqueRefNo").alias("customer_ref"),
            pl.col("customerId"),
        )
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


def live_invoices(enkash_invoices: pl.DataFrame) -> pl.DataFrame:
    """EnKash's invoices less the cancelled ones: a cancelled copy is no receivable and no twin."""
    return enkash_invoices.filter(pl.col("receivableStatus").fill_null("") != "CANCELLED")


def plan_invoices(
    erp_invoices: pl.DataFrame, customer_ids: pl.DataFrame, enkash_invoices: pl.DataFrame
) -> InvoicePlan:
    """Split the ERP invoices into new ones (to upload), changed open ones (to patch) and fields to clear.

    An invoice whose customer changed in the ERP is patched to its new customer (updateInvoice
    ``customerId``) while EnKash has not dispatched it; a dispatched one is left to the cancellation
    stage (:mod:`ar_sync.lifecycle`), which takes it out of collection so that it is uploaded again
    under its new customer.

    Args:
        erp_invoices: validated ERP invoices (canonical columns, ``invoice_key``, ``customer_key``).
        customer_ids: ``customer_key`` -> ``customerId`` (:func:`customer_id_map`).
        enkash_invoices: EnKash's invoices for this seller (:data:`ENKASH_INVOICE_COLUMNS`), one per
            externalId: the keepers of ``convergence.invoice_twins``.

    Returns:
        ``to_create`` in invoiceBulkUpload columns; ``to_update`` with ``invoiceId`` and the members to
        patch; ``to_clear`` for emptied fields; ERP rows whose customer is not (yet) in EnKash in
        ``skipped_unknown_customer``; the ERP invoices EnKash already holds in ``present``.
    """
    ids = customer_ids.select(key_of(customer_ids, "customer_key", "customer_ref"), pl.col("customerId"))
    erp = erp_invoices.with_columns(
        key_of(erp_invoices, "invoice_key", "invoice_number"),
        key_of(erp_invoices, "customer_key", "customer_ref"),
    )
    with_ids = erp.join(ids, on="customer_key", how="left")
    skipped = with_ids.filter(pl.col("customerId").is_null()).select("invoice_number", "customer_ref")
    rows = with_ids.filter(pl.col("customerId").is_not_null()).select(
        pl.col("customerId"), pl.col("invoice_key"), *_erp_invoice_fields()
    )
    known = enkash_business_dates(
        live_invoices(_with_columns(enkash_invoices, ENKASH_INVOICE_COLUMNS)), ["invoiceDate"]
    ).with_columns(normalise_key_expr(pl.col("externalId")).alias("invoice_key"))
    joined = rows.join(_suffixed(known, keep=("invoice_key", "invoiceId")), on="invoice_key", how="left")
    held = joined.filter(pl.col("invoiceId").is_not_null())
    moved_after_dispatch = pl.col("dispatched_ek").fill_null(False) & (
        pl.col("customerId") != pl.col("customerId_ek")
    )
    existing = held.filter(pl.col("receivableStatus_ek").is_in(_OPEN_STATUSES) & ~moved_after_dispatch)
    to_set, to_clear = field_changes(existing, INVOICE_COMPARED, "externalId", "invoiceId")
    changed = existing.filter(to_set)
    template_cols = ["customerId", *(e.meta.output_name() for e in _erp_invoice_fields())]
    return InvoicePlan(
        to_create=joined.filter(pl.col("invoiceId").is_null()).select(template_cols),
        to_update=changed.select(["invoiceId", *template_cols]),
        unchanged=held.height - changed.height,
        skipped_unknown_customer=skipped,
        present=held.select("externalId", "invoiceId", "baseAmount"),
        to_clear=to_clear,
    )


def _erp_keys(erp_invoices: pl.DataFrame, customer_ids: pl.DataFrame | None) -> pl.DataFrame:
    """The ERP invoices' keys, with the customerId EnKash should hold each under (when known)."""
    keys = erp_invoices.select(key_of(erp_invoices, "invoice_key", "invoice_number"))
    if customer_ids is None:
        return keys
    customer = erp_invoices.select(key_of(erp_invoices, "customer_key", "customer_ref"))
    ids = customer_ids.select(key_of(customer_ids, "customer_key", "customer_ref"), pl.col("customerId"))
    return (
        pl.concat([keys, customer], how="horizontal")
        .join(ids, on="customer_key", how="left")
        .select("invoice_key", pl.col("customerId").alias("__expected_customer"))
    )


#: The columns of the ERP's valid invoice rows that dispatch reads (:func:`invoices_to_dispatch`,
#: :func:`already_dispatched`, the invoices whose statuses it checks): the normalised keys, which every
#: validated export has. The dispatch stage loads these alone (``flows.prepare.stage_run``), not every
#: column of a large export (nor its numbers as written: ~50 MiB more at a million).
DISPATCH_ERP_FIELDS: Final = ("invoice_key", "customer_key")

#: The columns of EnKash's invoices that dispatch planning reads (:func:`invoices_to_dispatch`,
#: :func:`already_dispatched`): ``convergence.InvoiceTwins.keepers_of`` gathers these alone.
DISPATCH_PLAN_COLUMNS: Final = ("invoiceId", "externalId", "customerId", "dispatched", "receivableStatus")


def invoices_to_dispatch(
    erp_invoices: pl.DataFrame, keepers: pl.DataFrame, customer_ids: pl.DataFrame | None = None
) -> pl.DataFrame:
    """EnKash invoices of tonight's ERP file that are open and have never been dispatched, by externalId.

    EnKash's ``dispatched`` flag is the truth here, not a local record: an invoice dispatched by an
    earlier run whose answer was lost shows ``dispatched = true`` and is not sent again. ``keepers`` holds
    one copy per externalId (``convergence.invoice_twins(...).keepers``), the dispatched one when there is
    one, so a twin is never dispatched. With ``customer_ids`` (:func:`customer_id_map`), an invoice is
    dispatched only under the customer the ERP bills: one still held under its former customer (its move
    failed) is not sent to the wrong customer.
    """
    return keepers.select(DISPATCH_COLUMNS)[dispatch_positions(erp_invoices, keepers, customer_ids)]


#: The columns of an invoice a dispatch batch sends (``exactly_once.dispatch_invoices``).
DISPATCH_COLUMNS: Final = ("invoiceId", "externalId", "customerId")


def dispatch_positions(
    erp_invoices: pl.DataFrame, keepers: pl.DataFrame, customer_ids: pl.DataFrame | None = None
) -> pl.Series:
    """The positions in ``keepers`` of :func:`invoices_to_dispatch`'s rows, in its order: what the
    dispatch stage holds through its batches, gathering each batch's :data:`DISPATCH_COLUMNS` as it
    goes (at a million invoices the gathered plan was ~95 MiB held from planning to the last batch)."""
    undispatched = ~pl.col("dispatched").fill_null(False) & pl.col("receivableStatus").is_in(_OPEN_STATUSES)
    return erp_positions(erp_invoices, keepers, undispatched, customer_ids, by_number=True)


def already_dispatched(erp_invoices: pl.DataFrame, keepers: pl.DataFrame) -> pl.DataFrame:
    """ERP invoices EnKash already shows dispatched: ``externalId``, ``invoiceId``, in the picture's order."""
    dispatched = pl.col("dispatched").fill_null(False) & (
        pl.col("receivableStatus").fill_null("") != "CANCELLED"
    )
    return keepers.select("externalId", "invoiceId")[
        erp_positions(erp_invoices, keepers, dispatched, None, by_number=False)
    ]


def erp_positions(
    erp_invoices: pl.DataFrame,
    keepers: pl.DataFrame,
    where: pl.Expr,
    customer_ids: pl.DataFrame | None,
    *,
    by_number: bool,
) -> pl.Series:
    """The positions of the ``keepers`` (:data:`DISPATCH_PLAN_COLUMNS`; any frame of EnKash's invoices
    with those columns) that match ``where`` and are in the ERP's file by normalised key (under the
    customer the ERP bills, with ``customer_ids``), ordered by externalId (in the keepers' order without
    ``by_number``).

    Positions, for the caller to gather the columns it needs once: the filter and the join carry each
    candidate's position, key and customer, not its every column, and the sort orders positions (at a
    million invoices the plan's frames were copied three times: ~300 MiB of the dispatch stage's peak).
    """
    # A semi join (the ERP's key, and the customer it bills when known): only the matching candidates'
    # positions come out, not a row of both sides per match.
    on = ["invoice_key"] if customer_ids is None else ["invoice_key", "customerId"]
    erp = (
        _erp_keys(erp_invoices, customer_ids)
        .lazy()
        .rename({"__expected_customer": "customerId"}, strict=False)
    )
    rows = (
        keepers.lazy()
        .select("externalId", "customerId", "dispatched", "receivableStatus")
        .with_row_index("__row")
        .filter(where)
        .select("__row", "customerId", normalise_key_expr(pl.col("externalId")).alias("invoice_key"))
        .join(erp, on=on, how="semi")
        .select("__row")
        .collect()
        .get_column("__row")
    )
    if by_number:
        rows = rows.gather(keepers.get_column("externalId").gather(rows).arg_sort())
    return rows
