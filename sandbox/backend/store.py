"""The sandbox's SQLite database: schema, the one shared connection and id generation.

One ``sqlite3`` connection serves every thread; ``Store.tx()`` holds a lock for the length of one
transaction, so concurrent requests (FastAPI runs sync work in a threadpool) see consistent data. A file
database uses WAL and survives restarts; ``":memory:"`` lives as long as the process.

Customers and reminders keep their full JSON document in ``doc`` plus the columns searches filter on.
Invoices are plain columns (``INVOICE_FIELDS``), because 100k-row uploads and pages of 5000 must be fast.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

Kind = Literal["str", "num", "bool", "int"]


@dataclass(frozen=True)
class Column:
    """One invoice column and the Invoice member it is answered as."""

    name: str
    member: str
    kind: Kind


INVOICE_FIELDS: Final = (
    Column("invoice_id", "invoiceId", "str"),
    Column("seller_id", "sellerId", "str"),
    Column("customer_id", "customerId", "str"),
    Column("external_id", "externalId", "str"),
    Column("invoice_number", "invoiceNumber", "str"),
    Column("invoice_date", "invoiceDate", "str"),
    Column("due_date", "dueDate", "str"),
    Column("base_amount", "baseAmount", "num"),
    Column("cgst", "cgst", "num"),
    Column("sgst", "sgst", "num"),
    Column("igst", "igst", "num"),
    Column("tds", "tds", "num"),
    Column("net_amount", "netAmount", "num"),
    Column("balance_amount", "balanceAmount", "num"),
    Column("total_received", "totalReceived", "num"),
    Column("approval_status", "approvalStatus", "str"),
    Column("receivable_status", "receivableStatus", "str"),
    Column("payout_status", "payoutStatus", "str"),
    Column("dispatched", "dispatched", "bool"),
    Column("dispatched_on", "dispatchedOn", "str"),
    Column("dispatch_count", "dispatchCount", "int"),
    Column("payment_link", "paymentLink", "str"),
    Column("partial_payment_allowed", "partialPaymentAllowed", "bool"),
    Column("gst_exclusive", "gstExclusive", "bool"),
    Column("charge_customer", "chargeCustomer", "bool"),
    Column("description", "description", "str"),
    Column("po_number", "poNumber", "str"),
    Column("email_address", "emailAddress", "str"),
    Column("mobile_number", "mobileNumber", "str"),
    Column("payable_reference_id", "payableReferenceId", "str"),
    Column("via", "via", "str"),
    Column("created_on", "createdOn", "str"),
    Column("modified_on", "modifiedOn", "str"),
    # The last payment (x-inferred members; sandbox.backend.payments sets them).
    Column("last_payment_on", "lastPaymentOn", "str"),
    Column("last_payment_mode", "lastPaymentMode", "str"),
    Column("last_payment_reference", "lastPaymentReference", "str"),
)
INVOICE_COLUMN_NAMES: Final = tuple(c.name for c in INVOICE_FIELDS)
_SQL_TYPES: Final = {"str": "TEXT", "num": "REAL", "bool": "INTEGER", "int": "INTEGER"}

_SCHEMA: Final = f"""
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS customers (
    customer_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, company_id TEXT NOT NULL,
    legal_name TEXT, unique_ref_no TEXT, status TEXT NOT NULL, account_number TEXT,
    assigned_agent TEXT, deleted INTEGER NOT NULL DEFAULT 0, created_on TEXT NOT NULL,
    modified_on TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS customers_order ON customers (deleted, created_on, customer_id);
CREATE INDEX IF NOT EXISTS customers_ref ON customers (unique_ref_no);
CREATE TABLE IF NOT EXISTS reminders (
    reminder_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, customer_id TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS reminders_customer ON reminders (customer_id, seq);
CREATE TABLE IF NOT EXISTS invoices (
    {", ".join(f"{c.name} {_SQL_TYPES[c.kind]}" for c in INVOICE_FIELDS)},
    deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (invoice_id));
CREATE INDEX IF NOT EXISTS invoices_order ON invoices (deleted, created_on, invoice_id);
CREATE INDEX IF NOT EXISTS invoices_customer ON invoices (customer_id);
CREATE INDEX IF NOT EXISTS invoices_external ON invoices (external_id);
CREATE INDEX IF NOT EXISTS invoices_number ON invoices (invoice_number);
CREATE INDEX IF NOT EXISTS invoices_status ON invoices (receivable_status);
CREATE TABLE IF NOT EXISTS result_files (name TEXT PRIMARY KEY, content BLOB NOT NULL);
"""

_ID_ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


class SandboxClock:
    """The time the sandbox stamps on what it records: the machine's, moved by ``offset``.

    createdOn, modifiedOn, dispatchedOn, payment and status dates, and the time in error answers read it;
    tokens and lock-outs keep the machine's time. ``POST /_sandbox/clock`` moves it, so that nights run
    minutes apart (a benchmark's, a test's) look to the next night as they would in the field, a day
    apart. One clock per process, as there is one sandbox per process; ``/_sandbox/reset`` puts it back.
    """

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        """The sandbox's now, in UTC."""
        return datetime.now(UTC) + self.offset


CLOCK: Final = SandboxClock()


def utc_now_iso() -> str:
    """The sandbox's now (``CLOCK``) as ISO date-time with milliseconds in UTC (sorts as text)."""
    return CLOCK.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _base36(number: int, width: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 36)
        digits.append(_ID_ALPHABET[rest])
    return "".join(reversed(digits)).rjust(width, "A")


class Store:
    """The database of one sandbox."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.RLock()
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        if path != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SCHEMA)
        self._add_new_invoice_columns()

    def _add_new_invoice_columns(self) -> None:
        # A database file written before a column joined INVOICE_FIELDS lacks it; the column starts empty.
        present = {row[1] for row in self.conn.execute("PRAGMA table_info(invoices)")}
        for column in INVOICE_FIELDS:
            if column.name not in present:
                self.conn.execute(f"ALTER TABLE invoices ADD COLUMN {column.name} {_SQL_TYPES[column.kind]}")

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One transaction under the store lock; rolled back if the block raises."""
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def next_numbers(self, conn: sqlite3.Connection, name: str, count: int = 1) -> range:
        """Reserve ``count`` consecutive numbers of counter ``name`` (call inside ``tx``).

        Counters survive ``reset`` so an id is never handed out twice by one database.
        """
        row = conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        start = (row[0] if row else 0) + 1
        conn.execute(
            "INSERT INTO meta (name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (name, start + count - 1),
        )
        return range(start, start + count)

    def customer_ids(self, conn: sqlite3.Connection, count: int) -> list[str]:
        """``count`` new customer ids: ``KC`` + 14 upper-case alphanumerics."""
        return ["KC" + _base36(n, 14) for n in self.next_numbers(conn, "customer", count)]

    def invoice_ids(self, conn: sqlite3.Connection, count: int) -> list[str]:
        """``count`` new invoice ids: ``INV`` + 12 digits, increasing."""
        return [f"INV{n:012d}" for n in self.next_numbers(conn, "invoice", count)]

    def reminder_id(self, conn: sqlite3.Connection) -> str:
        """A new reminder id (``REM`` + 10 digits)."""
        return f"REM{self.next_numbers(conn, 'reminder')[0]:010d}"

    def contact_id(self, conn: sqlite3.Connection) -> str:
        """A new key contact person id (``KCP`` + 10 digits)."""
        return f"KCP{self.next_numbers(conn, 'contact')[0]:010d}"

    def data_version(self, conn: sqlite3.Connection) -> tuple[int, int]:
        """A stamp that changes whenever any row of the database changes (call inside ``tx``).

        ``total_changes`` counts the rows this connection inserted, updated or deleted, and every request
        of the sandbox writes through this one connection; ``PRAGMA data_version`` moves when another
        connection (another process on the same file) commits.
        """
        foreign: int = conn.execute("PRAGMA data_version").fetchone()[0]
        return conn.total_changes, foreign

    def save_result_file(self, name: str, content: bytes) -> None:
        """Keep a bulk result file under ``name`` (replacing one of the same name)."""
        with self.tx() as conn:
            conn.execute("INSERT OR REPLACE INTO result_files (name, content) VALUES (?, ?)", (name, content))

    def result_file(self, name: str) -> bytes | None:
        """The content of result file ``name``, or None."""
        with self.tx() as conn:
            row = conn.execute("SELECT content FROM result_files WHERE name = ?", (name,)).fetchone()
        return None if row is None else bytes(row[0])

    def reset(self) -> None:
        """Delete every customer, invoice, reminder and result file (counters stay)."""
        with self.tx() as conn:
            for table in ("customers", "reminders", "invoices", "result_files"):
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self.conn.close()
