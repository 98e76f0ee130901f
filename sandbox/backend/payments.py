"""Payments on the sandbox's invoices: what a customer paying a link, or a buyer paying over Bharat Connect,
does to an invoice. Reached through the admin API (``sandbox.payment_admin``), never through EnKash's.

Rules (x-inferred, like the Invoice members they set):

- a payment is on one live, open (UNPAID or PARTIALLY_PAID) invoice, for more than 0 and at most its
  balance (default: all of it); less than the balance is refused when the invoice does not allow
  partial payments (``partialPaymentAllowed`` false). A payment-link payment needs a dispatched invoice
  (no link before);
- channel ``PAYMENT_LINK`` settles at once. Channel ``BHARAT_CONNECT`` waits for the supplier: it gets a
  Bharat Connect payment id (``PMT`` + 32 letters and digits) and settles only when the supplier
  confirms it with the documented paymentConfirmationRequest (``response`` ACCEPT, ``paymentId``
  this id); REJECT or RETURN drops it;
- settling adds the amount to ``totalReceived``, lowers ``balanceAmount`` (never below 0), sets
  ``receivableStatus`` PAID when nothing is left, else PARTIALLY_PAID, and records when, how and with
  which reference (``lastPaymentOn``, ``lastPaymentMode``, ``lastPaymentReference``);
- a reversal (a refund, a charge-back) takes a settled payment back: ``totalReceived`` falls by its
  amount, the balance rises, the status is UNPAID again when nothing is left received;
- the seeded simulation pays a share of the dispatched open invoices over simulated days: each chosen
  invoice in full or in part, by a random mode, a share of them over Bharat Connect (waiting for
  confirmation). The same seed on the same invoices gives the same payments.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import date, timedelta
from typing import Any, Final

from enkash_ar.contract import ReceivableStatus
from sandbox.backend.checks import MISSING, Checker
from sandbox.backend.store import CLOCK, Store, utc_now_iso
from sandbox.errors import SubError, not_found, validation_error

PAYMENT_LINK: Final = "PAYMENT_LINK"
BHARAT_CONNECT: Final = "BHARAT_CONNECT"
CHANNELS: Final = (PAYMENT_LINK, BHARAT_CONNECT)
#: Bharat Connect's payment modes (NOTES.md section 6).
MODES: Final = ("UPI", "NEFT", "IMPS", "INTERNET BANKING", "DEBIT CARD", "CREDIT CARD", "ACCOUNT TRANSFER")
SETTLED, AWAITING, REJECTED, REVERSED = "SETTLED", "AWAITING_CONFIRMATION", "REJECTED", "REVERSED"
_OPEN: Final = (ReceivableStatus.UNPAID.value, ReceivableStatus.PARTIALLY_PAID.value)
_ALNUM: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS payments (
    payment_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, seller_id TEXT NOT NULL, invoice_id TEXT NOT NULL,
    amount REAL NOT NULL, channel TEXT NOT NULL, mode TEXT NOT NULL, reference TEXT NOT NULL,
    paid_on TEXT NOT NULL, status TEXT NOT NULL, created_on TEXT NOT NULL)
"""
_COLUMNS: Final = (
    "payment_id, seller_id, invoice_id, amount, channel, mode, reference, paid_on, status, created_on"
)
_INVOICE: Final = (
    "SELECT invoice_id, seller_id, net_amount, balance_amount, total_received, receivable_status, dispatched,"
    " partial_payment_allowed FROM invoices WHERE deleted = 0"
)

Payment = dict[str, Any]


def _payment(row: sqlite3.Row | tuple[Any, ...]) -> Payment:
    keys = ("paymentId", "sellerId", "invoiceId", "amount", "channel", "mode", "reference", "paidOn")
    return {**dict(zip(keys, row, strict=False)), "status": row[8], "createdOn": row[9]}


def _paid_on(value: str | None) -> str:
    """A payment time as ISO UTC ``...Z``; a bare date is noon in India (06:30 UTC) of that day."""
    if value is None:
        return utc_now_iso()
    if len(value) == 10:
        return f"{value}T06:30:00.000Z"
    return value


class PaymentBackend:
    """Payments on invoices: made, confirmed over Bharat Connect, reversed, simulated."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.tx() as conn:
            conn.execute(_SCHEMA)

    def reset(self) -> None:
        """Forget every payment (with the invoices they were on)."""
        with self.store.tx() as conn:
            conn.execute("DELETE FROM payments")

    def _invoice(self, conn: sqlite3.Connection, checker: Checker) -> sqlite3.Row:
        invoice_id = checker.string("invoiceId")
        external_id = checker.string("externalId")
        if invoice_id is MISSING and external_id is MISSING:
            checker.fail("invoiceId", None, "give invoiceId or externalId")
        checker.done()
        if invoice_id is not MISSING:
            row = conn.execute(f"{_INVOICE} AND invoice_id = ?", (invoice_id,)).fetchone()
            if row is None:
                raise not_found("Invoice", invoice_id)
            return row
        rows = conn.execute(f"{_INVOICE} AND external_id = ?", (external_id,)).fetchall()
        if not rows:
            raise not_found("Invoice with externalId", external_id)
        if len(rows) > 1:
            raise validation_error(
                [SubError("externalId", external_id, f"{len(rows)} invoices carry it: give invoiceId")]
            )
        return rows[0]

    def pay(self, body: Any) -> Payment:
        """One payment (``invoiceId`` or ``externalId``, ``amount``, ``channel``, ``mode``, ``paidOn``,
        ``reference``); settled at once, or awaiting the supplier's confirmation over Bharat Connect."""
        checker = Checker(body)
        amount = checker.number("amount")
        channel = checker.string("channel", choices=CHANNELS)
        mode = checker.string("mode", non_blank=True)
        paid_on = checker.date_time("paidOn")
        reference = checker.string("reference", non_blank=True)
        with self.store.tx() as conn:
            invoice = self._invoice(conn, checker)
            return self._make(
                conn,
                invoice,
                None if amount is MISSING else amount,
                PAYMENT_LINK if channel is MISSING else channel,
                "UPI" if mode is MISSING else mode,
                None if paid_on is MISSING else paid_on,
                None if reference is MISSING else reference,
            )

    def _make(
        self,
        conn: sqlite3.Connection,
        invoice: sqlite3.Row,
        amount: float | None,
        channel: str,
        mode: str,
        paid_on: str | None,
        reference: str | None,
        rng: random.Random | None = None,
    ) -> Payment:
        invoice_id, balance = invoice["invoice_id"], float(invoice["balance_amount"] or 0)
        if invoice["receivable_status"] not in _OPEN or balance <= 0:
            status = invoice["receivable_status"]
            raise validation_error([SubError("invoiceId", invoice_id, f"invoice is {status}: nothing owed")])
        if channel == PAYMENT_LINK and not invoice["dispatched"]:
            raise validation_error(
                [SubError("invoiceId", invoice_id, "not dispatched: it has no payment link yet")]
            )
        amount = balance if amount is None else round(amount, 2)
        if not 0 < amount <= balance + 0.005:
            raise validation_error([SubError("amount", amount, f"must be above 0 and at most {balance}")])
        if amount < balance - 0.005 and invoice["partial_payment_allowed"] == 0:
            raise validation_error([SubError("amount", amount, "partial payments are not allowed on it")])
        seq = self.store.next_numbers(conn, "payment")[0]
        rng = rng or random.Random(seq)
        payment_id = "PMT" + f"{seq:012d}" + "".join(rng.choice(_ALNUM) for _ in range(20))
        row = (
            payment_id,
            seq,
            invoice["seller_id"],
            invoice_id,
            amount,
            channel,
            mode,
            reference or ("".join(rng.choice("0123456789") for _ in range(12))),
            _paid_on(paid_on),
            AWAITING if channel == BHARAT_CONNECT else SETTLED,
            utc_now_iso(),
        )
        conn.execute(
            "INSERT INTO payments (payment_id, seq, seller_id, invoice_id, amount, channel, mode, reference,"
            " paid_on, status, created_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row,
        )
        if channel == PAYMENT_LINK:
            _settle(conn, invoice_id, amount, mode, row[7], row[8])
        return _payment((*row[:1], *row[2:]))

    def confirm(
        self, conn: sqlite3.Connection, payment_id: str, invoice_ids: list[str], *, accept: bool
    ) -> bool:
        """The supplier's answer to a waiting Bharat Connect payment; False when ``payment_id`` is none.

        Called inside paymentConfirmationRequest's transaction; ``invoice_ids`` must include the
        payment's invoice. ACCEPT settles it, REJECT or RETURN drops it.
        """
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM payments WHERE payment_id = ?",  # noqa: S608
            (payment_id,),
        ).fetchone()
        if row is None:
            return False
        payment = _payment(row)
        if payment["invoiceId"] not in invoice_ids:
            raise validation_error(
                [SubError("invoiceIds", invoice_ids, f"payment {payment_id} is on {payment['invoiceId']}")]
            )
        if payment["status"] != AWAITING:
            raise validation_error([SubError("paymentId", payment_id, f"payment is {payment['status']}")])
        outcome = SETTLED if accept else REJECTED
        conn.execute("UPDATE payments SET status = ? WHERE payment_id = ?", (outcome, payment_id))
        if accept:
            _settle(
                conn,
                payment["invoiceId"],
                payment["amount"],
                payment["mode"],
                payment["reference"],
                payment["paidOn"],
            )
        return True

    def reverse(self, payment_id: str) -> Payment:
        """Take a settled payment back (a refund or a charge-back)."""
        with self.store.tx() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM payments WHERE payment_id = ?",  # noqa: S608
                (payment_id,),
            ).fetchone()
            if row is None:
                raise not_found("Payment", payment_id)
            payment = _payment(row)
            if payment["status"] != SETTLED:
                raise validation_error([SubError("paymentId", payment_id, f"payment is {payment['status']}")])
            conn.execute("UPDATE payments SET status = ? WHERE payment_id = ?", (REVERSED, payment_id))
            conn.execute(
                "UPDATE invoices SET total_received = MAX(ROUND(total_received - ?, 2), 0),"
                " balance_amount = ROUND(balance_amount + ?, 2),"
                " receivable_status = CASE WHEN ROUND(total_received - ?, 2) <= 0 THEN ? ELSE ? END,"
                " modified_on = ? WHERE invoice_id = ?",
                (
                    payment["amount"],
                    payment["amount"],
                    payment["amount"],
                    ReceivableStatus.UNPAID.value,
                    ReceivableStatus.PARTIALLY_PAID.value,
                    utc_now_iso(),
                    payment["invoiceId"],
                ),
            )
            return {**payment, "status": REVERSED}

    def list_all(self) -> list[Payment]:
        """Every payment, in the order they were made."""
        with self.store.tx() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM payments ORDER BY seq").fetchall()  # noqa: S608
        return [_payment(r) for r in rows]

    def simulate(self, body: Any) -> list[Payment]:
        """Seeded random payments over simulated days (``seed``, ``share``, ``partialShare``,
        ``bharatConnectShare``, ``days``, ``start``, optional ``sellerId``); the payments made."""
        checker = Checker(body)
        seed = checker.integer("seed", required=True)
        share = checker.number("share", minimum=0)
        partial = checker.number("partialShare", minimum=0)
        bharat = checker.number("bharatConnectShare", minimum=0)
        days = checker.integer("days", minimum=1)
        start = checker.date("start")
        seller = checker.string("sellerId")
        checker.done()
        first = date.fromisoformat(start) if start is not MISSING else CLOCK.now().date()
        # One generator per (seed, first day): a second simulated week with the same seed differs.
        rng = random.Random(f"{seed}:{first.isoformat()}")
        where = " AND dispatched = 1 AND receivable_status IN (?, ?) AND balance_amount > 0"
        params: tuple[Any, ...] = _OPEN
        if seller is not MISSING:
            where, params = where + " AND seller_id = ?", (*params, seller)
        made: list[Payment] = []
        with self.store.tx() as conn:
            candidates = conn.execute(f"{_INVOICE}{where} ORDER BY invoice_id", params).fetchall()
            for invoice in candidates:
                if rng.random() >= (0.5 if share is MISSING else share):
                    continue
                balance = float(invoice["balance_amount"])
                part = rng.random() < (0.3 if partial is MISSING else partial)
                if part and invoice["partial_payment_allowed"] != 0 and balance >= 2:
                    amount: float | None = round(balance * rng.uniform(0.2, 0.8), 2)
                else:
                    amount = None
                day = first + timedelta(days=rng.randrange(1 if days is MISSING else days))
                at = f"{day.isoformat()}T{rng.randrange(3, 17):02d}:{rng.randrange(60):02d}:00.000Z"
                over_bc = rng.random() < (0.25 if bharat is MISSING else bharat)
                channel = BHARAT_CONNECT if over_bc else PAYMENT_LINK
                made.append(self._make(conn, invoice, amount, channel, rng.choice(MODES), at, None, rng))
        return made


def _settle(
    conn: sqlite3.Connection, invoice_id: str, amount: float, mode: str, reference: str, paid_on: str
) -> None:
    """Book ``amount`` on the invoice: received up, balance down, status, and the last payment's details."""
    conn.execute(
        "UPDATE invoices SET total_received = ROUND(COALESCE(total_received, 0) + ?, 2),"
        " balance_amount = MAX(ROUND(balance_amount - ?, 2), 0),"
        " receivable_status = CASE WHEN ROUND(balance_amount - ?, 2) <= 0 THEN ? ELSE ? END,"
        " last_payment_on = ?, last_payment_mode = ?, last_payment_reference = ?, modified_on = ?"
        " WHERE invoice_id = ?",
        (
            amount,
            amount,
            amount,
            ReceivableStatus.PAID.value,
            ReceivableStatus.PARTIALLY_PAID.value,
            paid_on,
            mode,
            reference,
            utc_now_iso(),
            invoice_id,
        ),
    )
