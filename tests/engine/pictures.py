"""Small ERP exports and pictures of EnKash for the engine tests: a few rows each, as a clerk writes them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from ar_sync.erp_input import LoadResult, load_customers, load_invoices
from enkash_ar.frames import INVOICE_SCHEMA
from enkash_ar.models import Customer

CUSTOMER_HEADER = "customer_ref,legal_name,contact_name,mobile,email,gstin,address,state,pin_code\n"
INVOICE_HEADER = (
    "invoice_number,customer_ref,invoice_date,due_date,base_amount,cgst,sgst,igst,description,po_number\n"
)
GSTIN = "27AAPFU0939F1ZV"
T0 = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)


def customer_line(ref: str, *, email: str = "", gstin: str = "", address: str = "", name: str = "") -> str:
    """One customer row; the other columns hold fixed, valid values."""
    legal = name or f"{ref} Traders"
    return f"{ref},{legal},Asha Rao,9876543210,{email},{gstin},{address},Maharashtra,400001\n"


def invoice_line(number: str, ref: str, *, base: str = "1000.00", cgst: str = "", po: str = "") -> str:
    """One invoice row dated 2026-11-01, due 2026-12-01."""
    return f"{number},{ref},2026-11-01,2026-12-01,{base},{cgst},,,,{po}\n"


def export(folder: Path, customers: list[str], invoices: list[str]) -> tuple[LoadResult, LoadResult]:
    """Write and load an export (customer lines, invoice lines), as the cycle loads it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "customers.csv").write_text(CUSTOMER_HEADER + "".join(customers), encoding="utf-8")
    (folder / "invoices.csv").write_text(INVOICE_HEADER + "".join(invoices), encoding="utf-8")
    loaded = load_customers(folder / "customers.csv")
    return loaded, load_invoices(folder / "invoices.csv", customers=loaded)


def invoice(
    invoice_id: str,
    external_id: str | None,
    customer_id: str,
    *,
    dispatched: bool = False,
    status: str = "UNPAID",
    received: float = 0.0,
    minutes: int = 0,
    **members: Any,
) -> dict[str, Any]:
    """One EnKash invoice as the search returns it: base 1000.00, dated and due like ``invoice_line``."""
    return {
        "invoiceId": invoice_id,
        "externalId": external_id,
        "invoiceNumber": external_id,
        "customerId": customer_id,
        "invoiceDate": datetime(2026, 11, 1, tzinfo=UTC),
        "dueDate": date(2026, 12, 1),
        "baseAmount": 1000.0,
        "netAmount": 1000.0,
        "balanceAmount": 1000.0 - received,
        "totalReceived": received,
        "dispatched": dispatched,
        "receivableStatus": status,
        "createdOn": T0 + timedelta(minutes=minutes),
        **members,
    }


def invoices(*rows: dict[str, Any]) -> pl.DataFrame:
    """EnKash's invoices (``frames.INVOICE_SCHEMA``)."""
    return pl.DataFrame([{k: r.get(k) for k in INVOICE_SCHEMA} for r in rows], schema=INVOICE_SCHEMA)


def customer(customer_id: str, ref: str | None, *, status: str = "ACTIVE", **members: Any) -> Customer:
    """One EnKash customer (with one key contact), as the search returns it."""
    contact = {"name": "Asha Rao", "legalName": f"{ref} Traders", "mobile": "9876543210", "deleted": False}
    contact |= members.pop("contact", {})
    return Customer.model_validate(
        {
            "customerId": customer_id,
            "uniqueRefNo": ref,
            "legalName": f"{ref} Traders",
            "status": status,
            "contactNumber": "9876543210",
            "state": "Maharashtra",
            "pinCode": "400001",
            "customerKeyContacts": [contact],
            **members,
        }
    )
