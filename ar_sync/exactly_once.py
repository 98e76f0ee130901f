"""Writes to EnKash that happen exactly once: the ledger around every write, reconciliation before a resend.

Each function sends one chunk (one bulk file, one dispatch call, the PATCHes of a chunk) for one night
and returns one result row per record (``results.RESULT_SCHEMA``), which it also adds to the night's
record in the ledger.

The rule for creating writes (customers, invoices, dispatches), which EnKash does not deduplicate:

1. rows the ledger has seen before (pending, unknown or done: an earlier attempt, run or crash) are
   looked up in EnKash first, and only those EnKash lacks are sent. A row found there counts as sent by
   this night when this night's batch sent it, and as already present otherwise;
2. the ledger records the batch as pending before the request leaves and the answer after it returns;
3. when no answer comes back (:class:`~enkash_ar.errors.OutcomeUnknownError`), the rows are looked up
   in EnKash again and only the missing ones are resent, a bounded number of times.

Updates (PATCH, bulkUpdate) set a state, so sending them twice does no harm; they are recorded but not
reconciled. Cancellations and (de)activations set a state too, but they also go through
:func:`guarded_send`, with a look-up of the state EnKash shows (:mod:`ar_sync.lifecycle_writes`): a
cancellation whose answer was lost is found done and counted once, never reported as a failure.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Final, NoReturn

import polars as pl

from ar_sync.results import Origin, Stage, empty_results
from ar_sync.run_ledger import Outcome, RunLedger
from enkash_ar.bulk_template import FAILURE_FIELD, FAILURE_REASON
from enkash_ar.client import EnkashClient
from enkash_ar.context_threads import SharedPool
from enkash_ar.contract import TIMESTAMP_FORMAT, ReceivableStatus
from enkash_ar.errors import (
    READ_NOT_AS_GUESSED,
    APIError,
    EnkashError,
    OutcomeUnknownError,
    RateLimitError,
    ServerError,
    UnauthorizedError,
)
from enkash_ar.models import Invoice

logger = logging.getLogger(__name__)

#: How many times rows with an unknown outcome are reconciled and resent within one call.
MAX_RECONCILE_ROUNDS: Final = 3
#: Answers that refuse a whole call before any work is done, for a reason that passes: a 401 although
#: the client had just renewed its token (it expired in flight again), a 429 or 503 that outlasted the
#: client's retries. Nothing was created, so sending again is safe; a 400 or 422 is the rows' fault and
#: is recorded against them instead.
REFUSED_FOR_NOW: Final = (UnauthorizedError, RateLimitError, ServerError)
#: Invoices patched at the same time in one process (updateInvoice is one call per invoice), as many
#: as the reminder stage's calls in flight (``reminder_policy.REMINDER_WORKERS``), well within the
#: client's connection pool: a thousand patches one after another wait a thousand round trips.
PATCH_WORKERS: Final = 8
#: The threads every update chunk's patches are sent on: one queue for the process (``SharedPool``).
_patchers = SharedPool(PATCH_WORKERS, name="enkash-patches")

Lookup = Callable[[Sequence[str]], dict[str, str]]


@dataclass(frozen=True)
class Night:
    """The night a write belongs to: the seller's business date, and the ledger that records it."""

    ledger: RunLedger
    seller_id: str
    #: the business date, ISO ``yyyy-MM-dd``
    date: str

    def record(self, results: pl.DataFrame) -> pl.DataFrame:
        """Add ``results`` to the night's record in the ledger, and return them."""
        self.ledger.record_results(self.seller_id, self.date, results)
        return results


@dataclass(frozen=True)
class RowResult:
    """One row's outcome, with who made it (this night, or someone before)."""

    outcome: Outcome
    origin: Origin


def outcome_results(
    stage: Stage, outcomes: Sequence[Outcome], amounts: Mapping[str, float] | None = None
) -> pl.DataFrame:
    """Result rows of outcomes this night sent (done: success, failed: failure)."""
    return sent_results(stage, outcomes_frame(outcomes), amounts)


def results_frame(
    stage: Stage, rows: Sequence[RowResult], amounts: Mapping[str, float] | None = None
) -> pl.DataFrame:
    """Result rows (``results.RESULT_SCHEMA``) of ``rows``, each with its own origin; ``amounts`` by key,
    0 when absent."""
    origins = pl.Series("origin", [str(r.origin) for r in rows], dtype=pl.String)
    return sent_results(stage, outcomes_frame([r.outcome for r in rows]), amounts, origins=origins)


def _sent(outcomes: Sequence[Outcome]) -> list[RowResult]:
    return [RowResult(o, Origin.SENT) for o in outcomes]


#: What a write answered for each row of a batch, as columns (the rows of :class:`Outcome`): a bulk
#: file's answer is read into these and recorded from them without a Python object per row (~0.05 s of
#: the interpreter per 5,000-row chunk, with four chunks in flight contending for it).
OUTCOME_SCHEMA: Final = pl.Schema(
    {"key": pl.String, "status": pl.String, "remote_id": pl.String, "message": pl.String}
)


def outcomes_frame(outcomes: Sequence[Outcome] | pl.DataFrame) -> pl.DataFrame:
    """``outcomes`` as columns (:data:`OUTCOME_SCHEMA`); a frame is checked and cast to it."""
    if isinstance(outcomes, pl.DataFrame):
        return outcomes.select(pl.col(name).cast(dtype) for name, dtype in OUTCOME_SCHEMA.items())
    return pl.DataFrame(
        {
            "key": [o.key for o in outcomes],
            "status": [o.status for o in outcomes],
            "remote_id": [o.remote_id for o in outcomes],
            "message": [o.message for o in outcomes],
        },
        schema=OUTCOME_SCHEMA,
    )


def sent_results(
    stage: Stage,
    outcomes: pl.DataFrame,
    amounts: Mapping[str, float] | None = None,
    *,
    origins: pl.Series | None = None,
) -> pl.DataFrame:
    """Result rows (``results.RESULT_SCHEMA``) of an outcome frame, a column at a time: done is a
    success, failed a failure; ``amounts`` by key (0 when absent); each row's origin from ``origins``,
    else sent by this night."""
    if outcomes.is_empty():
        return empty_results()
    amount = (
        pl.col("key").replace_strict(dict(amounts), default=0.0, return_dtype=pl.Float64)
        if amounts
        else pl.lit(0.0, pl.Float64)
    )
    return outcomes.select(
        pl.lit(str(stage), pl.String).alias("stage"),
        pl.col("key"),
        pl.when(pl.col("status") == "done")
        .then(pl.lit("success"))
        .otherwise(pl.lit("failure"))
        .alias("outcome"),
        pl.lit(origins) if origins is not None else pl.lit(str(Origin.SENT), pl.String).alias("origin"),
        amount.alias("amount"),
        pl.col("message").alias("reason"),
        pl.col("remote_id"),
    )


def guarded_send(
    *,
    night: Night,
    stage: Stage,
    operation: str,
    rows: pl.DataFrame,
    key_column: str,
    send: Callable[[pl.DataFrame], Sequence[Outcome] | pl.DataFrame],
    lookup: Lookup,
    amounts: Mapping[str, float] | None = None,
) -> pl.DataFrame:
    """Send ``rows`` through ``send`` at most once per key, reconciling through ``lookup``; the result rows.

    ``send`` answers one :class:`Outcome` per row, as objects or as an outcome frame
    (:func:`outcomes_frame`). ``lookup(keys)`` answers which of ``keys`` EnKash already shows done
    (key -> EnKash id): created,
    dispatched, cancelled ... whatever ``send`` does. Every outcome goes to the night's record in the
    ledger in the same transaction as the ledger's own state of those rows (``amounts`` by key), so a
    run killed at any point never leaves a write done but uncounted.
    """
    ledger, seller_id = night.ledger, night.seller_id
    keys = rows.get_column(key_column).to_list()
    done: list[RowResult] = []

    def results(rows: Sequence[RowResult]) -> pl.DataFrame:
        return results_frame(stage, rows, amounts)

    seen = ledger.seen(seller_id, stage, keys)
    if seen:
        found = lookup(sorted(seen))
        again = [
            RowResult(
                Outcome(key, "done", rid, "found in EnKash after an earlier attempt"),
                Origin.SENT if seen[key] == night.date else Origin.ALREADY_PRESENT,
            )
            for key, rid in found.items()
        ]
        missing = [k for k in seen if k not in found]
        ledger.resolve(seller_id, stage, found, missing=missing, results=[(night.date, results(again))])
        done += again
        rows = rows.filter(~pl.col(key_column).is_in(list(found)))
    refused: APIError | None = None
    for _round in range(MAX_RECONCILE_ROUNDS):
        if rows.is_empty():
            return results(done)
        batch_keys = rows.get_column(key_column).to_list()
        batch = ledger.begin_batch(seller_id, stage, operation, batch_keys, night=night.date)
        try:
            answered = send(rows)
        except OutcomeUnknownError as exc:
            ledger.mark_unknown(batch, str(exc))
            logger.warning(
                "%s: no answer for %d rows (%s); reconciling with EnKash", operation, len(batch_keys), exc
            )
            found = lookup(batch_keys)
            missing = [k for k in batch_keys if k not in found]
            reached = _sent([Outcome(k, "done", rid, None) for k, rid in found.items()])
            ledger.resolve(seller_id, stage, found, missing=missing, results=[(night.date, results(reached))])
            done += reached
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
            recorded = outcome_results(stage, failed, amounts)
            ledger.finish_batch(batch, failed, detail=str(exc), results=recorded)
            return pl.concat([results(done), recorded]) if done else recorded
        # The ledger takes the answer as it came (objects are bound to SQL as they are; a frame's rows
        # are made for it), the result rows are made a column at a time either way.
        recorded = sent_results(stage, outcomes_frame(answered), amounts)
        ledger.finish_batch(batch, answered, results=recorded)
        return pl.concat([results(done), recorded]) if done else recorded
    if rows.is_empty():
        return results(done)
    if refused is not None:
        raise refused  # the last attempt was refused outright: nothing is in doubt
    raise OutcomeUnknownError(
        f"{operation}: {rows.height} rows still have no known outcome after {MAX_RECONCILE_ROUNDS} attempts;"
        " rerun the cycle: it looks them up in EnKash before sending anything again",
        operation=operation,
    )


def settle_unresolved(night: Night, stage: Stage, held: Mapping[str, str | None]) -> pl.DataFrame:
    """Settle the stage's rows whose outcome the ledger does not know, against a fresh picture of EnKash.

    A killed run can leave rows ``pending`` that never come back into a plan, because EnKash now holds
    them: they are recorded here as sent by the night of their batch (so that night's numbers count
    them). Rows EnKash lacks go back to ``failed`` and are sent again by the plan.

    Args:
        night: the night being run.
        stage: the stage whose ledger rows to settle.
        held: key -> EnKash id of what EnKash holds now (for dispatches: what it shows dispatched).

    Returns:
        The result rows settled for ``night`` itself (earlier nights' rows go to their own record).
    """
    ledger, seller_id = night.ledger, night.seller_id
    unresolved = ledger.unresolved_nights(seller_id, stage)
    if not unresolved:
        return empty_results()
    found = {key: held[key] for key in unresolved if key in held}
    by_night: dict[str, pl.DataFrame] = {}
    for batch_night in {unresolved[k] for k in found}:
        if batch_night is not None:
            keys = [k for k in found if unresolved[k] == batch_night]
            by_night[batch_night] = outcome_results(
                stage, [Outcome(k, "done", found[k], "found in EnKash after a crash") for k in keys]
            )
    missing = [k for k in unresolved if k not in found]
    ledger.resolve(seller_id, stage, found, missing=missing, results=by_night.items())
    return by_night.get(night.date, empty_results())


def settle_unresolved_except(night: Night, stage: Stage, still: Collection[str]) -> pl.DataFrame:
    """Settle the stage's unresolved rows for writes that set a state: done unless listed in ``still``.

    For cancellations, (de)activations and clears, "EnKash holds it" means the record is in the state
    the write sets; ``still`` lists the keys EnKash shows *not* yet in that state (an invoice still
    open, a customer still active ...). Every other unresolved key was done by the attempt that left it
    unresolved (see :func:`settle_unresolved`).
    """
    unresolved = night.ledger.unresolved(night.seller_id, stage)
    waiting = set(still)
    return settle_unresolved(night, stage, {key: None for key in unresolved if key not in waiting})


def _bulk_outcomes(
    client: EnkashClient, response: object, sent: pl.DataFrame, key_column: str, id_column: str
) -> pl.DataFrame:
    """One outcome per sent row (an outcome frame), from the bulk answer's success and failure files.

    Raises:
        OutcomeUnknownError: the upload was accepted but its result files could not be read, or a row
            of them does not fit what was sent, so which rows EnKash created is not known: the caller
            looks them up before sending any again.
    """
    try:
        success, failure = client.bulk_results(response)  # type: ignore[arg-type]
    except EnkashError as exc:
        raise OutcomeUnknownError(
            f"the bulk upload was accepted but its result files could not be read ({exc})",
            operation="downloadResultFile",
        ) from exc
    keys = sent.get_column(key_column).cast(pl.String)
    done = _answered(success, keys, key_column).select(
        "key",
        pl.lit("done").alias("status"),
        (pl.col(id_column) if id_column in success.columns else pl.lit(None))
        .cast(pl.String)
        .alias("remote_id"),
        pl.lit(None, pl.String).alias("message"),
    )
    failed = _answered(failure, keys, key_column).select(
        "key",
        pl.lit("failed").alias("status"),
        pl.lit(None, pl.String).alias("remote_id"),
        pl.concat_str(_text(failure, FAILURE_FIELD), pl.lit(": "), _text(failure, FAILURE_REASON))
        .str.strip_chars(": ")
        .alias("message"),
    )
    return pl.concat([outcomes_frame(done), outcomes_frame(failed)])


def _text(frame: pl.DataFrame, column: str) -> pl.Expr:
    """``column`` of a result file as text, empty when absent or null."""
    if column not in frame.columns:
        return pl.lit("")
    return pl.col(column).cast(pl.String).fill_null("")


def _answered(result: pl.DataFrame, keys: pl.Series, key_column: str) -> pl.DataFrame:
    """``result`` (a result file) with ``key``: the key of the sent row each row answers for, by its
    ``rowNumber`` (counted from 1).

    Raises:
        OutcomeUnknownError: a number is not a row of the file sent, or a row echoes another sent row's
            key (the server numbers rows differently from the contract profile): which id belongs to
            which row is not known, so the rows are looked up in EnKash instead.
    """
    raw = (
        result.get_column("rowNumber") if "rowNumber" in result.columns else pl.Series([None] * result.height)
    )
    text = raw.cast(pl.String).str.strip_chars()
    index = pl.when(text.str.contains(r"^[0-9]+$")).then(text.cast(pl.Int64, strict=False) - 1)
    rows = result.with_columns(pl.Series("_raw", raw), index.alias("_index"))
    outside = rows.filter(
        pl.col("_index").is_null() | (pl.col("_index") < 0) | (pl.col("_index") >= keys.len())
    )
    if not outside.is_empty():
        _misfit(f"row number {outside.get_column('_raw')[0]!r} is not a row of the {keys.len()} sent")
    rows = rows.with_columns(keys.gather(rows.get_column("_index")).alias("key"))
    if key_column in rows.columns:
        echoed = pl.col(key_column).cast(pl.String)
        other = rows.filter(echoed.is_not_null() & (echoed != pl.col("key")) & echoed.is_in(keys.implode()))
        if not other.is_empty():
            number, echo, key = other.select("_raw", key_column, "key").row(0)
            _misfit(f"row {number} answers for {str(echo)!r}, but row {number} sent was {key!r}")
    return rows


def _misfit(problem: str) -> NoReturn:
    raise OutcomeUnknownError(
        f"a bulk result file does not fit what was sent ({problem}): the rows are looked up in EnKash. "
        "Check the contract profile's result_files.first_row_number (enkash-ar doctor).",
        operation="downloadResultFile",
    )


def _ids_by_key(frame: pl.DataFrame, keys: Sequence[str], key_column: str, id_column: str) -> dict[str, str]:
    """``key -> EnKash id`` for the rows of a search result whose ``key_column`` is one of ``keys``.

    When EnKash holds a key twice, the lowest id answers for it (the same copy every run picks).
    """
    if frame.is_empty():
        return {}
    hits = frame.filter(pl.col(key_column).is_in(list(keys))).sort(id_column).unique(key_column, keep="first")
    return dict(zip(hits[key_column].to_list(), hits[id_column].to_list(), strict=True))


def lookup_customers(client: EnkashClient) -> Lookup:
    """Find customers by ERP ref (EnKash ``uniqueRefNo``): ref -> customerId."""

    def lookup(refs: Sequence[str]) -> dict[str, str]:
        return _ids_by_key(client.search_customers_frame(), refs, "uniqueRefNo", "customerId")

    return lookup


def customers_invoices(
    client: EnkashClient, customers: list[str], narrower: Mapping[str, object] | None = None
) -> pl.DataFrame:
    """The invoices of ``customers`` (``customerIds``) that the ``narrower`` search filters select.

    Where EnKash refuses a filter or answers it otherwise than the contract guesses, the search is
    widened, with a warning: without the ``narrower`` filters, then without ``customerIds`` too (every
    invoice of the seller, kept to ``customers`` here). More rows, never fewer: the look-ups check
    every row they use themselves. An outage is raised.
    """
    searches: list[dict[str, object]] = [{"customerIds": customers}, {}]
    if narrower:
        searches.insert(0, {"customerIds": customers, **narrower})
    for filters, wider in itertools.pairwise(searches):
        try:
            return client.search_invoices_frame(filters)
        except READ_NOT_AS_GUESSED as exc:
            logger.warning(
                "EnKash did not answer a search by %s as the contract guesses (%s); looking among every "
                "invoice of %s instead",
                ", ".join(filters),
                exc,
                f"the {len(customers)} customers" if wider else "the seller",
            )
    return client.search_invoices_frame({}).filter(pl.col("customerId").is_in(customers))


def lookup_invoices(client: EnkashClient, customer_ids: Sequence[str], since: datetime) -> Lookup:
    """Find invoices by ERP number (EnKash ``externalId``): number -> invoiceId.

    Uses only documented search filters (``customerIds`` and ``createdOnFrom``) and matches
    ``externalId`` here, since the contract documents no externalId filter. A cancelled copy does not
    count: an invoice back in the export after its cancellation is uploaded again.
    """
    customers = sorted(set(customer_ids))

    def lookup(numbers: Sequence[str]) -> dict[str, str]:
        found = customers_invoices(client, customers, {"createdOnFrom": since.strftime(TIMESTAMP_FORMAT)})
        held = found.filter(pl.col("receivableStatus").fill_null("") != ReceivableStatus.CANCELLED.value)
        return _ids_by_key(held, numbers, "externalId", "invoiceId")

    return lookup


def create_customers(client: EnkashClient, night: Night, rows: pl.DataFrame) -> pl.DataFrame:
    """Bulk-create customers (createBulkCustomer template rows keyed by ``uniqueRefNo``)."""

    def send(chunk: pl.DataFrame) -> pl.DataFrame:
        return _bulk_outcomes(client, client.create_bulk_customer(chunk), chunk, "uniqueRefNo", "customerId")

    return guarded_send(
        night=night,
        stage=Stage.CUSTOMERS_CREATE,
        operation="createBulkCustomer",
        rows=rows,
        key_column="uniqueRefNo",
        send=send,
        lookup=lookup_customers(client),
    )


def _repeatable(exc: OutcomeUnknownError) -> str:
    """The failure reason of an update whose outcome is unknown (it sets values: safe to send again)."""
    return f"{exc} (an update is safe to repeat: the next night sends it again if EnKash still differs)"


def update_customers(client: EnkashClient, night: Night, rows: pl.DataFrame) -> pl.DataFrame:
    """Bulk-update changed customers (bulkUpdate template rows with ``customerId``).

    When the upload was accepted but its result files do not say which row went through
    (:class:`~enkash_ar.errors.OutcomeUnknownError`), every row of the chunk fails with that reason and
    the night goes on: an update sets values, so the next night's comparison sends again only what
    EnKash still lacks. An upload that gets no answer at all still stops the chunk, to be retried whole.
    """
    keys = rows.get_column("uniqueRefNo").to_list()
    ledger = night.ledger
    batch = ledger.begin_batch(night.seller_id, Stage.CUSTOMERS_UPDATE, "bulkUpdate", keys, night=night.date)
    answer = client.bulk_update(rows)
    try:
        outcomes = _bulk_outcomes(client, answer, rows, "uniqueRefNo", "customerId")
    except OutcomeUnknownError as exc:
        outcomes = rows.select(
            pl.col("uniqueRefNo").cast(pl.String).alias("key"),
            pl.lit("failed").alias("status"),
            pl.col("customerId").cast(pl.String).alias("remote_id"),
            pl.lit(_repeatable(exc)).alias("message"),
        )
    results = sent_results(Stage.CUSTOMERS_UPDATE, outcomes)
    ledger.finish_batch(batch, outcomes, results=results)
    return results


def _amounts(rows: pl.DataFrame) -> dict[str, float]:
    return dict(zip(rows["externalId"].to_list(), rows["baseAmount"].cast(pl.Float64).to_list(), strict=True))


def upload_invoices(client: EnkashClient, night: Night, rows: pl.DataFrame) -> pl.DataFrame:
    """Bulk-upload new invoices (invoiceBulkUpload template rows keyed by ``externalId``)."""
    # A margin before the first send: EnKash's createdOn and this clock need not agree to the second.
    since = datetime.now(UTC) - timedelta(days=1)

    def send(chunk: pl.DataFrame) -> pl.DataFrame:
        return _bulk_outcomes(client, client.invoice_bulk_upload(chunk), chunk, "externalId", "invoiceId")

    return guarded_send(
        night=night,
        stage=Stage.INVOICES_UPLOAD,
        operation="invoiceBulkUpload",
        rows=rows,
        key_column="externalId",
        send=send,
        lookup=lookup_invoices(client, rows.get_column("customerId").unique().to_list(), since),
        amounts=_amounts(rows),
    )


def lookup_dispatched(client: EnkashClient, rows: pl.DataFrame, since: datetime) -> Lookup:
    """Find which invoices EnKash already shows as dispatched: number -> invoiceId.

    Uses the documented ``dispatched``, ``dispatchedOnFrom`` and ``customerIds`` search filters, and
    looks only at the copies in ``rows``: an earlier copy of the same number (cancelled, then the
    invoice came back into the export) was dispatched once, the new copy never. An EnKash that refuses
    those filters is asked more widely (:func:`customers_invoices`): more rows, the same answer.
    """
    copies = rows.get_column("invoiceId").to_list()
    customers = sorted(set(rows.get_column("customerId").to_list()))

    def lookup(numbers: Sequence[str]) -> dict[str, str]:
        narrower = {"dispatched": True, "dispatchedOnFrom": since.strftime(TIMESTAMP_FORMAT)}
        # The filters already ask for dispatched invoices; checking the flag again costs nothing, and
        # it is what decides when EnKash was asked without them.
        frame = customers_invoices(client, customers, narrower).filter(
            pl.col("dispatched") & pl.col("invoiceId").is_in(copies)
        )
        return _ids_by_key(frame, numbers, "externalId", "invoiceId")

    return lookup


def dispatch_invoices(
    client: EnkashClient,
    night: Night,
    rows: pl.DataFrame,
    *,
    partial_payment_allowed: bool | None = None,
) -> pl.DataFrame:
    """Dispatch invoices for collection, each at most once.

    ``rows`` has ``invoiceId``, ``externalId`` and ``customerId`` (see ``planner.invoices_to_dispatch``):
    one row per externalId, never two copies of one invoice.
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

    return guarded_send(
        night=night,
        stage=Stage.INVOICES_DISPATCH,
        operation="dispatchInvoiceCollection",
        rows=rows,
        key_column="externalId",
        send=send,
        lookup=lookup_dispatched(client, rows, since),
    )


def _patch_body(row: dict[str, object]) -> dict[str, object]:
    # Only values: an empty ERP cell is cleared by its own PATCH (field_clears), so that a cleared field
    # is never counted as an update.
    body: dict[str, object] = {}
    for name, value in row.items():
        if name in ("invoiceId", "externalId") or value is None:
            continue
        body[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return body


def update_invoices(
    client: EnkashClient, night: Night, rows: pl.DataFrame, answered: list[Invoice] | None = None
) -> pl.DataFrame:
    """PATCH changed invoices, one call each (the contract has no bulk invoice update), ``PATCH_WORKERS``
    at a time.

    Sends the ERP's values (with ``customerId``: an undispatched invoice moved to another customer in
    the ERP is moved in EnKash too); empty cells are left out. Each invoice EnKash answers with (its
    amounts recomputed) is appended to ``answered`` when given.

    A patch whose answer cannot be read (:class:`~enkash_ar.errors.OutcomeUnknownError`: EnKash may have
    applied it) fails alone, with that reason: a PATCH sets a state, so the next night's comparison
    sends it again only if EnKash still differs, and the rest of the chunk goes on. An answer that never
    comes (EnKash unreachable after the client's retries) still stops the chunk, to be retried whole.
    """
    keys = rows.get_column("externalId").to_list()
    ledger = night.ledger
    batch = ledger.begin_batch(
        night.seller_id, Stage.INVOICES_UPDATE, "updateInvoice", keys, night=night.date
    )
    # ``PATCH_WORKERS`` patches in flight, their answers taken in the rows' order. Any other failure
    # stops the chunk as one after another did: the patches not yet started are not sent, those in
    # flight are waited for, and the batch is left unfinished for the retry to compare again.
    patched = _patchers.in_order(partial(_patch, client), list(rows.iter_rows(named=True)))
    outcomes = [outcome for outcome, _ in patched]
    if answered is not None:
        answered += [invoice for _, invoice in patched if invoice is not None]
    results = outcome_results(Stage.INVOICES_UPDATE, outcomes)
    ledger.finish_batch(batch, outcomes, results=results)
    return results


def _patch(client: EnkashClient, row: dict[str, Any]) -> tuple[Outcome, Invoice | None]:
    """updateInvoice for one changed row: its outcome, and the invoice as EnKash answered it (None
    when it failed: refused, or its answer unreadable)."""
    key, invoice_id = str(row["externalId"]), str(row["invoiceId"])
    try:
        invoice = client.update_invoice(invoice_id, _patch_body(row))
    except APIError as exc:
        return Outcome(key, "failed", invoice_id, str(exc)), None
    except OutcomeUnknownError as exc:
        return Outcome(key, "failed", invoice_id, _repeatable(exc)), None
    return Outcome(key, "done", invoice.invoice_id, None), invoice


def delete_twin_invoices(client: EnkashClient, night: Night, twins: pl.DataFrame) -> pl.DataFrame:
    """Delete undispatched extra copies of invoices (``convergence.invoice_twins(...).to_delete``).

    Keyed by the copy's invoiceId (the externalId is its keeper's too). A delete is safe to repeat: a
    copy already gone is reported by EnKash as a failure for that id, and nothing else changes.
    """
    if twins.is_empty():
        return empty_results()
    ids = twins.get_column("invoiceId").to_list()
    number_of = dict(zip(ids, twins["externalId"].to_list(), strict=True))
    ledger = night.ledger
    batch = ledger.begin_batch(
        night.seller_id, Stage.INVOICES_DEDUPLICATE, "deleteInvoiceCollection", ids, night=night.date
    )
    try:
        answer = client.delete_invoice_collection(ids)
    except EnkashError as exc:
        ledger.mark_unknown(batch, str(exc))
        raise
    outcomes = [
        Outcome(
            str(i.invoice_id),
            "done",
            i.invoice_id,
            f"extra copy of {number_of.get(str(i.invoice_id))} deleted",
        )
        for i in answer.success_invoices or []
    ] + [Outcome(str(i.invoice_id), "failed", i.invoice_id, i.message) for i in answer.failure_invoices or []]
    results = outcome_results(Stage.INVOICES_DEDUPLICATE, outcomes)
    ledger.finish_batch(batch, outcomes, results=results)
    return results
