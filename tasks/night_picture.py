"""The night's one picture of EnKash, shared by the stages of one nightly cycle (``ar_sync.night_picture``).

``nightly_ar_cycle`` opens a :func:`shared_picture` around its stages: the first stage that needs
customers or invoices reads them, and the later ones take the picture as the earlier ones left it
(updated from their writes' answers). A stage flow run on its own (its own deployment, a rerun from
the UI) has no shared picture and reads what it needs. The picture is held in this process's memory
only, never as a flow parameter or a Prefect result: it holds customers' names and contacts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Final

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_logger

from ar_sync import night_picture
from ar_sync.night_picture import NightPicture
from enkash_ar.context_threads import in_order
from enkash_ar.contract import TIMESTAMP_FORMAT
from enkash_ar.errors import BadRequestError, NotFoundError, UnexpectedResponseError
from enkash_ar.frames import INVOICE_SCHEMA, invoices_frame
from enkash_ar.models import CustomerReminder
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


@dataclass
class _Shared:
    picture: NightPicture


# A mutable box in a context variable: Prefect runs a subflow in a copy of its parent's context, and a
# copy still holds the same box, so what a stage leaves in it is what the next stage finds.
_night: ContextVar[_Shared | None] = ContextVar("enkash_night_picture", default=None)


@contextmanager
def shared_picture() -> Iterator[None]:
    """Share one picture between the stages run inside the block (the nightly cycle's)."""
    token = _night.set(_Shared(NightPicture()))
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
    if (customers and picture.customers is None) or (reminders and picture.reminders_unread):
        models = read_enkash_customers(credentials_block, ledger_path)
        picture = night_picture.with_customers_read(picture, models)
    if invoices and picture.invoices is None:
        started = datetime.now(UTC)
        invoices_read = read_enkash_invoices(credentials_block, ledger_path)
        picture = replace(picture, invoices=invoices_read, invoices_read_on=started)
    elif invoices and (
        night_picture.needs_invoice_refresh(picture)
        or (fresh_since is not None and (picture.invoices_read_on or fresh_since) < fresh_since)
    ):
        picture = refreshed(picture, credentials_block, ledger_path)
    return keep(picture)


def refreshed(picture: NightPicture, credentials_block: str | None, ledger_path: str | None) -> NightPicture:
    """``picture`` with EnKash's undispatched invoices, those dispatched since it was read and the
    stale ones read again: what dispatch plans from, so that an invoice is never dispatched on the
    strength of an older read (another cycle may have dispatched a copy meanwhile)."""
    if picture.invoices is None:
        return picture
    started = datetime.now(UTC)
    undispatched = read_enkash_invoices(credentials_block, ledger_path, filters={"dispatched": False})
    since = (picture.invoices_read_on or started) - REFRESH_MARGIN
    dispatched = read_enkash_invoices(
        credentials_block,
        ledger_path,
        filters={"dispatched": True, "dispatchedOnFrom": since.strftime(TIMESTAMP_FORMAT)},
    )
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
    except (BadRequestError, NotFoundError, UnexpectedResponseError) as exc:
        logger.warning(
            "Reading the reminders of the %d customers this night created, one by one, failed (%s); "
            "reading every customer again instead",
            len(customer_ids),
            exc,
        )
        return None


def keep(picture: NightPicture) -> NightPicture:
    """Leave ``picture`` for the night's next stage (nothing, outside a shared night); returns it."""
    shared = _night.get()
    if shared is not None:
        shared.picture = picture
    return picture


@task(name="reread-invoices", cache_policy=NO_CACHE, retries=2, retry_condition_fn=retry_transient)
def reread_invoices(
    invoice_ids: list[str], credentials_block: str | None, ledger_path: str | None
) -> pl.DataFrame:
    """The invoices of ``invoice_ids`` as EnKash holds them now (getInvoice each).

    Example:
        >>> frame = reread_invoices(["INV1"], "enkash-prod", None)  # doctest: +SKIP
    """
    if not invoice_ids:
        return pl.DataFrame(schema=INVOICE_SCHEMA)
    client = enkash_client(credentials_block, ledger_path)
    return invoices_frame(in_order(client.get_invoice, invoice_ids, READS_IN_FLIGHT))
