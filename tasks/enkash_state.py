"""Read what EnKash holds for the seller: the other side of every diff."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from ar_sync.night_picture import PICTURE_INVOICE_COLUMNS
from enkash_ar import open_statuses
from enkash_ar.models import Customer
from tasks.connection import enkash_client
from tasks.retry_policy import retry_transient


@dataclass(frozen=True)
class CustomersRead:
    """Every customer of the seller as one read answered them, with their reminders.

    One object, not a list: Prefect links a task's result to its run element by element (a weak
    reference and an entry in the flow run's context for each of 10,000 customers).
    """

    customers: tuple[Customer, ...]


@task(name="read-enkash-customers", cache_policy=NO_CACHE, retries=2, retry_condition_fn=retry_transient)
def read_enkash_customers(
    credentials_block: str | None = None, ledger_path: str | None = None
) -> CustomersRead:
    """All of the seller's EnKash customers, with their reminders (``planner.planning_customers`` makes
    the planning frame of them; the night's picture makes it once, when a stage first asks).

    Example:
        >>> customers = read_enkash_customers("enkash-prod").customers  # doctest: +SKIP
    """
    return CustomersRead(tuple(enkash_client(credentials_block, ledger_path).search_all_customers()))


@task(name="read-enkash-invoices", cache_policy=NO_CACHE, retries=2, retry_condition_fn=retry_transient)
def read_enkash_invoices(
    credentials_block: str | None = None,
    ledger_path: str | None = None,
    filters: dict[str, object] | None = None,
    columns: list[str] | None = None,
) -> pl.DataFrame:
    """The seller's EnKash invoices (paged search, limit 5000 a page) as a planning frame, with the
    columns the night's picture keeps (``night_picture.PICTURE_INVOICE_COLUMNS``), or only ``columns``
    (those of a picture that let some go, with invoiceId).

    Example:
        >>> unsent = read_enkash_invoices("enkash-prod", filters={"dispatched": False})  # doctest: +SKIP
    """
    client = enkash_client(credentials_block, ledger_path)
    return client.search_invoices_frame(filters, columns=columns or PICTURE_INVOICE_COLUMNS)


@task(name="check-open-statuses", cache_policy=NO_CACHE)
def check_open_statuses(
    status_counts: pl.DataFrame, credentials_block: str | None = None, ledger_path: str | None = None
) -> None:
    """Stop the night when invoices that must be open read as anything else (wrong status names).

    ``status_counts`` (``open_statuses.status_counts``) counts by receivable status the invoices EnKash
    cannot have closed: undispatched ones (no payment link yet) and those this night uploaded. Counts,
    a few rows, not the invoices: a list of a million externalIds cost ~200 MiB at the dispatch stage's
    peak, and Prefect walks every element of a list parameter.

    Example:
        >>> check_open_statuses(open_statuses.status_counts(must_be_open), "enkash-prod")  # doctest: +SKIP
    """
    profile = enkash_client(credentials_block, ledger_path).profile
    open_statuses.check_status_counts(status_counts, profile)
