"""One picture of EnKash per night: read once, then kept up to date from what the night's writes answered.

Every stage of a night diffs the ERP against EnKash. Reading EnKash again before each stage costs a
full paged search of customers and of invoices per stage; instead the night reads them once and each
writing stage applies what its writes answered (created ids, dispatches, cancellations, status
changes) with the pure functions here. What a write's answer cannot tell exactly is marked, never
guessed:

- invoices uploaded tonight: EnKash decides their ids, amounts and receivable status (whose name the
  dispatch stage must check against the contract profile), so ``uploads_pending`` asks for a read of
  the undispatched invoices before dispatch (:func:`needs_invoice_refresh`);
- invoices patched tonight (changed values, cleared fields): EnKash recomputes their amounts, so their
  ids are ``stale_invoice_ids`` and are read again one by one when the read of undispatched invoices
  does not cover them.

The picture only saves reads; it never decides alone whether a record is sent: the run ledger stays
the authority on what was sent, and every write still reconciles against EnKash before a resend
(``ar_sync.exactly_once``). A stage run on its own reads a fresh picture.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Final

import polars as pl

from ar_sync.planner import planning_customers
from ar_sync.results import RowOutcome
from enkash_ar.contract import ReceivableStatus
from enkash_ar.frames import INVOICE_SCHEMA, unique_rows
from enkash_ar.models import Customer, CustomerKeyContact, CustomerReminder

#: The invoice columns the night's picture keeps: those some stage reads (``frames.INVOICE_SCHEMA`` less
#: sellerId, approvalStatus, payoutStatus, paymentLink, modifiedOn and tds, which none does). At a
#: million invoices the six were a fifth of the picture, kept all night (paymentLink a URL each).
#: customerLegalName is left out too: the summary names a customer from the customers read (one name
#: per customer, not one per invoice: ~25 MB of a million-invoice picture).
PICTURE_INVOICE_COLUMNS: Final = (
    "invoiceId",
    "externalId",
    "invoiceNumber",
    "customerId",
    "invoiceDate",
    "dueDate",
    "baseAmount",
    "netAmount",
    "balanceAmount",
    "totalReceived",
    "cgst",
    "sgst",
    "igst",
    "partialPaymentAllowed",
    "dispatched",
    "dispatchedOn",
    "receivableStatus",
    "description",
    "poNumber",
    "createdOn",
    "lastPaymentOn",
    "lastPaymentMode",
    "lastPaymentReference",
)

#: The picture's invoice columns only the upload stage reads (``planner.plan_invoices`` compares them with
#: the ERP's): a night lets go of them once it has uploaded (:func:`without_upload_columns`); ~90 MiB
#: of a million-invoice picture held through dispatch, payments and the summary.
UPLOAD_ONLY_INVOICE_COLUMNS: Final = (
    "baseAmount",
    "cgst",
    "sgst",
    "igst",
    "partialPaymentAllowed",
    "description",
    "poNumber",
)

#: How many dispatched ids :func:`with_dispatched` looks up at a time.
_MARK_IDS: Final = 100_000

#: The contact columns of the customer bulk templates (``planner.KEY_CONTACT_FIELD_MAP``).
_CONTACT_PREFIX = "customerKeyContacts."


@dataclass(frozen=True)
class NightPicture:
    """What EnKash holds for the seller tonight, as far as the night knows it.

    ``customers`` and ``invoices`` are None until read (a stage that needs neither reads neither).
    """

    #: the seller's customers as the search answers them (with their reminders)
    customers: tuple[Customer, ...] | None = None
    #: the seller's invoices (``frames.INVOICE_SCHEMA``'s :data:`PICTURE_INVOICE_COLUMNS`; once the night
    #: has uploaded, less :data:`UPLOAD_ONLY_INVOICE_COLUMNS`)
    invoices: pl.DataFrame | None = None
    #: invoiceIds this night patched: their amounts are EnKash's to recompute
    stale_invoice_ids: frozenset[str] = field(default_factory=frozenset)
    #: whether this night uploaded invoices the picture does not hold yet
    uploads_pending: bool = False
    #: when the invoices were read (UTC): a refresh reads what was dispatched since
    invoices_read_on: datetime | None = None
    #: customerIds created tonight: EnKash may have given them reminders the picture has not read
    reminders_unread: frozenset[str] = field(default_factory=frozenset)
    #: :attr:`customer_frame` with the customers it was made of. ``replace`` carries it into the next
    #: picture, which uses it while it holds the same customers: a stage that changed only invoices does
    #: not make the frame again (10,000 customers: ~0.1 s of a quiet night, twice). A change the frame
    #: does not show (reminders) or that only adds customers carries it on too (:func:`_frame_carried`).
    _planned: tuple[tuple[Customer, ...] | None, pl.DataFrame] | None = field(
        default=None, compare=False, repr=False
    )

    @property
    def customer_frame(self) -> pl.DataFrame:
        """The customers as the planner reads them (``planner.planning_customers``), made once per
        customers read or changed."""
        planned = self._planned
        if planned is not None and planned[0] is self.customers:
            return planned[1]
        frame = planning_customers(list(self.customers or ()))
        object.__setattr__(self, "_planned", (self.customers, frame))  # a cache: frozen for everything else
        return frame


def _succeeded(results: pl.DataFrame, rows: pl.DataFrame, key_column: str) -> pl.DataFrame:
    """The ``rows`` whose ``key_column`` has a successful result row."""
    done = results.filter(pl.col("outcome") == str(RowOutcome.SUCCESS)).get_column("key")
    return rows.filter(pl.col(key_column).is_in(done.implode()))


def _with_customers(picture: NightPicture, customers: Sequence[Customer]) -> NightPicture:
    return replace(picture, customers=tuple(customers))


def with_customer_status(
    picture: NightPicture, results: pl.DataFrame, rows: pl.DataFrame, status: str
) -> NightPicture:
    """The customers of ``rows`` (``uniqueRefNo``, ``customerId``) ``results`` shows done: in ``status``."""
    if picture.customers is None:
        return picture
    ids = set(_succeeded(results, rows, "uniqueRefNo").get_column("customerId").to_list())
    if not ids:
        return picture
    return _with_customers(
        picture,
        [c.model_copy(update={"status": status}) if c.customer_id in ids else c for c in picture.customers],
    )


def _new_customer(row: dict[str, object], customer_id: str) -> Customer:
    top = {k: v for k, v in row.items() if not k.startswith(_CONTACT_PREFIX) and v is not None}
    contact = {k.removeprefix(_CONTACT_PREFIX): v for k, v in row.items() if k.startswith(_CONTACT_PREFIX)}
    contacts = (
        [CustomerKeyContact.model_validate(contact)] if any(v is not None for v in contact.values()) else []
    )
    return Customer.model_validate({**top, "customerId": customer_id, "customerKeyContacts": contacts})


def _frame_carried(before: NightPicture, after: NightPicture, added: Sequence[Customer] = ()) -> NightPicture:
    """``after``, whose customers are ``before``'s in the same order with only what the customer frame
    does not show changed (their reminders) and ``added`` after them, with the frame ``before`` had made
    carried on (``added``'s rows after its own) instead of made again from every customer. The frame is
    made a row per customer (``planner.planning_customers``), so the carried one equals a new one."""
    planned = before._planned
    if planned is None or planned[0] is not before.customers or after.customers is None:
        return after
    frame = pl.concat([planned[1], planning_customers(list(added))]) if added else planned[1]
    return replace(after, _planned=(after.customers, frame))


def with_created_customers(picture: NightPicture, results: pl.DataFrame, rows: pl.DataFrame) -> NightPicture:
    """Add the customers ``results`` shows created from createBulkCustomer ``rows``, with their new ids.

    Their status is left unknown (read as active, as a search without one is). Their reminders are
    unknown too (EnKash may give a new customer a default schedule): their ids are noted in
    ``reminders_unread``, for the reminder stage to read them before it plans from them. A customer the
    picture already holds (an earlier attempt created it) is not added twice.
    """
    if picture.customers is None:
        return picture
    created = results.filter(
        (pl.col("outcome") == str(RowOutcome.SUCCESS)) & pl.col("remote_id").is_not_null()
    )
    id_of = dict(zip(created["key"].to_list(), created["remote_id"].to_list(), strict=True))
    held = {c.customer_id for c in picture.customers}
    new = [
        _new_customer(row, id_of[str(row["uniqueRefNo"])])
        for row in rows.iter_rows(named=True)
        if row["uniqueRefNo"] in id_of and id_of[str(row["uniqueRefNo"])] not in held
    ]
    if not new:
        return picture
    unread = picture.reminders_unread | {str(c.customer_id) for c in new}
    after = replace(picture, customers=(*picture.customers, *new), reminders_unread=unread)
    return _frame_carried(picture, after, new)


def with_reminders_read(
    picture: NightPicture, reminders: Mapping[str, Sequence[CustomerReminder]]
) -> NightPicture:
    """The picture with the reminders of the customers in ``reminders`` as EnKash answered them (each
    customer's whole list), those customers no longer in ``reminders_unread``."""
    if picture.customers is None or not reminders:
        return picture
    customers = tuple(
        c.model_copy(update={"customer_reminders": list(reminders[str(c.customer_id)])})
        if str(c.customer_id) in reminders
        else c
        for c in picture.customers
    )
    after = replace(picture, customers=customers, reminders_unread=picture.reminders_unread - set(reminders))
    return _frame_carried(picture, after)


def with_customers_read(picture: NightPicture, customers: Sequence[Customer]) -> NightPicture:
    """The picture after a fresh read of every customer (with their reminders)."""
    return replace(picture, customers=tuple(customers), reminders_unread=frozenset())


def with_updated_customers(picture: NightPicture, results: pl.DataFrame, rows: pl.DataFrame) -> NightPicture:
    """Apply the values of bulkUpdate ``rows`` (``customerId`` and template columns; empty = unchanged)
    that ``results`` shows done to the customers' own members (contacts are not followed: no later
    stage reads them)."""
    if picture.customers is None:
        return picture
    changes = {
        str(row["customerId"]): {
            k: v
            for k, v in row.items()
            if k != "customerId" and not k.startswith(_CONTACT_PREFIX) and v is not None
        }
        for row in _succeeded(results, rows, "uniqueRefNo").iter_rows(named=True)
    }
    if not changes:
        return picture
    by_alias = {info.alias or name: name for name, info in Customer.model_fields.items()}
    updated = [
        c.model_copy(update={by_alias[k]: v for k, v in changes[c.customer_id].items() if k in by_alias})
        if c.customer_id in changes
        else c
        for c in picture.customers
    ]
    return _with_customers(picture, updated)


def without_invoices(picture: NightPicture, invoice_ids: Sequence[str]) -> NightPicture:
    """The picture once ``invoice_ids`` were deleted."""
    if picture.invoices is None or not invoice_ids:
        return picture
    return replace(picture, invoices=picture.invoices.filter(~pl.col("invoiceId").is_in(list(invoice_ids))))


def with_deleted_invoices(
    picture: NightPicture, results: pl.DataFrame, rows: pl.DataFrame, key: str
) -> NightPicture:
    """Drop the invoices of ``rows`` (with ``invoiceId``) whose ``key`` ``results`` shows deleted."""
    return without_invoices(picture, _succeeded(results, rows, key).get_column("invoiceId").to_list())


def with_withdrawn_invoices(picture: NightPicture, results: pl.DataFrame, rows: pl.DataFrame) -> NightPicture:
    """The invoices of ``rows`` (``externalId``, ``invoiceId``) ``results`` shows taken out of collection:
    receivableStatus CANCELLED."""
    if picture.invoices is None:
        return picture
    ids = _succeeded(results, rows, "externalId").get_column("invoiceId")
    cancelled = pl.lit(ReceivableStatus.CANCELLED.value, pl.String)
    invoices = picture.invoices.with_columns(
        pl.when(pl.col("invoiceId").is_in(ids.implode()))
        .then(cancelled)
        .otherwise(pl.col("receivableStatus"))
        .alias("receivableStatus")
    )
    return replace(picture, invoices=invoices)


def with_patched_invoices(picture: NightPicture, invoice_ids: Sequence[str]) -> NightPicture:
    """Mark ``invoice_ids`` (patched tonight, whatever the answer) stale: EnKash recomputes them."""
    ids = {str(i) for i in invoice_ids if i is not None}
    if not ids:
        return picture
    return replace(picture, stale_invoice_ids=picture.stale_invoice_ids | ids)


def with_answered_invoices(picture: NightPicture, answered: pl.DataFrame) -> NightPicture:
    """The picture once EnKash answered patches with ``answered`` (``frames.INVOICE_SCHEMA``): those rows
    replace the picture's and are no longer stale.

    An answer without amounts (a thinner answer than the contract's Invoice) is not taken: its invoice
    stays stale and is read again.
    """
    if picture.invoices is None or answered.is_empty():
        return picture
    fresh = answered.filter(pl.col("invoiceId").is_not_null() & pl.col("balanceAmount").is_not_null())
    fresh = fresh.filter(pl.col("invoiceId").is_in(picture.invoices.get_column("invoiceId").implode()))
    if fresh.is_empty():
        return picture
    ids, columns = fresh.get_column("invoiceId"), picture.invoices.columns
    invoices = pl.concat(
        [
            picture.invoices.filter(~pl.col("invoiceId").is_in(ids.implode())),
            fresh.select(columns),
        ],
        how="vertical_relaxed",
    )
    return replace(
        picture, invoices=invoices, stale_invoice_ids=picture.stale_invoice_ids - set(ids.to_list())
    )


def without_upload_columns(picture: NightPicture) -> NightPicture:
    """The picture without :data:`UPLOAD_ONLY_INVOICE_COLUMNS`: what the stages after the upload read.

    Invoices read into it later (the refresh before dispatch) take the picture's columns.
    """
    if picture.invoices is None:
        return picture
    return replace(picture, invoices=picture.invoices.drop(UPLOAD_ONLY_INVOICE_COLUMNS, strict=False))


def with_uploads(picture: NightPicture, results: pl.DataFrame) -> NightPicture:
    """Note that ``results`` of invoiceBulkUpload created invoices the picture does not hold yet."""
    if results.filter(pl.col("outcome") == str(RowOutcome.SUCCESS)).is_empty():
        return picture
    return replace(picture, uploads_pending=True)


def with_invoices_in_doubt(picture: NightPicture) -> NightPicture:
    """The picture after an invoice stage failed part-way: what it uploaded or dispatched before the
    failure is not in the picture, so its invoices are read again (the undispatched ones, and those
    dispatched since the read) before anything is planned or summarised from them."""
    if picture.invoices is None:
        return picture
    return replace(picture, uploads_pending=True)


def needs_invoice_refresh(picture: NightPicture) -> bool:
    """Whether invoices must be read again before they are planned from (dispatch, summaries)."""
    return picture.invoices is not None and (picture.uploads_pending or bool(picture.stale_invoice_ids))


def stale_dispatched(picture: NightPicture) -> list[str]:
    """Stale invoiceIds a read of the undispatched invoices does not cover: read them one by one."""
    if picture.invoices is None or not picture.stale_invoice_ids:
        return []
    dispatched = picture.invoices.filter(
        pl.col("dispatched").fill_null(False) & pl.col("invoiceId").is_in(list(picture.stale_invoice_ids))
    )
    return sorted(dispatched.get_column("invoiceId").to_list())


def with_refreshed_invoices(
    picture: NightPicture, undispatched: pl.DataFrame, *reread: pl.DataFrame, now: datetime | None = None
) -> NightPicture:
    """The picture after a fresh read of every undispatched invoice and of ``reread`` ones (those
    dispatched since the picture was read, the stale ones).

    The fresh rows replace the picture's; an invoice the picture shows undispatched that the fresh reads
    lack is gone (deleted).
    """
    if picture.invoices is None:
        return picture
    columns = picture.invoices.columns
    fresh = pl.concat([frame.select(columns) for frame in (undispatched, *reread)])
    kept = picture.invoices.filter(
        pl.col("dispatched").fill_null(False)
        & ~pl.col("invoiceId").is_in(fresh.get_column("invoiceId").implode())
    )
    # The later answer of an invoice the two reads both hold.
    invoices = unique_rows(pl.concat([kept, fresh], how="vertical_relaxed"), "invoiceId", keep="last")
    return replace(
        picture,
        invoices=invoices,
        stale_invoice_ids=frozenset(),
        uploads_pending=False,
        invoices_read_on=now or datetime.now(UTC),
    )


def with_every_invoice_read(
    picture: NightPicture, every: pl.DataFrame, now: datetime | None = None
) -> NightPicture:
    """The picture after a fresh read of every invoice: ``every`` replaces what it held (in the picture's
    columns), and nothing in it is uncertain any more."""
    if picture.invoices is None:
        return picture
    return replace(
        picture,
        invoices=every.select(picture.invoices.columns),
        stale_invoice_ids=frozenset(),
        uploads_pending=False,
        invoices_read_on=now or datetime.now(UTC),
    )


def dispatched_ids(results: pl.DataFrame, rows: pl.DataFrame) -> pl.Series:
    """The invoiceIds of ``rows`` (``externalId``, ``invoiceId``) that ``results`` shows dispatched: what a
    dispatch stage keeps of each batch's answer for :func:`with_dispatched` (not the whole answer)."""
    return _succeeded(results, rows, "externalId").get_column("invoiceId")


def with_dispatched(
    picture: NightPicture, invoice_ids: pl.Series, now: datetime | None = None
) -> NightPicture:
    """The invoices ``invoice_ids`` (:func:`dispatched_ids`): dispatched."""
    if picture.invoices is None or invoice_ids.is_empty():
        return picture
    # Marked a slice of ids at a time: a set of every id dispatched (a million at once) was the end of
    # dispatch's peak, ~130 MiB over the picture.
    held = picture.invoices.get_column("invoiceId")
    marked = pl.repeat(False, held.len(), eager=True)
    for start in range(0, invoice_ids.len(), _MARK_IDS):
        marked = marked | held.is_in(invoice_ids.slice(start, _MARK_IDS).implode())
    hit = pl.lit(marked)
    when = pl.lit(now or datetime.now(UTC), INVOICE_SCHEMA["dispatchedOn"])
    invoices = picture.invoices.with_columns(
        pl.when(hit).then(pl.lit(True)).otherwise(pl.col("dispatched")).alias("dispatched"),
        pl.when(hit & pl.col("dispatchedOn").is_null())
        .then(when)
        .otherwise(pl.col("dispatchedOn"))
        .alias("dispatchedOn"),
    )
    return replace(picture, invoices=invoices)
