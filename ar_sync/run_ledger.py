"""The run ledger: what the cycle was about to send to EnKash, what EnKash answered, and what each night did.

EnKash documents no idempotency key and does not deduplicate, so exactly-once is this project's job.
Around every write the cycle records a *batch* (one API call: a bulk file, a dispatch, a reminder
create) and one *entry* per row in it:

- before sending: every entry ``pending`` (we may be about to act);
- after an answer: ``done`` (with EnKash's id) or ``failed`` (with the reason);
- when no answer came back (a dropped response, a read timeout, a crash between send and record):
  the entries stay ``pending`` or are marked ``unknown``.

Before it re-sends anything, a stage looks up in EnKash the rows whose outcome is not known and records
what it found with :meth:`RunLedger.resolve`. EnKash stays the source of truth: every stage diffs the
ERP against what EnKash holds, so a lost ledger costs an audit trail, never a duplicate.

A *night* is one seller's business date (``as_of``). Every batch belongs to a night, and
:meth:`RunLedger.record_results` keeps one result row per (night, stage, key) over every attempt of the
night: a retried or rerun night reports what the night did in total. A row sent by the night stays
"sent" even when a later attempt finds it already in EnKash. What a stage finds already in EnKash (on
a quiet night, every row of the export) is kept as one compressed set per stage and attempt
(:meth:`RunLedger.record_present`), not a row each: a row per ERP record per night would grow the file
by the whole export every night. The row-level record of a night is kept for
:data:`NIGHT_RECORD_DAYS` days after the newest night (:meth:`RunLedger.prune_night_record`); the
summaries are kept longer, for the trend.

It also keeps each night's summary (``summary.json``: counts, amounts, the top overdue customers), one
per seller and night, so a night's report can show the trend of the nights before it.

It keeps the payments exported to the ERP (:mod:`ar_sync.payment_book`): each night's export with its
lines, the total received last exported per EnKash invoice, and the night's collections.

The ledger also remembers refused credentials (a salted scrypt fingerprint, never the secret) and holds
the per-seller lease that keeps two cycles of one seller from running at once on this ledger.

The ledger holds keys (invoice numbers, customer refs), EnKash ids, counts, amounts and reasons: never a
token, a secret or a full request body. SQLite, one file per installation, safe for several processes (WAL).
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal

import polars as pl

from ar_sync.output_files import write_replacing
from ar_sync.results import RESULT_SCHEMA

EntryStatus = Literal["pending", "unknown", "done", "failed"]

#: Where the ledger lives unless configured otherwise (the ``ledger_path`` option).
DEFAULT_LEDGER_PATH: Final = Path(".enkash-ar") / "ledger.sqlite3"
#: Refused credentials kept per seller (the newest); older ones are forgotten.
MAX_REFUSED_PER_SELLER: Final = 5
#: Days of nights whose row-level record (``night_results``, ``night_present``) is kept, counted back
#: from the newest night summarised: long enough to retry a night or summarise it again, without the
#: file growing by every ERP row every night. Each night's rows are also in its bulk_results.parquet.
NIGHT_RECORD_DAYS: Final = 62
#: Rows read from SQLite into Python at a time when a read may hold a whole night (a frame per page).
READ_PAGE_ROWS: Final = 50_000

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS batches (
    batch_id    TEXT PRIMARY KEY,
    seller_id   TEXT NOT NULL,
    run_id      TEXT,
    stage       TEXT NOT NULL,
    operation   TEXT NOT NULL,
    row_count   INTEGER NOT NULL,
    status      TEXT NOT NULL,
    detail      TEXT,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    night       TEXT
);
CREATE TABLE IF NOT EXISTS entries (
    seller_id  TEXT NOT NULL,
    stage      TEXT NOT NULL,
    key        TEXT NOT NULL,
    batch_id   TEXT NOT NULL REFERENCES batches(batch_id),
    status     TEXT NOT NULL,
    remote_id  TEXT,
    message    TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (seller_id, stage, key)
);
CREATE INDEX IF NOT EXISTS entries_open ON entries (seller_id, stage, status);
-- finish_batch and mark_unknown update by batch: without this every row would scan the table.
CREATE INDEX IF NOT EXISTS entries_batch ON entries (batch_id, key);
CREATE TABLE IF NOT EXISTS night_results (
    seller_id  TEXT NOT NULL,
    night      TEXT NOT NULL,
    stage      TEXT NOT NULL,
    key        TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    origin     TEXT NOT NULL,
    amount     REAL NOT NULL DEFAULT 0,
    reason     TEXT,
    remote_id  TEXT,
    run_id     TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (seller_id, night, stage, key)
);
-- What a stage found already in EnKash, per attempt: one zstd Parquet set (key, amount, remote_id).
CREATE TABLE IF NOT EXISTS night_present (
    seller_id  TEXT NOT NULL,
    night      TEXT NOT NULL,
    stage      TEXT NOT NULL,
    rows       BLOB NOT NULL,
    run_id     TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (seller_id, night, stage)
);
-- The oldest night whose row-level record is still kept, once older ones were pruned.
CREATE TABLE IF NOT EXISTS night_record_kept (
    seller_id  TEXT PRIMARY KEY,
    kept_from  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS night_summaries (
    seller_id  TEXT NOT NULL,
    night      TEXT NOT NULL,
    summary    TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (seller_id, night)
);
-- Payments exported to the ERP (ar_sync.payment_book): amounts in paise, exact.
CREATE TABLE IF NOT EXISTS payment_exports (
    seller_id      TEXT NOT NULL,
    night          TEXT NOT NULL,
    lines          INTEGER NOT NULL,
    received_paise INTEGER NOT NULL,
    reversed_paise INTEGER NOT NULL,
    files          TEXT NOT NULL,
    run_id         TEXT,
    exported_at    TEXT NOT NULL,
    PRIMARY KEY (seller_id, night)
);
CREATE TABLE IF NOT EXISTS payment_lines (
    seller_id         TEXT NOT NULL,
    payment_ref       TEXT NOT NULL,
    night             TEXT NOT NULL,
    entry_type        TEXT NOT NULL,
    invoice_id        TEXT NOT NULL,
    invoice_number    TEXT,
    customer_ref      TEXT,
    amount_paise      INTEGER NOT NULL,
    previous_paise    INTEGER NOT NULL,
    total_paise       INTEGER NOT NULL,
    balance_paise     INTEGER,
    receivable_status TEXT,
    paid_on           TEXT,
    payment_mode      TEXT,
    payment_reference TEXT,
    PRIMARY KEY (seller_id, payment_ref)
);
CREATE INDEX IF NOT EXISTS payment_lines_night ON payment_lines (seller_id, night);
CREATE TABLE IF NOT EXISTS payment_positions (
    seller_id      TEXT NOT NULL,
    invoice_id     TEXT NOT NULL,
    exported_paise INTEGER NOT NULL,
    lines          INTEGER NOT NULL,
    last_night     TEXT NOT NULL,
    PRIMARY KEY (seller_id, invoice_id)
);
CREATE TABLE IF NOT EXISTS night_collections (
    seller_id   TEXT NOT NULL,
    night       TEXT NOT NULL,
    collections TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (seller_id, night)
);
CREATE TABLE IF NOT EXISTS refused_credentials (
    seller_id   TEXT NOT NULL,
    salt        BLOB NOT NULL,
    fingerprint TEXT NOT NULL,
    refused_at  TEXT NOT NULL,
    reason      TEXT
);
CREATE TABLE IF NOT EXISTS seller_leases (
    seller_id   TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    description TEXT NOT NULL,
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    acquired_at TEXT NOT NULL,
    lease_until TEXT NOT NULL
);
"""
_INSERT_SUMMARY: Final = (
    "INSERT INTO night_summaries (seller_id, night, summary, updated_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (seller_id, night) "
)
_REPLACE_SUMMARY: Final = (
    _INSERT_SUMMARY + "DO UPDATE SET summary = excluded.summary, updated_at = excluded.updated_at"
)
_KEEP_SUMMARY: Final = _INSERT_SUMMARY + "DO NOTHING"


class NightRecordPrunedError(LookupError):
    """The night asked for is older than the row-level record the ledger keeps."""


@dataclass(frozen=True)
class Outcome:
    """What EnKash answered for one row of a batch."""

    key: str
    status: Literal["done", "failed"]
    remote_id: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class RefusedCredentials:
    """A fingerprint of credentials the token endpoint refused (never the credentials themselves)."""

    salt: bytes
    fingerprint: str
    refused_at: str
    reason: str | None


@dataclass(frozen=True)
class Lease:
    """Who holds a seller's lease on this ledger, and until when (UTC)."""

    seller_id: str
    holder: str
    description: str
    host: str
    pid: int
    acquired_at: datetime
    lease_until: datetime


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class RunLedger:
    """A SQLite ledger of writes sent to EnKash, per seller, stage and row key.

    Example:
        >>> ledger = RunLedger(":memory:")
        >>> batch = ledger.begin_batch("CEKSANDBX1", "invoices_upload", "invoiceBulkUpload", ["INV-1"])
        >>> ledger.finish_batch(batch, [Outcome("INV-1", "done", remote_id="INV0001")])
        >>> ledger.unresolved("CEKSANDBX1", "invoices_upload")
        []
    """

    def __init__(self, path: str | Path = DEFAULT_LEDGER_PATH, *, run_id: str | None = None) -> None:
        self.path = str(path)
        self.run_id = run_id
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # One connection guarded by a lock: tasks of one flow run share the ledger across threads.
        self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
        self._lock = threading.RLock()
        with self._lock:
            if self.path != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
            # Every commit reaches the disk before it returns (in WAL mode NORMAL syncs only at
            # checkpoints): a batch recorded as about to be sent, or a payment export as written, must
            # still be there after a power cut or an OS crash, not only after a killed process. One
            # fsync of the WAL per transaction: ~0.25 ms on the benchmark machine's disk.
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.executescript(_SCHEMA)
            self._migrate()

    def _migrate(self) -> None:
        # Ledgers written before nights existed lack batches.night: their batches belong to no night.
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(batches)")}
        if "night" not in columns:
            self._conn.execute("ALTER TABLE batches ADD COLUMN night TEXT")
        # done_in_night starts from one night's batches of a stage (after the column exists).
        self._conn.execute("CREATE INDEX IF NOT EXISTS batches_night ON batches (seller_id, stage, night)")

    def __repr__(self) -> str:
        return f"RunLedger(path={self.path!r})"

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> RunLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction for the engine's own tables (the payment exports), over this ledger's
        connection: other writers wait, and everything in the block is committed together or not at all.

        Call no other ledger method inside the block: each runs its own transaction.
        """
        with self._transaction() as conn:
            yield conn

    # ---- batches and entries: exactly-once around every write ---------------------------------

    def begin_batch(
        self, seller_id: str, stage: str, operation: str, keys: Sequence[str], *, night: str | None = None
    ) -> str:
        """Record that a write for ``keys`` is about to be sent (for ``night``); returns the batch id.

        Committed before the request leaves, so a crash after this point leaves the rows
        ``pending`` and the next run reconciles them against EnKash before sending again.
        """
        batch_id = uuid.uuid4().hex
        now = _now()
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO batches (batch_id, seller_id, run_id, stage, operation, row_count, status,"
                " started_at, night) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                (batch_id, seller_id, self.run_id, stage, operation, len(keys), now, night),
            )
            # One statement over the keys as a JSON array (json_each), not a bound row per key: 11 ms
            # instead of 27 ms per 5,000 keys, on every chunk of every stage.
            conn.execute(
                "INSERT INTO entries (seller_id, stage, key, batch_id, status, updated_at)"
                " SELECT ?, ?, p.value, ?, 'pending', ? FROM json_each(?) p WHERE true"
                " ON CONFLICT (seller_id, stage, key) DO UPDATE SET batch_id = excluded.batch_id,"
                " status = 'pending', remote_id = NULL, message = NULL, updated_at = excluded.updated_at",
                (seller_id, stage, batch_id, now, json.dumps([str(key) for key in keys])),
            )
        return batch_id

    def finish_batch(
        self,
        batch_id: str,
        outcomes: Iterable[Outcome] | pl.DataFrame,
        *,
        detail: str | None = None,
        results: pl.DataFrame | None = None,
    ) -> None:
        """Record EnKash's answer for a batch, one outcome per row (objects, or a frame of their fields:
        ``exactly_once.outcomes_frame``), and ``results`` (its rows in the night's
        record, ``results.RESULT_SCHEMA``) under the batch's night, in the same transaction.

        Together or not at all: a run killed between the two would leave rows done in the ledger but
        missing from the night's record, and a rerun that finds them done (a customer already
        deactivated, an invoice already updated) has nothing left to send, so the night would never
        count them.
        """
        now = _now()
        if isinstance(outcomes, pl.DataFrame):  # an outcome frame: key, status, remote_id, message
            answers = outcomes.select("key", "status", "remote_id", "message").write_json()
        else:
            answers = json.dumps(
                [
                    {"key": o.key, "status": o.status, "remote_id": o.remote_id, "message": o.message}
                    for o in outcomes
                ]
            )
        with self._transaction() as conn:
            found = conn.execute(
                "SELECT seller_id, stage, night FROM batches WHERE batch_id = ?", (batch_id,)
            ).fetchone()
            if found is None:
                raise ValueError(f"batch {batch_id} is not in the ledger")
            seller_id, stage, night = found
            if results is not None and not results.is_empty():
                if night is None:
                    raise ValueError(f"batch {batch_id} has no night to record its results under")
                self._insert_results(conn, seller_id, night, results, now)
            # One statement over the answers as JSON (json_each), each row found by the primary key; only
            # the batch's own rows (a key sent again since belongs to its newer batch). A bound row per
            # answer (executemany) hands the interpreter lock back and forth 5,000 times a batch: with
            # other threads busy (four chunks in flight) that took 50-240 ms a batch instead of ~40, and
            # with one thread spinning in Python, seconds.
            conn.execute(
                "INSERT INTO entries (seller_id, stage, key, batch_id, status, remote_id, message,"
                " updated_at)"
                " SELECT e.seller_id, e.stage, e.key, e.batch_id, json_extract(a.value, '$.status'),"
                " json_extract(a.value, '$.remote_id'), json_extract(a.value, '$.message'), ?"
                " FROM json_each(?) a CROSS JOIN entries e"
                " WHERE e.seller_id = ? AND e.stage = ? AND e.key = json_extract(a.value, '$.key')"
                " AND e.batch_id = ?"
                " ON CONFLICT (seller_id, stage, key) DO UPDATE SET status = excluded.status,"
                " remote_id = excluded.remote_id, message = excluded.message,"
                " updated_at = excluded.updated_at",
                (now, answers, seller_id, stage, batch_id),
            )
            conn.execute(
                "UPDATE batches SET status = 'answered', detail = ?, finished_at = ? WHERE batch_id = ?",
                (detail, now, batch_id),
            )

    def mark_unknown(self, batch_id: str, detail: str) -> None:
        """Record that a batch was sent but no answer came back (reconcile before re-sending)."""
        now = _now()
        with self._transaction() as conn:
            conn.execute(
                "UPDATE entries SET status = 'unknown', message = ?, updated_at = ?"
                " WHERE batch_id = ? AND status = 'pending'",
                (detail, now, batch_id),
            )
            conn.execute(
                "UPDATE batches SET status = 'unknown', detail = ?, finished_at = ? WHERE batch_id = ?",
                (detail, now, batch_id),
            )

    def seen(self, seller_id: str, stage: str, keys: Sequence[str]) -> dict[str, str | None]:
        """Those of ``keys`` that an earlier batch may have written (pending, unknown or done).

        Maps each to the night of its last batch (None for batches of no night). A row the ledger has
        never seen, or whose last attempt failed, can be sent without a look-up.
        """
        if not keys:
            return {}
        with self._lock:
            # Driven from the probed keys (a JSON array read by json_each; CROSS JOIN fixes the order),
            # each looked up by the primary key. The plan it replaces walked every entry of the stage
            # (0.1 s per chunk at 200,000 entries, growing with every night's ledger) after inserting
            # the keys one by one into a temporary table (another 0.09 s per 5,000 keys).
            cur = self._conn.execute(
                "SELECT e.key, b.night FROM json_each(?) p CROSS JOIN entries e"
                " ON e.seller_id = ? AND e.stage = ? AND e.key = p.value"
                " JOIN batches b ON b.batch_id = e.batch_id"
                " WHERE e.status IN ('pending', 'unknown', 'done')",
                (json.dumps([str(key) for key in keys]), seller_id, stage),
            )
            return dict(cur.fetchall())

    def done_in_night(self, seller_id: str, stage: str, night: str) -> set[str]:
        """Keys whose last batch belongs to ``night`` and is known done (EnKash answered or was found)."""
        # Driven from the night's batches (each entry points at its key's last batch): the plan it
        # replaces walked every done entry the stage ever recorded, 1.2 s at 1M entries, every night.
        return self._first_column(
            "SELECT e.key FROM batches b CROSS JOIN entries e ON e.batch_id = b.batch_id"
            " WHERE b.seller_id = ? AND b.stage = ? AND b.night = ? AND e.status = 'done'",
            (seller_id, stage, night),
        )

    def _first_column(self, sql: str, parameters: Sequence[Any]) -> set[Any]:
        """The distinct values of the first column ``sql`` answers."""
        with self._lock:
            return {row[0] for row in self._conn.execute(sql, parameters).fetchall()}

    def unresolved(self, seller_id: str, stage: str) -> list[str]:
        """Keys of rows whose write may or may not have reached EnKash (pending or unknown)."""
        return sorted(self.unresolved_nights(seller_id, stage))

    def unresolved_nights(self, seller_id: str, stage: str) -> dict[str, str | None]:
        """Keys of rows whose outcome is not known, each with the night of the batch that sent it."""
        with self._lock:
            cur = self._conn.execute(
                "SELECT e.key, b.night FROM entries e JOIN batches b ON b.batch_id = e.batch_id"
                " WHERE e.seller_id = ? AND e.stage = ? AND e.status IN ('pending', 'unknown')",
                (seller_id, stage),
            )
            return dict(cur.fetchall())

    def resolve(
        self,
        seller_id: str,
        stage: str,
        found: Mapping[str, str | None],
        *,
        missing: Iterable[str],
        results: Iterable[tuple[str, pl.DataFrame]] = (),
    ) -> None:
        """Record what reconciliation found in EnKash for unresolved rows.

        ``found`` maps keys EnKash holds to their EnKash id (done); ``missing`` lists keys EnKash does not
        hold, which go back to ``failed`` with a note so that the stage sends them again. ``results``
        (``(night, result rows)`` pairs) go to those nights' records in the same transaction (see
        :meth:`finish_batch`).
        """
        now = _now()
        with self._transaction() as conn:
            for night, rows in results:
                self._insert_results(conn, seller_id, night, rows, now)
            # One statement each over the keys as JSON (see finish_batch), each row by the primary key.
            conn.execute(
                "INSERT INTO entries (seller_id, stage, key, batch_id, status, remote_id, message,"
                " updated_at)"
                " SELECT e.seller_id, e.stage, e.key, e.batch_id, 'done', f.value,"
                " 'reconciled: found in EnKash', ? FROM json_each(?) f CROSS JOIN entries e"
                " WHERE e.seller_id = ? AND e.stage = ? AND e.key = f.key"
                " ON CONFLICT (seller_id, stage, key) DO UPDATE SET status = excluded.status,"
                " remote_id = excluded.remote_id, message = excluded.message,"
                " updated_at = excluded.updated_at",
                (now, json.dumps(dict(found)), seller_id, stage),
            )
            conn.execute(
                "UPDATE entries SET status = 'failed', message = 'reconciled: not in EnKash, to resend',"
                " updated_at = ? WHERE seller_id = ? AND stage = ?"
                " AND key IN (SELECT value FROM json_each(?))",
                (now, seller_id, stage, json.dumps([str(key) for key in missing])),
            )

    def status_counts(self, seller_id: str, stage: str | None = None) -> dict[str, int]:
        """Number of rows per status, for one seller (and one stage if given)."""
        query = "SELECT status, COUNT(*) FROM entries WHERE seller_id = ?"
        params: tuple[str, ...] = (seller_id,)
        if stage is not None:
            query += " AND stage = ?"
            params = (seller_id, stage)
        with self._lock:
            return dict(self._conn.execute(query + " GROUP BY status", params).fetchall())

    def remote_ids(self, seller_id: str, stage: str) -> dict[str, str]:
        """EnKash ids of the rows recorded done for a stage (key to id)."""
        with self._lock:
            cur = self._conn.execute(
                "SELECT key, remote_id FROM entries WHERE seller_id = ? AND stage = ? AND status = 'done'"
                " AND remote_id IS NOT NULL",
                (seller_id, stage),
            )
            return dict(cur.fetchall())

    def remote_ids_among(self, seller_id: str, stage: str, remote_ids: Iterable[str]) -> set[str]:
        """Those of ``remote_ids`` (EnKash ids) that a row of ``stage`` recorded done carries.

        Asks about the ids given, not every id the stage ever recorded (:meth:`remote_ids`): the ledger
        keeps every record the project ever sent, so that would grow with every night.
        """
        wanted = sorted({str(i) for i in remote_ids})
        if not wanted:
            return set()
        return self._first_column(
            "SELECT DISTINCT remote_id FROM entries WHERE seller_id = ? AND stage = ? AND status = 'done'"
            " AND remote_id IN (SELECT value FROM json_each(?))",
            (seller_id, stage, json.dumps(wanted)),
        )

    def failed_messages(self, seller_id: str, stage: str) -> dict[str, str]:
        """Keys of a stage whose last attempt failed, each with the reason recorded for it."""
        with self._lock:
            cur = self._conn.execute(
                "SELECT key, COALESCE(message, '') FROM entries WHERE seller_id = ? AND stage = ?"
                " AND status = 'failed'",
                (seller_id, stage),
            )
            return dict(cur.fetchall())

    # ---- what each night did -------------------------------------------------------------------

    def record_results(self, seller_id: str, night: str, results: pl.DataFrame) -> None:
        """Add result rows (``results.RESULT_SCHEMA``) to the night's record, over every attempt.

        A row of a (night, stage, key) replaces the one before, except that a row the night *sent*
        successfully is never replaced by a later "already in EnKash" or a failure: what the night did
        stays counted however often it is retried.
        """
        if results.is_empty():
            return
        with self._transaction() as conn:
            self._insert_results(conn, seller_id, night, results, _now())

    def _insert_results(
        self, conn: sqlite3.Connection, seller_id: str, night: str, results: pl.DataFrame, now: str
    ) -> None:
        # One statement over the rows as JSON (json_each), not a bound row each: see finish_batch.
        rows = results.select(
            "stage", "key", "outcome", "origin", pl.col("amount").fill_null(0.0), "reason", "remote_id"
        ).write_json()
        conn.execute(
            "INSERT INTO night_results (seller_id, night, stage, key, outcome, origin, amount, reason,"
            " remote_id, run_id, updated_at)"
            " SELECT ?, ?, json_extract(r.value, '$.stage'), json_extract(r.value, '$.key'),"
            " json_extract(r.value, '$.outcome'), json_extract(r.value, '$.origin'),"
            " json_extract(r.value, '$.amount'), json_extract(r.value, '$.reason'),"
            " json_extract(r.value, '$.remote_id'), ?, ? FROM json_each(?) r WHERE true"
            " ON CONFLICT (seller_id, night, stage, key) DO UPDATE SET outcome = excluded.outcome,"
            " origin = excluded.origin, amount = excluded.amount, reason = excluded.reason,"
            " remote_id = excluded.remote_id, run_id = excluded.run_id, updated_at = excluded.updated_at"
            " WHERE NOT (night_results.outcome = 'success' AND night_results.origin = 'sent')",
            (seller_id, night, self.run_id, now, rows),
        )

    def record_present(self, seller_id: str, night: str, stage: str, present: pl.DataFrame) -> None:
        """Keep what ``stage`` found already in EnKash in this attempt of the night (``key``, ``amount``,
        ``remote_id``): success rows of origin "already present" in :meth:`night_results`.

        It replaces the set an earlier attempt kept for the stage, and, as :meth:`record_results` would,
        the earlier rows of these keys unless the night sent them; a row recorded after it wins.
        """
        rows = present.select(
            pl.col("key").cast(pl.String),
            pl.col("amount").cast(pl.Float64).fill_null(0.0) if "amount" in present.columns else pl.lit(0.0),
            pl.col("remote_id").cast(pl.String),
        )
        blob = io.BytesIO()
        rows.write_parquet(blob, compression="zstd")
        with self._transaction() as conn:
            # Most nights have no such row (a stage records its rows after this): the keys, a JSON list
            # of every one found present (100,000 on a quiet night), are made only when one may go.
            replaceable = conn.execute(
                "SELECT 1 FROM night_results WHERE seller_id = ? AND night = ? AND stage = ?"
                " AND NOT (outcome = 'success' AND origin = 'sent') LIMIT 1",
                (seller_id, night, stage),
            ).fetchone()
            if replaceable:
                conn.execute(
                    "DELETE FROM night_results WHERE seller_id = ? AND night = ? AND stage = ?"
                    " AND key IN (SELECT value FROM json_each(?))"
                    " AND NOT (outcome = 'success' AND origin = 'sent')",
                    (seller_id, night, stage, json.dumps(rows.get_column("key").to_list())),
                )
            conn.execute(
                "INSERT INTO night_present (seller_id, night, stage, rows, run_id, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (seller_id, night, stage) DO UPDATE SET"
                " rows = excluded.rows, run_id = excluded.run_id, updated_at = excluded.updated_at",
                (seller_id, night, stage, blob.getvalue(), self.run_id, _now()),
            )

    def night_results(self, seller_id: str, night: str) -> pl.DataFrame:
        """Every result row of one night of one seller (``results.RESULT_SCHEMA``), in stage, key order:
        the recorded rows, and what each stage found already present where no row was recorded after.

        The whole record in memory (two rows per invoice a night uploads and dispatches): to write it to
        a file, :meth:`write_night_results` never holds it whole."""
        return self._night_record(seller_id, night, pl.DataFrame.lazy).collect()

    def write_night_results(self, seller_id: str, night: str, path: str | Path) -> Path:
        """Write :meth:`night_results`' rows, in the same order, to ``path`` (Parquet) a page at a time.

        The recorded rows go through files of :data:`READ_PAGE_ROWS` rows in a hidden temporary folder
        beside ``path`` and are streamed from there into one file; only what a stage found already
        present and no row recorded after is held whole, to be merged in key order. At a million
        invoices the record (two million rows) held whole was the summary's peak of memory. ``path`` is
        replaced at once when the file is complete (``output_files.write_replacing``): it never holds
        half a night.
        """
        target = Path(path)
        # The part files beside the target, not in the system's temporary folder (often a RAM-backed
        # tmpfs in containers: the record would be back in memory, outside the process).
        with tempfile.TemporaryDirectory(prefix=f".{target.name}.parts-", dir=target.parent) as folder:
            written = 0

            def on_disk(page: pl.DataFrame) -> pl.LazyFrame:
                nonlocal written
                part = Path(folder) / f"{written:06d}.parquet"
                written += 1
                page.write_parquet(part)
                return pl.scan_parquet(part)

            return write_replacing(target, self._night_record(seller_id, night, on_disk).sink_parquet)

    def _night_record(
        self, seller_id: str, night: str, keep_page: Callable[[pl.DataFrame], pl.LazyFrame]
    ) -> pl.LazyFrame:
        """The night's result rows in stage, key order, lazily: each page of recorded rows as
        ``keep_page`` keeps it (in memory, or in a file), then what the stages found present merged in."""
        with self._lock:
            # In the primary key's order, which SQLite reads along its index: no sort of its own, and
            # none here when nothing was found already present (a sort copied the whole record). A page
            # of tuples at a time: read whole by fetchall, the record was 265 MiB of Python tuples at
            # once at 300,000 invoices (memray, S4), and it grows with the night.
            cur = self._conn.execute(_NIGHT_ROWS, (seller_id, night))
            pages = [
                keep_page(pl.DataFrame(rows, schema=RESULT_SCHEMA, orient="row"))
                for rows in _pages(cur, READ_PAGE_ROWS)
            ]
            sets = self._conn.execute(_NIGHT_SETS, (seller_id, night)).fetchall()
        recorded = pl.concat(pages) if pages else pl.LazyFrame(schema=RESULT_SCHEMA)
        if not sets:
            return recorded
        found = (
            pl.concat([_present_rows(stage, blob) for stage, blob in sets])
            .join(recorded.select("stage", "key"), on=["stage", "key"], how="anti")
            .collect()
        )
        if found.is_empty():
            return recorded
        return pl.concat([recorded, found.cast(RESULT_SCHEMA).lazy()]).sort("stage", "key")

    def prune_night_record(self, seller_id: str, newest_night: str, days: int = NIGHT_RECORD_DAYS) -> str:
        """Drop the row-level record of the seller's nights more than ``days`` before ``newest_night``;
        returns the oldest night still kept (ISO date). Summaries stay."""
        kept_from = (date.fromisoformat(newest_night) - timedelta(days=days)).isoformat()
        with self._transaction() as conn:
            older = (seller_id, kept_from)
            conn.execute("DELETE FROM night_results WHERE seller_id = ? AND night < ?", older)
            conn.execute("DELETE FROM night_present WHERE seller_id = ? AND night < ?", older)
            conn.execute(
                "INSERT INTO night_record_kept (seller_id, kept_from) VALUES (?, ?) ON CONFLICT (seller_id)"
                " DO UPDATE SET kept_from = MAX(kept_from, excluded.kept_from)",
                (seller_id, kept_from),
            )
            (oldest,) = conn.execute(
                "SELECT kept_from FROM night_record_kept WHERE seller_id = ?", (seller_id,)
            ).fetchone()
        return str(oldest)

    def check_night_kept(self, seller_id: str, night: str) -> None:
        """Raise :class:`NightRecordPrunedError` when the row-level record of ``night`` was pruned."""
        kept_from = self.night_record_kept_from(seller_id)
        if kept_from is not None and night < kept_from:
            raise NightRecordPrunedError(
                f"the run ledger {self.path} no longer holds what night {night} of {seller_id} did row by"
                f" row: it keeps the nights of the last {NIGHT_RECORD_DAYS} days, from {kept_from} on."
                f" The bulk_results.parquet and summary.json that night wrote are its record; nothing was"
                f" written now. Summarise a night from {kept_from} on."
            )

    def night_record_kept_from(self, seller_id: str) -> str | None:
        """The oldest night whose row-level record is kept (ISO date), or None when none was pruned."""
        with self._lock:
            row = self._conn.execute(
                "SELECT kept_from FROM night_record_kept WHERE seller_id = ?", (seller_id,)
            ).fetchone()
        return None if row is None else str(row[0])

    def record_night_summary(
        self, seller_id: str, night: str, summary_json: str, *, replace: bool = True
    ) -> bool:
        """Keep the night's summary (``summary.json`` text) for the trend; True when it was stored.

        A rerun of a night replaces its summary; with ``replace=False`` a summary already kept wins (an
        older copy found on disk must not overwrite what the night itself recorded).
        """
        query = _REPLACE_SUMMARY if replace else _KEEP_SUMMARY
        with self._transaction() as conn:
            return conn.execute(query, (seller_id, night, summary_json, _now())).rowcount > 0

    def night_summaries(self, seller_id: str, *, until: str, limit: int = 30) -> list[dict[str, Any]]:
        """The kept summaries of the ``limit`` last nights up to ``until`` (included), oldest first."""
        with self._lock:
            cur = self._conn.execute(
                "SELECT summary FROM night_summaries WHERE seller_id = ? AND night <= ?"
                " ORDER BY night DESC LIMIT ?",
                (seller_id, until, limit),
            )
            rows = cur.fetchall()
        return [json.loads(text) for (text,) in reversed(rows)]

    # ---- refused credentials -------------------------------------------------------------------

    def refused_credentials(self, seller_id: str) -> list[RefusedCredentials]:
        """The fingerprints of credentials refused for ``seller_id``, newest first."""
        with self._lock:
            cur = self._conn.execute(
                "SELECT salt, fingerprint, refused_at, reason FROM refused_credentials WHERE seller_id = ?"
                " ORDER BY refused_at DESC",
                (seller_id,),
            )
            return [RefusedCredentials(bytes(s), f, at, r) for s, f, at, r in cur.fetchall()]

    def remember_refused(self, seller_id: str, salt: bytes, fingerprint: str, reason: str | None) -> None:
        """Remember that these credentials (by fingerprint) were refused; keep the newest few."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO refused_credentials (seller_id, salt, fingerprint, refused_at, reason)"
                " VALUES (?, ?, ?, ?, ?)",
                (seller_id, salt, fingerprint, _now(), reason),
            )
            conn.execute(
                "DELETE FROM refused_credentials WHERE seller_id = ? AND rowid NOT IN (SELECT rowid FROM"
                " refused_credentials WHERE seller_id = ? ORDER BY refused_at DESC LIMIT ?)",
                (seller_id, seller_id, MAX_REFUSED_PER_SELLER),
            )

    def forget_refused(self, seller_id: str) -> int:
        """Forget every refused credential of ``seller_id`` (they work now, or the user says so)."""
        with self._transaction() as conn:
            return conn.execute("DELETE FROM refused_credentials WHERE seller_id = ?", (seller_id,)).rowcount

    # ---- the seller's lease --------------------------------------------------------------------

    def try_lease(
        self, seller_id: str, holder: str, description: str, duration: timedelta, *, host: str
    ) -> Lease | None:
        """Take (or renew) ``seller_id``'s lease for ``holder``; the current lease if another holds it.

        A lease whose time ran out, or whose process on this host is gone, is taken over.
        """
        now = datetime.now(UTC)
        until = now + duration
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT holder, description, host, pid, acquired_at, lease_until FROM seller_leases"
                " WHERE seller_id = ?",
                (seller_id,),
            ).fetchone()
            if row is not None and row[0] != holder:
                current = Lease(
                    seller_id,
                    row[0],
                    row[1],
                    row[2],
                    int(row[3]),
                    datetime.fromisoformat(row[4]),
                    datetime.fromisoformat(row[5]),
                )
                if current.lease_until > now and not _dead_here(current, host):
                    return current
            conn.execute(
                "INSERT INTO seller_leases (seller_id, holder, description, host, pid, acquired_at,"
                " lease_until) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (seller_id) DO UPDATE SET"
                " holder = excluded.holder, description = excluded.description, host = excluded.host,"
                " pid = excluded.pid, lease_until = excluded.lease_until,"
                " acquired_at = CASE WHEN seller_leases.holder = excluded.holder"
                " THEN seller_leases.acquired_at ELSE excluded.acquired_at END",
                (seller_id, holder, description, host, os.getpid(), now.isoformat(), until.isoformat()),
            )
        return None

    def release_lease(self, seller_id: str, holder: str) -> None:
        """Give up ``seller_id``'s lease if ``holder`` holds it."""
        with self._transaction() as conn:
            conn.execute("DELETE FROM seller_leases WHERE seller_id = ? AND holder = ?", (seller_id, holder))


#: A night's recorded result rows, in the primary key's order (SQLite reads them along its index).
_NIGHT_ROWS: Final = (
    "SELECT stage, key, outcome, origin, amount, reason, remote_id FROM night_results"
    " WHERE seller_id = ? AND night = ? ORDER BY stage, key"
)
#: A night's sets of records found already present, one per stage.
_NIGHT_SETS: Final = "SELECT stage, rows FROM night_present WHERE seller_id = ? AND night = ?"


def _present_rows(stage: str, blob: bytes) -> pl.LazyFrame:
    """A stage's set of records found already present (``night_present.rows``) as result rows."""
    return (
        pl.read_parquet(io.BytesIO(blob))
        .lazy()
        .select(
            stage=pl.lit(stage, pl.String),
            key="key",
            outcome=pl.lit("success", pl.String),
            origin=pl.lit("already_present", pl.String),
            amount="amount",
            reason=pl.lit(None, pl.String),
            remote_id="remote_id",
        )
    )


def _pages(cursor: sqlite3.Cursor, size: int) -> Iterator[list[Any]]:
    """The rows of ``cursor``, ``size`` at a time (never all of them as Python objects at once)."""
    while rows := cursor.fetchmany(size):
        yield rows


def _dead_here(lease: Lease, host: str) -> bool:
    """Whether the lease's process ran on this host and is gone (killed without releasing)."""
    if lease.host != host:
        return False
    try:
        os.kill(lease.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
