"""The night's one picture of EnKash, shared by the stages of one nightly cycle (``ar_sync.night_picture``).

``nightly_ar_cycle`` opens a :func:`shared_picture` around its stages: the first stage that needs
customers or invoices reads them, and the later ones take the picture as the earlier ones left it
(updated from their writes' answers). A stage flow run on its own (its own deployment, a rerun from
the UI) has no shared picture and reads what it needs. The picture is held in this process's memory
only, never as a flow parameter or a Prefect result: it holds customers' names and contacts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Final

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_logger

from ar_sync import kept_reads, night_picture
from ar_sync.night_picture import NightPicture
from enkash_ar.context_threads import in_order
from enkash_ar.contract import TIMESTAMP_FORMAT
from enkash_ar.errors import READ_NOT_AS_GUESSED, NotFoundError
from enkash_ar.frames import INVOICE_SCHEMA, invoices_frame
from enkash_ar.models import CustomerReminder, Invoice
from tasks.connection import enkash_client
from tasks.enkash_state import read_enkash_customers, read_enkash_invoices
from tasks.retry_policy import retry_transient

logger = get_logger("enkash_ar.night_picture")

#: EnKash's clock and this one need not agree: "dispatched since the read" starts this much earlier.
REFRESH_MARGIN: Final = timedelta(hours=1)

#: Reads of one record each (getCustomerReminders, getInvoice) in flight at once: as many as the reminder
#: stage's writes (``ar_sync.reminder_policy.REMINDER_WORKERS``), well within the client's connection pool.
READS_IN_FLIGHT: Final = 8
#: The customers a night created have reminders only EnKash knows (it may give a new customer a
#: default schedule). The reminder stage reads theirs one by one (getCustomerReminders: a few records
#: each, ``READS_IN_FLIGHT`` at a time) instead of every customer again (a page carries thousands of
#: customers, with contacts and reminders) when they are few on both counts: at most this many per page
#: of a full read, and at most one in ``REMINDER_READS_SHARE`` of the customers held. On the sandbox one
#: reminders read costs about 1/250 of a 10,000-customer read: a page of 5,000 costs what ~125 such
#: reads do, and a customer in a page ~1/40 of one. 40 per page (five round trips at 8 in flight)
#: leaves room for a real network's latency; a first night, whose customers are all new, reads them all.
REMINDER_READS_PER_PAGE: Final = 40
REMINDER_READS_SHARE: Final = 10
#: Invoices that owed something at the kept read and are not among the owed tonight (paid in full,
#: cancelled, deleted) are read one by one (getInvoice) up to this many per page a read of every
#: invoice would take; more, and the night reads every invoice instead (the same costs as reminders').
SETTLED_READS_PER_PAGE: Final = 40


@dataclass
class _Shared:
    picture: NightPicture
    #: how long the night may start from a kept read of the invoices (None: it reads every invoice)
    full_read_every: timedelta | None = None


# A mutable box in a context variable: Prefect runs a subflow in a copy of its parent's context, and a
# copy still holds the same box, so what a stage leaves in it is what the next stage finds.
_night: ContextVar[_Shared | None] = ContextVar("enkash_night_picture", default=None)


@contextmanager
def shared_picture(full_read_every: timedelta | None = None) -> Iterator[None]:
    """Share one picture between the stages run inside the block (the nightly cycle's).

    With ``full_read_every``, the night starts from the last night's read of the invoices, kept next to
    the ledger, and reads only what may have changed since (``ar_sync.kept_reads``), reading every
    invoice again once that long has passed since the last full read.
    """
    token = _night.set(_Shared(NightPicture(), full_read_every))
    try:
        yield
    finally:
        _night.reset(token)


def current_picture(
    credentials_block: str | None,
    ledger_path: str | None,
    *,
    customers: bool = False,
    invoices: bool = False,
    fresh_since: datetime | None = None,
    reminders: bool = False,
) -> NightPicture:
    """The night's picture with ``customers`` and / or ``invoices`` read (once per night when shared).

    With ``reminders``, the reminders of the customers the night created are read (they are EnKash's
    to decide): one by one when they are few (``REMINDER_READS_PER_PAGE``, ``REMINDER_READS_SHARE``),
    else by reading every customer again.

    Invoices are read again where the night's own writes made them uncertain
    (``night_picture.needs_invoice_refresh``): the undispatched ones with one search, patched
    dispatched ones one by one; and all of them when they were read before ``fresh_since`` (what a
    stage about to send requires).

    Example:
        >>> picture = current_picture("enkash-prod", None, customers=True)  # doctest: +SKIP
    """
    shared = _night.get()
    picture = shared.picture if shared is not None else NightPicture()
    if reminders and _few_unread(picture, credentials_block, ledger_path):
        unread = sorted(picture.reminders_unread)
        answered = read_customer_reminders(unread, credentials_block, ledger_path)
        if answered is not None:
            picture = night_picture.with_reminders_read(picture, answered)
    need_customers = (customers and picture.customers is None) or (
        reminders and bool(picture.reminders_unread)
    )
    need_invoices = invoices and picture.invoices is None
    # The invoices first, then the customers: one after the other, not side by side. Each read already
    # asks for its next page while it decodes the one before (``enkash_ar.paging``), and decoding a page
    # holds the interpreter lock; two reads at once only took turns at it (a quiet night of 100,000
    # invoices and 10,000 customers: 6.1 s for both side by side, 5.7 s one after the other).
    if need_invoices:
        started = datetime.now(UTC)
        every = shared.full_read_every if shared is not None else None
        invoices_read = _every_invoice(credentials_block, ledger_path, started, every)
        picture = replace(picture, invoices=invoices_read, invoices_read_on=started)
    if need_customers:
        read = read_enkash_customers(credentials_block, ledger_path)
        picture = night_picture.with_customers_read(picture, read.customers)
    if not need_invoices and invoices and invoices_stale(picture, fresh_since):
        picture = refreshed(picture, credentials_block, ledger_path)
    return keep(picture)


def invoices_stale(picture: NightPicture, fresh_since: datetime | None = None) -> bool:
    """Whether :func:`current_picture` (asked for invoices, with ``fresh_since``) would read the
    picture's invoices again: the night's own writes made them uncertain, or they were read before
    ``fresh_since``."""
    return picture.invoices is not None and (
        night_picture.needs_invoice_refresh(picture)
        or (fresh_since is not None and (picture.invoices_read_on or fresh_since) < fresh_since)
    )


def _every_invoice(
    credentials_block: str | None, ledger_path: str | None, started: datetime, every: timedelta | None
) -> pl.DataFrame:
    """Every invoice of the seller: from the kept read and what may have changed since when one may be
    used (``every``), else one read of all of them; either way kept for the next night."""
    if every is None or not ledger_path:
        return read_enkash_invoices(credentials_block, ledger_path)
    client = enkash_client(credentials_block, ledger_path)
    path = kept_reads.kept_read_path(ledger_path, str(client.base_url), client.seller_id)
    identity = kept_reads.read_identity(
        str(client.base_url), client.seller_id, client.profile.model_dump_json()
    )
    kept, why = kept_reads.load_kept_read(path, identity, now=started, full_read_every=every)
    frame = None if kept is None else _narrow_read(kept, credentials_block, ledger_path)
    if frame is None or kept is None:
        if why:
            logger.info("Reading every invoice: %s", why)
        frame, full_read_on = read_enkash_invoices(credentials_block, ledger_path), started
    else:
        full_read_on = kept.full_read_on
    try:
        kept_reads.save_kept_read(path, kept_reads.KeptRead(frame, started, full_read_on), identity)
    except OSError as exc:
        # The older kept read (if any) stays correct to start from: the next night reads more.
        logger.warning("Could not keep tonight's read of the invoices in %s (%s)", path.parent, exc)
    return frame


def _narrow_read(
    kept: kept_reads.KeptRead, credentials_block: str | None, ledger_path: str | None
) -> pl.DataFrame | None:
    """Every invoice from ``kept`` and the reads of what may have changed since; None (read every
    invoice) when EnKash refuses the narrow searches or too many invoices left the owed ones."""
    owed_filters, new_filters = kept_reads.narrow_filters(kept)
    try:
        owed = read_enkash_invoices(credentials_block, ledger_path, filters=owed_filters)
        new_settled = read_enkash_invoices(credentials_block, ledger_path, filters=new_filters)
    except READ_NOT_AS_GUESSED as exc:
        logger.warning(
            "EnKash did not answer the search of owed invoices as the contract guesses (%s); reading every "
            "invoice instead",
            exc,
        )
        return None
    left = kept_reads.left_the_owed(kept.invoices, owed, new_settled)
    client = enkash_client(credentials_block, ledger_path)
    page = client.profile.page_size("searchCollectionInvoices")
    pages = max(1, -(-kept.invoices.height // page))
    if len(left) > SETTLED_READS_PER_PAGE * pages:
        logger.info(
            "%d invoices owed something at the last read and are no longer owed: reading every invoice "
            "instead of each of them",
            len(left),
        )
        return None
    settled = reread_invoices(left, credentials_block, ledger_path, missing_ok=True) if left else owed.clear()
    if settled.height < len(left):
        # A 404 is a deleted invoice only if getInvoice is what the contract guesses: dropping one that
        # exists would upload its number again. Deletions are rare; a full read settles it.
        logger.info(
            "%d of the invoices no longer owed were not found one by one (deleted since?): reading every "
            "invoice",
            len(left) - settled.height,
        )
        return None
    frame = kept_reads.merged(kept.invoices, [owed, new_settled, settled])
    counted = count_invoices(credentials_block, ledger_path) if client.searches_count else None
    if counted is not None and counted != frame.height:
        logger.info(
            "Tonight's reads since the last read make %d invoices, EnKash counts %d: reading every invoice",
            frame.height,
            counted,
        )
        return None
    logger.info(
        "Invoices read since the last read (%s UTC): %d owed, %d new with nothing owed, %d no longer owed "
        "(read one by one); %d unchanged from the kept read",
        f"{kept.read_on:%Y-%m-%d %H:%M}",
        owed.height,
        new_settled.height,
        len(left),
        frame.height - owed.height - new_settled.height - len(left),
    )
    return frame


def refreshed(picture: NightPicture, credentials_block: str | None, ledger_path: str | None) -> NightPicture:
    """``picture`` with EnKash's undispatched invoices, those dispatched since it was read and the
    stale ones read again: what dispatch plans from, so that an invoice is never dispatched on the
    strength of an older read (another cycle may have dispatched a copy meanwhile). With every invoice
    read again instead when EnKash refuses those two searches or answers them otherwise than the
    contract guesses (``enkash-ar doctor`` checks both filters)."""
    if picture.invoices is None:
        return picture
    started = datetime.now(UTC)
    columns = picture.invoices.columns  # what the picture holds: not what the night let go of
    since = (picture.invoices_read_on or started) - REFRESH_MARGIN
    try:
        undispatched = read_enkash_invoices(
            credentials_block, ledger_path, filters={"dispatched": False}, columns=columns
        )
        dispatched = read_enkash_invoices(
            credentials_block,
            ledger_path,
            filters={"dispatched": True, "dispatchedOnFrom": since.strftime(TIMESTAMP_FORMAT)},
            columns=columns,
        )
    except READ_NOT_AS_GUESSED as exc:
        # The two searches are how the contract says to read only what dispatch must see afresh; an
        # EnKash that refuses them (or answers them otherwise) is read whole instead: slower, as fresh.
        logger.warning(
            "EnKash did not answer the search of undispatched invoices as the contract guesses (%s); "
            "reading every invoice before dispatching instead",
            exc,
        )
        every = read_enkash_invoices(credentials_block, ledger_path, columns=columns)
        return night_picture.with_every_invoice_read(picture, every, now=started)
    stale = reread_invoices(night_picture.stale_dispatched(picture), credentials_block, ledger_path)
    return night_picture.with_refreshed_invoices(picture, undispatched, dispatched, stale, now=started)


def _few_unread(picture: NightPicture, credentials_block: str | None, ledger_path: str | None) -> bool:
    """Whether reading the unread reminders one by one costs less than reading every customer again."""
    unread, held = len(picture.reminders_unread), len(picture.customers or ())
    if not unread:
        return False
    page = enkash_client(credentials_block, ledger_path).profile.page_size("searchCustomer")
    pages = max(1, -(-held // page))
    return unread <= REMINDER_READS_PER_PAGE * pages and unread * REMINDER_READS_SHARE <= held


@task(name="read-customer-reminders", cache_policy=NO_CACHE, retries=2, retry_condition_fn=retry_transient)
def read_customer_reminders(
    customer_ids: list[str], credentials_block: str | None, ledger_path: str | None
) -> dict[str, list[CustomerReminder]] | None:
    """Each customer's reminder schedules as EnKash holds them now (getCustomerReminders each); None,
    with a warning, when EnKash does not answer these reads as the contract guesses (the caller then
    reads every customer again, as it would for many). A transient failure is retried, then raised.

    Example:
        >>> read_customer_reminders(["KC01"], "enkash-prod", None)  # doctest: +SKIP
        {'KC01': []}
    """
    client = enkash_client(credentials_block, ledger_path)
    try:
        answers = in_order(client.get_customer_reminders, customer_ids, READS_IN_FLIGHT)
        return dict(zip(customer_ids, answers, strict=True))
    except (*READ_NOT_AS_GUESSED, NotFoundError) as exc:
        logger.warning(
            "Reading the reminders of the %d customers this night created, one by one, failed (%s); "
            "reading every customer again instead",
            len(customer_ids),
            exc,
        )
        return None


def let_go_of_upload_columns() -> None:
    """Drop from the night's shared picture the invoice columns only the upload stage reads
    (``night_picture.without_upload_columns``); nothing outside a shared night."""
    _change_shared(night_picture.without_upload_columns)


def doubt_invoices() -> None:
    """After an invoice stage failed part-way: the shared picture's invoices are read again before the
    next stage plans or summarises from them (``night_picture.with_invoices_in_doubt``); nothing outside
    a shared night."""
    _change_shared(night_picture.with_invoices_in_doubt)


def _change_shared(change: Callable[[NightPicture], NightPicture]) -> None:
    """Replace the night's shared picture with ``change`` of it; nothing outside a shared night."""
    shared = _night.get()
    if shared is not None:
        shared.picture = change(shared.picture)


def keep(picture: NightPicture) -> NightPicture:
    """Leave ``picture`` for the night's next stage (nothing, outside a shared night); returns it."""
    shared = _night.get()
    if shared is not None:
        shared.picture = picture
    return picture


@task(name="count-invoices", cache_policy=NO_CACHE, retries=2, retry_condition_fn=retry_transient)
def count_invoices(credentials_block: str | None, ledger_path: str | None) -> int | None:
    """How many invoices the seller has in EnKash (None when its search pages carry no total).

    Example:
        >>> count_invoices("enkash-prod", None)  # doctest: +SKIP
        120000
    """
    return enkash_client(credentials_block, ledger_path).count_invoices()


@task(name="reread-invoices", cache_policy=NO_CACHE, retries=2, retry_condition_fn=retry_transient)
def reread_invoices(
    invoice_ids: list[str], credentials_block: str | None, ledger_path: str | None, missing_ok: bool = False
) -> pl.DataFrame:
    """The invoices of ``invoice_ids`` as EnKash holds them now (getInvoice each, ``READS_IN_FLIGHT`` at
    a time). With ``missing_ok``, one EnKash answers not found for is left out (the caller counts them)
    instead of failing the read.

    Example:
        >>> frame = reread_invoices(["INV1"], "enkash-prod", None)  # doctest: +SKIP
    """
    if not invoice_ids:
        return pl.DataFrame(schema=INVOICE_SCHEMA)
    client = enkash_client(credentials_block, ledger_path)

    def read(invoice_id: str) -> Invoice | None:
        try:
            return client.get_invoice(invoice_id)
        except NotFoundError:
            if not missing_ok:
                raise
            return None

    return invoices_frame(a for a in in_order(read, invoice_ids, READS_IN_FLIGHT) if a is not None)
