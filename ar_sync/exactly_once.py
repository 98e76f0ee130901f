"""Writes to EnKash that happen exactly once: the ledger around every write, reconciliation before a resend.

Each function sends one chunk (one bulk file, one dispatch call, the PATCHes of a chunk) and returns
one bulk-result row per record (:data:`RESULT_SCHEMA`), ready for :mod:`ar_sync.summaries`.

The rule for creating writes (customers, invoices, dispatches), which EnKash does not deduplicate:

1. rows the ledger has seen before (pending, unknown or done: an earlier attempt, run or crash) are
   looked up in EnKash first, through the documented search calls, and only those EnKash lacks are sent;
2. the ledger records the batch as pending before the request leaves and the answer after it returns;
3. when no answer comes back (:class:`~enkash_ar.errors.OutcomeUnknownError`), the rows are looked up
   in EnKash again and only the missing ones are resent, a bounded number of times.

Updates (PATCH, bulkUpdate) set fields to values, so sending them twice does no harm; they are
recorded but not reconciled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

import polars as pl

from ar_sync.run_ledger import Outcome, RunLedger
from enkash_ar.bulk_template import FAILURE_FIELD, FAILURE_REASON
from enkash_ar.client import EnkashClient
from enkash_ar.contract import TIMESTAMP_FORMAT
from enkash_ar.errors import (
    APIError,
    EnkashError,
    OutcomeUnknownError,
    RateLimitError,
    ServerError,
    UnauthorizedError,
)

logger = logging.getLogger(__name__)

#: Columns of the bulk results every write returns (one row per record).
RESULT_SCHEMA: Final = {
    "stage": pl.String,
    "key": pl.String,
    "outcome": pl.String,
    "amount": pl.Float64,
    "reason": pl.String,
    "remote_id": pl.String,
}
#: How many times rows with an unknown outcome are reconciled and resent within one call.
MAX_RECONCILE_ROUNDS: Final = 3
#: Answers that refuse a whole call before any work is done, for a reason that passes: a 401 although
#: the client had just renewed its token (it expired in flight again), a 429 or 503 that outlasted the
#: client's retries. Nothing was created, so sending again is safe; a 400 or 422 is the rows' fault and
#: is recorded against them instead.
REFUSED_FOR_NOW: Final = (UnauthorizedError, RateLimitError, ServerError)

Lookup = Callable[[Sequence[str]], dict[str, str]]


def empty_results() -> pl.DataFrame:
    """A bulk-results frame with no rows."""
    return pl.DataFrame(schema=RESULT_SCHEMA)


def _results(
    stage: str, outcomes: Sequence[Outcome], amounts: dict[str, float] | None = None
) -> pl.DataFrame:
    amounts = amounts or {}
    return pl.DataFrame(
        {
            "stage": [stage] * len(outcomes),
            "key": [o.key for o in outcomes],
            "outcome": ["success" if o.status == "done" else "failure" for o in outcomes],
            "amount": [amounts.get(o.key, 0.0) for o in outcomes],
            "reason": [o.message for o in outcomes],
            "remote_id": [o.remote_id for o in outcomes],
        },
        schema=RESULT_SCHEMA,
    )


def _guarded_bulk_create(
    *,
    ledger: RunLedger,
    seller_id: str,
    stage: str,
    operation: str,
    rows: pl.DataFrame,
    key_column: str,
    send: Callable[[pl.DataFrame], list[Outcome]],
    lookup: Lookup,
) -> list[Outcome]:
    """Send ``rows`` through ``send`` at most once per key, reconciling through ``lookup``."""
    keys = rows.get_column(key_column).to_list()
    outcomes: list[Outcome] = []
    seen = set(ledger.seen(seller_id, stage, keys))
    if seen:
        found = lookup(sorted(seen))
        ledger.resolve(seller_id, stage, found, missing=[k for k in seen if k not in found])
        outcomes += [Outcome(k, "done", rid, "already in EnKash") for k, rid in found.items()]
        rows = rows.filter(~pl.col(key_column).is_in(list(found)))
    refused: APIError | None = None
    for _round in range(MAX_RECONCILE_ROUNDS):
        if rows.is_empty():
            return outcomes
        batch_keys = rows.get_column(key_column).to_list()
        batch = ledger.begin_batch(seller_id, stage, operation, batch_keys)
        try:
            answered = send(rows)
        except OutcomeUnknownError as exc:
            ledger.mark_unknown(batch, str(exc))
            logger.warning("%s: no answer for %d rows; reconciling with EnKash", operation, len(batch_keys))
            found = lookup(batch_keys)
            missing = [k for k in batch_keys if k not in found]
            ledger.resolve(seller_id, stage, found, missing=missing)
            outcomes += [Outcome(k, "done", rid, None) for k, rid in found.items()]
            rows = rows.filter(pl.col(key_column).is_in(missing))
            refused = None
            continue
        except REFUSED_FOR_NOW as exc:
            # Refused before any work was done: nothing to reconcile, the same rows go again.
            ledger.finish_batch(batch, [Outcome(k, "failed", None, str(exc)) for k in batch_keys])
            logger.warning("%s: refused (%s); sending the %d rows again", operation, exc, len(batch_keys))
            refused = exc
            continue
        except APIError as exc:
            # The whole call was refused (e.g. the file itself was invalid): every row failed, nothing
            # was created, and the reason is EnKash's own message.
            failed = [Outcome(k, "failed", None, exc.error_message or str(exc)) for k in batch_keys]
            ledger.finish_batch(batch, failed, detail=str(exc))
            return outcomes + failed
        ledger.finish_batch(batch, answered)
        return outcomes + answered
    if rows.is_empty():
        return outcomes
    if refused is not None:
        raise refused  # the last attempt was refused outright: nothing is in doubt
    raise OutcomeUnknownError(
        f"{operation}: {rows.height} rows still have no known outcome after {MAX_RECONCILE_ROUNDS} attempts;"
        " rerun the cycle: it looks them up in EnKash before sending anything again",
        operation=operation,
    )


def _bulk_outcomes(
    client: EnkashClient, response: object, sent: pl.DataFrame, key_column: str, id_column: str
) -> list[Outcome]:
    """One outcome per sent row, from the bulk answer's success and failure files.

    Raises:
        OutcomeUnknownError: the upload was accepted but its result files could not be read, so which
            rows EnKash created is not known: the caller looks them up before sending any again.
    """
    try:
        success, failure = client.bulk_results(response)  # type: ignore[arg-type]
    except EnkashError as exc:
        raise OutcomeUnknownError(
            f"the bulk upload was accepted but its result files could not be read ({exc})",
            operation="downloadResultFile",
        ) from exc
    keys = sent.get_column(key_column).to_list()
    outcomes = []
    for row in success.iter_rows(named=True):
        outcomes.append(Outcome(keys[int(row["rowNumber"]) - 1], "done", row.get(id_column), None))
    for row in failure.iter_rows(named=True):
        reason = f"{row.get(FAILURE_FIELD) or ''}: {row.get(FAILURE_REASON) or ''}".strip(": ")
        outcomes.append(Outcome(keys[int(row["rowNumber"]) - 1], "failed", None, reason))
    return outcomes


def _ids_by_key(frame: pl.DataFrame, keys: Sequence[str], key_column: str, id_column: str) -> dict[str, str]:
    """``key -> EnKash id`` for the rows of a search result whose ``key_column`` is one of ``keys``."""
    if frame.is_empty():
        return {}
    hits = frame.filter(pl.col(key_column).is_in(list(keys))).unique(key_column, keep="first")
    return dict(zip(hits[key_column].to_list(), hits[id_column].to_list(), strict=True))


def lookup_customers(client: EnkashClient) -> Lookup:
    """Find customers by ERP ref (EnKash ``uniqueRefNo``): ref -> customerId."""

    def lookup(refs: Sequence[str]) -> dict[str, str]:
        return _ids_by_key(client.search_customers_frame(), refs, "uniqueRefNo", "customerId")

    return lookup


def lookup_invoices(client: EnkashClient, customer_ids: Sequence[str], since: datetime) -> Lookup:
    """Find invoices by ERP number (EnKash ``externalId``): number -> invoiceId.

    Uses only documented search filters (``customerIds`` and ``createdOnFrom``) and matches
    ``externalId`` here, since the contract documents no externalId filter.
    """

    def lookup(numbers: Sequence[str]) -> dict[str, str]:
        filters = {
            "customerIds": sorted(set(customer_ids)),
            "createdOnFrom": since.strftime(TIMESTAMP_FORMAT),
        }
        return _ids_by_key(client.search_invoices_frame(filters), numbers, "externalId", "invoiceId")

    return lookup


def create_customers(client: EnkashClient, ledger: RunLedger, rows: pl.DataFrame) -> pl.DataFrame:
    """Bulk-create customers (createBulkCustomer template rows keyed by ``uniqueRefNo``)."""

    def send(chunk: pl.DataFrame) -> list[Outcome]:
        return _bulk_outcomes(client, client.create_bulk_customer(chunk), chunk, "uniqueRefNo", "customerId")

    outcomes = _guarded_bulk_create(
        ledger=ledger,
        seller_id=client.seller_id,
        stage="customers_create",
        operation="createBulkCustomer",
        rows=rows,
        key_column="uniqueRefNo",
        send=send,
        lookup=lookup_customers(client),
    )
    return _results("customers_create", outcomes)


def update_customers(client: EnkashClient, ledger: RunLedger, rows: pl.DataFrame) -> pl.DataFrame:
    """Bulk-update changed customers (bulkUpdate template rows with ``customerId``)."""
    keys = rows.get_column("uniqueRefNo").to_list()
    batch = ledger.begin_batch(client.seller_id, "customers_update", "bulkUpdate", keys)
    outcomes = _bulk_outcomes(client, client.bulk_update(rows), rows, "uniqueRefNo", "customerId")
    ledger.finish_batch(batch, outcomes)
    return _results("customers_update", outcomes)


def upload_invoices(client: EnkashClient, ledger: RunLedger, rows: pl.DataFrame) -> pl.DataFrame:
    """Bulk-upload new invoices (invoiceBulkUpload template rows keyed by ``externalId``)."""
    # A margin before the first send: EnKash's createdOn and this clock need not agree to the second.
    since = datetime.now(UTC) - timedelta(days=1)
    amounts = dict(
        zip(rows["externalId"].to_list(), rows["baseAmount"].cast(pl.Float64).to_list(), strict=True)
    )

    def send(chunk: pl.DataFrame) -> list[Outcome]:
        return _bulk_outcomes(client, client.invoice_bulk_upload(chunk), chunk, "externalId", "invoiceId")

    outcomes = _guarded_bulk_create(
        ledger=ledger,
        seller_id=client.seller_id,
        stage="invoices_upload",
        operation="invoiceBulkUpload",
        rows=rows,
        key_column="externalId",
        send=send,
        lookup=lookup_invoices(client, rows.get_column("customerId").unique().to_list(), since),
    )
    return _results("invoices_upload", outcomes, amounts)


def lookup_dispatched(client: EnkashClient, rows: pl.DataFrame, since: datetime) -> Lookup:
    """Find which invoices EnKash already shows as dispatched: number -> invoiceId.

    Uses the documented ``dispatched``, ``dispatchedOnFrom`` and ``customerIds`` search filters.
    """

    def lookup(numbers: Sequence[str]) -> dict[str, str]:
        filters = {
            "customerIds": sorted(set(rows.get_column("customerId").to_list())),
            "dispatched": True,
            "dispatchedOnFrom": since.strftime(TIMESTAMP_FORMAT),
        }
        # The filter already asks for dispatched invoices; checking the flag again costs nothing.
        frame = client.search_invoices_frame(filters).filter(pl.col("dispatched"))
        return _ids_by_key(frame, numbers, "externalId", "invoiceId")

    return lookup


def dispatch_invoices(
    client: EnkashClient,
    ledger: RunLedger,
    rows: pl.DataFrame,
    *,
    partial_payment_allowed: bool | None = None,
) -> pl.DataFrame:
    """Dispatch invoices for collection, each at most once.

    ``rows`` has ``invoiceId``, ``externalId`` and ``customerId`` (see ``plan.invoices_to_dispatch``).
    """
    since = datetime.now(UTC) - timedelta(days=1)
    number_of = dict(zip(rows["invoiceId"].to_list(), rows["externalId"].to_list(), strict=True))

    def send(chunk: pl.DataFrame) -> list[Outcome]:
        result = client.dispatch_invoice_collection(
            chunk.get_column("invoiceId").to_list(), partial_payment_allowed=partial_payment_allowed
        )
        done = [
            Outcome(number_of[i.invoice_id], "done", i.invoice_id, None)
            for i in result.success_invoices or []
        ]
        failed = [
            Outcome(number_of[i.invoice_id], "failed", i.invoice_id, i.message)
            for i in result.failure_invoices or []
        ]
        return done + failed

    outcomes = _guarded_bulk_create(
        ledger=ledger,
        seller_id=client.seller_id,
        stage="invoices_dispatch",
        operation="dispatchInvoiceCollection",
        rows=rows,
        key_column="externalId",
        send=send,
        lookup=lookup_dispatched(client, rows, since),
    )
    return _results("invoices_dispatch", outcomes)


def _patch_body(row: dict[str, object]) -> dict[str, object]:
    body: dict[str, object] = {}
    for name, value in row.items():
        if name in ("invoiceId", "externalId"):
            continue
        body[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return body


def update_invoices(client: EnkashClient, ledger: RunLedger, rows: pl.DataFrame) -> pl.DataFrame:
    """PATCH changed invoices one by one (the contract has no bulk invoice update)."""
    keys = rows.get_column("externalId").to_list()
    batch = ledger.begin_batch(client.seller_id, "invoices_update", "updateInvoice", keys)
    outcomes: list[Outcome] = []
    for row in rows.iter_rows(named=True):
        try:
            invoice = client.update_invoice(str(row["invoiceId"]), _patch_body(row))
            outcomes.append(Outcome(str(row["externalId"]), "done", invoice.invoice_id, None))
        except APIError as exc:
            outcomes.append(Outcome(str(row["externalId"]), "failed", str(row["invoiceId"]), str(exc)))
    ledger.finish_batch(batch, outcomes)
    return _results("invoices_update", outcomes)
