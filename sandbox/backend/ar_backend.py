"""The backend of the emulated EnKash AR service: one database and the operations on it.

Like a moto backend, it holds the state and the business rules and raises the service's own errors
(``sandbox.errors``); it knows nothing of HTTP, envelopes or wire shapes, so every rule can be tested by
calling it directly::

    backend = ArBackend(Store(":memory:"))
    customer = backend.customers.create("CEKSANDBX1", {...})

Each operation takes the company of the caller's token first, then what the request named (path ids,
the JSON body as parsed, an upload) and returns plain data: documents, invoice records, pages, outcomes.
"""

from __future__ import annotations

import json
from typing import Any

from enkash_ar.contract_profile import SHIPPED_PROFILE, ContractProfile
from sandbox.backend.bharat_connect import BharatConnectBackend
from sandbox.backend.bulk_ingest import BulkBackend
from sandbox.backend.customers import CustomerBackend
from sandbox.backend.invoices import InvoiceBackend
from sandbox.backend.payments import PaymentBackend
from sandbox.backend.reminders import ReminderBackend
from sandbox.backend.search import SearchBackend
from sandbox.backend.store import Store
from sandbox.errors import not_found

_ALL_CUSTOMERS = (
    "SELECT customer_id, unique_ref_no, legal_name, status, deleted FROM customers "
    "WHERE (:company IS NULL OR company_id = :company) ORDER BY seq"
)
_ALL_INVOICES = (
    "SELECT invoice_id, external_id, invoice_number, customer_id, dispatched, dispatch_count, "
    "receivable_status, balance_amount, net_amount, deleted FROM invoices "
    "WHERE (:company IS NULL OR seller_id = :company) ORDER BY invoice_id"
)
_ALL_REMINDERS = (
    "SELECT r.doc FROM reminders r WHERE :company IS NULL OR r.customer_id IN "
    "(SELECT customer_id FROM customers WHERE company_id = :company) ORDER BY r.seq"
)
_COUNTS = {
    "customers": "SELECT COUNT(*) FROM customers WHERE :company IS NULL OR company_id = :company",
    "invoices": "SELECT COUNT(*) FROM invoices WHERE :company IS NULL OR seller_id = :company",
    "reminders": f"SELECT COUNT(*) FROM ({_ALL_REMINDERS})",  # noqa: S608 - constant SQL
}


class ArBackend:
    """Customers, reminders, invoices, bulk files and searches over one ``Store``."""

    def __init__(self, store: Store, profile: ContractProfile = SHIPPED_PROFILE) -> None:
        self.store = store
        self.customers = CustomerBackend(store)
        self.reminders = ReminderBackend(store)
        self.invoices = InvoiceBackend(store)
        self.payments = PaymentBackend(store)
        self.bharat_connect = BharatConnectBackend(store, self.payments)
        # File layouts are the one part of the contract profile the backend needs: the rows it reads.
        self.bulk = BulkBackend(store, profile)
        self.search = SearchBackend(store)

    def reset(self) -> None:
        """Delete every record and result file (id counters stay, so no id is handed out twice)."""
        self.store.reset()
        self.payments.reset()
        self.search.marks.forget()

    def result_file(self, name: str) -> bytes:
        """A bulk result file; 404 when no such file was written."""
        content = self.store.result_file(name)
        if content is None:
            raise not_found("File", name)
        return content

    def snapshot(self, *, summary: bool = False, company: str | None = None) -> dict[str, Any]:
        """Counts of every table and, unless ``summary``, every record (deleted ones too), for tests;
        only ``company``'s records when it is given (a sandbox serving several sellers)."""
        answer: dict[str, Any] = {}
        scope = {"company": company}
        with self.store.tx() as conn:
            for table, count in _COUNTS.items():
                answer[f"{table}_count"] = conn.execute(count, scope).fetchone()[0]
            if summary:
                return answer
            answer["customers"] = [
                {
                    "customerId": r[0],
                    "uniqueRefNo": r[1],
                    "legalName": r[2],
                    "status": r[3],
                    "deleted": bool(r[4]),
                }
                for r in conn.execute(_ALL_CUSTOMERS, scope)
            ]
            answer["invoices"] = [
                {
                    "invoiceId": r[0],
                    "externalId": r[1],
                    "invoiceNumber": r[2],
                    "customerId": r[3],
                    "dispatched": bool(r[4]),
                    "dispatch_count": r[5],
                    "receivableStatus": r[6],
                    "balanceAmount": r[7],
                    "netAmount": r[8],
                    "deleted": bool(r[9]),
                }
                for r in conn.execute(_ALL_INVOICES, scope)
            ]
            answer["reminders"] = [json.loads(r[0]) for r in conn.execute(_ALL_REMINDERS, scope)]
        return answer

    def close(self) -> None:
        """Close the database."""
        self.store.close()
