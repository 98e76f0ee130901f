"""The run ledger's book of payments exported to the ERP: each night's export, its lines, and per EnKash
invoice the total received last exported.

Everything a night's export changes is written in one SQLite transaction (:func:`payment_book`): the
export record, its lines and the new positions. Either the whole export is on the books or none of it,
so a process killed at any moment leaves either "not exported" (the next run exports it) or "exported"
(the next run rewrites the same file from these lines), never half.

A night has at most one export (primary key seller, night): a rerun of the night finds it and exports
nothing new; money EnKash received after it belongs to the next night.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from ar_sync.payments import LINE_SCHEMA, POSITION_SCHEMA, EntryType, advanced_positions
from ar_sync.run_ledger import RunLedger

_LINE_COLUMNS = ", ".join(LINE_SCHEMA)


@dataclass(frozen=True)
class ExportRecord:
    """One night's export as the ledger holds it (amounts in paise)."""

    night: str
    lines: int
    received_paise: int
    reversed_paise: int
    files: tuple[str, ...]
    exported_at: str


class PaymentBook:
    """One seller's payment tables, read and written inside one ledger transaction."""

    def __init__(self, conn: sqlite3.Connection, seller_id: str, run_id: str | None = None) -> None:
        self._conn = conn
        self.seller_id = seller_id
        self.run_id = run_id

    def export_of(self, night: str) -> ExportRecord | None:
        """The night's export, if one was recorded."""
        row = self._conn.execute(
            "SELECT night, lines, received_paise, reversed_paise, files, exported_at FROM payment_exports"
            " WHERE seller_id = ? AND night = ?",
            (self.seller_id, night),
        ).fetchone()
        if row is None:
            return None
        return ExportRecord(row[0], row[1], row[2], row[3], tuple(json.loads(row[4])), row[5])

    def previous_night(self, night: str) -> str | None:
        """The latest night before ``night`` that exported (where "since the last export" starts)."""
        row = self._conn.execute(
            "SELECT MAX(night) FROM payment_exports WHERE seller_id = ? AND night < ?",
            (self.seller_id, night),
        ).fetchone()
        return None if row is None else row[0]

    def latest_night(self) -> str | None:
        """The latest night that exported, if any."""
        row = self._conn.execute(
            "SELECT MAX(night) FROM payment_exports WHERE seller_id = ?", (self.seller_id,)
        ).fetchone()
        return None if row is None else row[0]

    def positions(self) -> pl.DataFrame:
        """Per EnKash invoice: the total received last exported (paise) and its number of lines."""
        rows = self._conn.execute(
            "SELECT invoice_id, exported_paise, lines FROM payment_positions WHERE seller_id = ?",
            (self.seller_id,),
        ).fetchall()
        return pl.DataFrame(rows, schema=POSITION_SCHEMA, orient="row")

    def lines(self, night: str) -> pl.DataFrame:
        """The lines the night exported (:data:`~ar_sync.payments.LINE_SCHEMA`), in file order."""
        rows = self._conn.execute(
            f"SELECT {_LINE_COLUMNS} FROM payment_lines WHERE seller_id = ? AND night = ?"  # noqa: S608
            " ORDER BY rowid",
            (self.seller_id, night),
        ).fetchall()
        return pl.DataFrame(rows, schema=LINE_SCHEMA, orient="row")

    def record(
        self, night: str, lines: pl.DataFrame, files: Sequence[str], positions: pl.DataFrame | None = None
    ) -> ExportRecord:
        """Put the night's export on the books: its record, its lines, and every invoice's new position.

        ``positions`` are the ones the lines were found against, read in this same transaction (read
        again when not given).
        """
        amounts = lines.get_column("amount_paise")
        entry = lines.get_column("entry_type")
        record = ExportRecord(
            night=night,
            lines=lines.height,
            received_paise=int(amounts.filter(entry == EntryType.PAYMENT).sum()),
            reversed_paise=int(-amounts.filter(entry == EntryType.REVERSAL).sum()),
            files=tuple(files),
            exported_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
        )
        self._conn.execute(
            "INSERT INTO payment_exports (seller_id, night, lines, received_paise, reversed_paise, files,"
            " run_id, exported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self.seller_id,
                night,
                record.lines,
                record.received_paise,
                record.reversed_paise,
                json.dumps(list(files)),
                self.run_id,
                record.exported_at,
            ),
        )
        placeholders = ", ".join("?" * (len(LINE_SCHEMA) + 1))
        self._conn.executemany(
            f"INSERT INTO payment_lines (seller_id, {_LINE_COLUMNS}) VALUES ({placeholders})",  # noqa: S608
            [(self.seller_id, *row) for row in lines.iter_rows()],
        )
        self._conn.executemany(
            "INSERT INTO payment_positions (seller_id, invoice_id, exported_paise, lines, last_night)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (seller_id, invoice_id) DO UPDATE SET"
            " exported_paise = excluded.exported_paise, lines = excluded.lines,"
            " last_night = excluded.last_night",
            [
                (self.seller_id, *row)
                for row in advanced_positions(
                    self.positions() if positions is None else positions, lines
                ).iter_rows()
            ],
        )
        return record


@contextmanager
def payment_book(ledger: RunLedger, seller_id: str) -> Iterator[PaymentBook]:
    """The seller's payment book inside one ledger transaction (other writers wait until it ends)."""
    with ledger.transaction() as conn:
        yield PaymentBook(conn, seller_id, ledger.run_id)


def record_collections(ledger: RunLedger, seller_id: str, night: str, collections_json: str) -> None:
    """Keep the night's collections (``collection_summary.Collections`` as JSON); a rerun replaces them."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    with ledger.transaction() as conn:
        conn.execute(
            "INSERT INTO night_collections (seller_id, night, collections, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (seller_id, night) DO UPDATE SET collections = excluded.collections,"
            " updated_at = excluded.updated_at",
            (seller_id, night, collections_json, now),
        )


def night_collections(ledger: RunLedger, seller_id: str, night: str) -> str | None:
    """The night's collections JSON, when its payments stage ran (None otherwise)."""
    with ledger.transaction() as conn:
        row = conn.execute(
            "SELECT collections FROM night_collections WHERE seller_id = ? AND night = ?", (seller_id, night)
        ).fetchone()
    return None if row is None else str(row[0])
