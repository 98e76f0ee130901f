"""EnKash's invoices as the payments stage reads them, for fast tests: a small book that customers pay into.

``EnkashBook`` holds a few invoices with the members the stage reads and turns them into the frames a
night's read of EnKash would give (``frames.INVOICE_SCHEMA``). Payments and reversals change them the
way EnKash does: received up or down, balance, status, and when and how.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from ar_sync.exactly_once import Night
from ar_sync.night_payments import NightPayments, collect_night_payments
from ar_sync.payment_export import PAYMENT_FILE_SCHEMA
from ar_sync.run_ledger import RunLedger
from enkash_ar.frames import INVOICE_SCHEMA

SELLER = "CEKSANDBX1"


@dataclass
class EnkashBook:
    """A seller's invoices on EnKash (by invoice id) and its customers."""

    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    customers: dict[str, str] = field(default_factory=dict)

    def invoice(self, invoice_id: str, number: str, customer_ref: str, net: float, **members: Any) -> None:
        """An open, unpaid invoice of ``net`` INR for the customer ``customer_ref``."""
        customer_id = "KC" + customer_ref.rjust(14, "0")[-14:]
        self.customers[customer_id] = customer_ref
        self.invoices[invoice_id] = {
            "invoiceId": invoice_id,
            "externalId": number,
            "customerId": customer_id,
            "invoiceDate": datetime(2026, 11, 1, tzinfo=UTC),
            "dueDate": date(2026, 12, 1),
            "netAmount": net,
            "baseAmount": net,
            "balanceAmount": net,
            "totalReceived": 0.0,
            "receivableStatus": "UNPAID",
            "dispatched": True,
            **members,
        }

    def pay(
        self, invoice_id: str, amount: float, *, on: date, mode: str = "UPI", reference: str = ""
    ) -> None:
        """A customer pays ``amount`` on the invoice."""
        invoice = self.invoices[invoice_id]
        invoice["totalReceived"] = round(invoice["totalReceived"] + amount, 2)
        invoice["balanceAmount"] = round(max(invoice["netAmount"] - invoice["totalReceived"], 0.0), 2)
        invoice["receivableStatus"] = "PAID" if invoice["balanceAmount"] <= 0 else "PARTIALLY_PAID"
        invoice["lastPaymentOn"] = datetime(on.year, on.month, on.day, 6, 30, tzinfo=UTC)
        invoice["lastPaymentMode"] = mode
        invoice["lastPaymentReference"] = reference or f"UTR{invoice_id}{on:%d}"

    def reverse(self, invoice_id: str, amount: float) -> None:
        """EnKash gives ``amount`` back (a refund, a charge-back)."""
        invoice = self.invoices[invoice_id]
        invoice["totalReceived"] = round(invoice["totalReceived"] - amount, 2)
        invoice["balanceAmount"] = round(invoice["balanceAmount"] + amount, 2)
        invoice["receivableStatus"] = "PARTIALLY_PAID" if invoice["totalReceived"] > 0 else "UNPAID"

    def invoice_frame(self) -> pl.DataFrame:
        """The invoices as a night's search reads them."""
        blank = dict.fromkeys(INVOICE_SCHEMA)
        return pl.DataFrame([{**blank, **i} for i in self.invoices.values()], schema=INVOICE_SCHEMA)

    def customer_frame(self) -> pl.DataFrame:
        """The customers (customerId, uniqueRefNo)."""
        return pl.DataFrame(
            {"customerId": list(self.customers), "uniqueRefNo": list(self.customers.values())},
            schema={"customerId": pl.String, "uniqueRefNo": pl.String},
        )


#: The validated ERP invoice columns the payments stage reads.
ERP_SCHEMA = pl.Schema(
    {
        "invoice_number": pl.String(),
        "customer_ref": pl.String(),
        "invoice_date": pl.Date(),
        "base_amount": pl.Decimal(18, 2),
        "cgst": pl.Decimal(18, 2),
        "sgst": pl.Decimal(18, 2),
        "igst": pl.Decimal(18, 2),
        "amount_paid": pl.Decimal(18, 2),
        "status": pl.String(),
    }
)


def erp_invoices(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Validated ERP invoice rows: ``invoice_number`` and ``base_amount`` at least, the rest optional."""
    blank: dict[str, Any] = dict.fromkeys(ERP_SCHEMA)
    blank.update(customer_ref="C1", invoice_date=date(2026, 11, 1))
    return pl.DataFrame([{**blank, **r} for r in rows], schema=ERP_SCHEMA)


def run_night(
    ledger_path: Path,
    book: EnkashBook,
    night: date,
    out_dir: Path,
    erp: pl.DataFrame | pl.LazyFrame | None = None,
    **options: Any,
) -> NightPayments:
    """The payments stage of ``night`` over the book as it stands, with its own ledger connection."""
    with RunLedger(ledger_path) as ledger:
        return collect_night_payments(
            Night(ledger, SELLER, night.isoformat()),
            erp if erp is not None else erp_invoices([]),
            book.invoice_frame(),
            book.customer_frame(),
            out_dir,
            **options,
        )


def read_payments(path: Path) -> pl.DataFrame:
    """A payments.csv as the ERP would import it (amounts exact)."""
    return pl.read_csv(path, schema=PAYMENT_FILE_SCHEMA)
