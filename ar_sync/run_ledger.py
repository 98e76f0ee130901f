"""The run ledger: what the cycle was about to send to EnKash, and what EnKash answered.

EnKash documents no idempotency key and does not deduplicate, so exactly-once is this project's job.
Around every write the cycle records a *batch* (one API call: a bulk file, a dispatch, a reminder
create) and one *entry* per row in it:

- before sending: every entry ``pending`` (we may be about to act);
- after an answer: ``done`` (with EnKash's id) or ``failed`` (with the reason);
- when no answer came back (a dropped response, a read timeout, a crash between send and record):
  the entries stay ``pending`` or are marked ``unknown``.

Before it re-sends anything, a stage asks :meth:`RunLedger.unresolved` which rows of an earlier batch
have no known outcome, looks them up in EnKash (search by externalId / uniqueRefNo / dispatched flag)
and records what it found with :meth:`RunLedger.resolve`. EnKash stays the source of truth: every
stage diffs the ERP against what EnKash holds, so a lost ledger costs an audit trail, never a
duplicate.

The ledger holds keys (invoice numbers, customer refs), EnKash ids, counts and reasons: never a token,
a secret or a full request body. SQLite, one file per installation, safe for several processes (WAL).
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal

EntryStatus = Literal["pending", "unknown", "done", "failed"]

#: Where the ledger lives unless configured otherwise (``ENKASH_LEDGER_PATH`` or the flow parameter).
DEFAULT_LEDGER_PATH: Final = Path(".enkash-ar") / "ledger.sqlite3"

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
    finished_at TEXT
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
"""


@dataclass(frozen=True)
class Outcome:
    """What EnKash answered for one row of a batch."""

    key: str
    status: Literal["done", "failed"]
    remote_id: str | None = None
    message: str | None = None


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
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)

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

    def begin_batch(self, seller_id: str, stage: str, operation: str, keys: Sequence[str]) -> str:
        """Record that a write for ``keys`` is about to be sent; returns the batch id.

        Committed before the request leaves, so a crash after this point leaves the rows
        ``pending`` and the next run reconciles them against EnKash before sending again.
        """
        batch_id = uuid.uuid4().hex
        now = _now()
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO batches (batch_id, seller_id, run_id, stage, operation, row_count, status,"
                " started_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                (batch_id, seller_id, self.run_id, stage, operation, len(keys), now),
            )
            conn.executemany(
                "INSERT INTO entries (seller_id, stage, key, batch_id, status, updated_at)"
                " VALUES (?, ?, ?, ?, 'pending', ?)"
                " ON CONFLICT (seller_id, stage, key) DO UPDATE SET batch_id = excluded.batch_id,"
                " status = 'pending', remote_id = NULL, message = NULL, updated_at = excluded.updated_at",
                [(seller_id, stage, key, batch_id, now) for key in keys],
            )
        return batch_id

    def finish_batch(self, batch_id: str, outcomes: Iterable[Outcome], *, detail: str | None = None) -> None:
        """Record EnKash's answer for a batch, one outcome per row."""
        now = _now()
        rows = [(o.status, o.remote_id, o.message, now, batch_id, o.key) for o in outcomes]
        with self._transaction() as conn:
            conn.executemany(
                "UPDATE entries SET status = ?, remote_id = ?, message = ?, updated_at = ?"
                " WHERE batch_id = ? AND key = ?",
                rows,
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

    def seen(self, seller_id: str, stage: str, keys: Sequence[str]) -> list[str]:
        """Those of ``keys`` that an earlier batch may have written (pending, unknown or done).

        A row the ledger has never seen, or whose last attempt failed, can be sent without a look-up.
        """
        if not keys:
            return []
        with self._lock:
            self._conn.execute("CREATE TEMP TABLE IF NOT EXISTS probe (key TEXT PRIMARY KEY)")
            self._conn.execute("DELETE FROM probe")
            self._conn.executemany("INSERT OR IGNORE INTO probe (key) VALUES (?)", [(k,) for k in keys])
            cur = self._conn.execute(
                "SELECT e.key FROM entries e JOIN probe p ON p.key = e.key"
                " WHERE e.seller_id = ? AND e.stage = ? AND e.status IN ('pending', 'unknown', 'done')",
                (seller_id, stage),
            )
            return [row[0] for row in cur.fetchall()]

    def unresolved(self, seller_id: str, stage: str) -> list[str]:
        """Keys of rows whose write may or may not have reached EnKash (pending or unknown)."""
        with self._lock:
            cur = self._conn.execute(
                "SELECT key FROM entries WHERE seller_id = ? AND stage = ?"
                " AND status IN ('pending', 'unknown') ORDER BY key",
                (seller_id, stage),
            )
            return [row[0] for row in cur.fetchall()]

    def resolve(
        self, seller_id: str, stage: str, found: Mapping[str, str | None], *, missing: Iterable[str]
    ) -> None:
        """Record what reconciliation found in EnKash for unresolved rows.

        ``found`` maps keys EnKash holds to their EnKash id (done); ``missing`` lists keys EnKash does not
        hold, which go back to ``failed`` with a note so that the stage sends them again.
        """
        now = _now()
        with self._transaction() as conn:
            conn.executemany(
                "UPDATE entries SET status = 'done', remote_id = ?, message = 'reconciled: found in EnKash',"
                " updated_at = ? WHERE seller_id = ? AND stage = ? AND key = ?",
                [(rid, now, seller_id, stage, key) for key, rid in found.items()],
            )
            conn.executemany(
                "UPDATE entries SET status = 'failed', message = 'reconciled: not in EnKash, to resend',"
                " updated_at = ? WHERE seller_id = ? AND stage = ? AND key = ?",
                [(now, seller_id, stage, key) for key in missing],
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
