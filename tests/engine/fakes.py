"""A fake EnKash for the engine's unit tests: in-memory records, and scripted failures per operation.

It implements just the client methods the exactly-once writes and the reminder policy call. A script
entry decides what the next call of an operation does:

- ``"lost"``: EnKash does the work, then the answer is lost (``OutcomeUnknownError``);
- ``"refused"``: a 429 after the client's retries (``RateLimitError``), nothing done;
- ``"unknown"``: nothing done, and no answer either (``OutcomeUnknownError``);
- an exception instance: raised as it is, nothing done.

Calls sent side by side (the invoice patches, the reminders) reach the fake in no fixed order, so what
one record's call does is scripted by its id instead (``by_record``), taken before the operation's queue.

Searches answer with the client's full frame schemas (``frames.INVOICE_SCHEMA``, ``CUSTOMER_SCHEMA``).
"""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from enkash_ar.errors import NotFoundError, OutcomeUnknownError, RateLimitError, ValidationError
from enkash_ar.frames import CUSTOMER_SCHEMA, INVOICE_SCHEMA
from enkash_ar.models import (
    Customer,
    CustomerReminder,
    CustomerReminderCreate,
    Invoice,
    InvoiceBulkActionResult,
)

SELLER = "CEKSANDBX1"


@dataclass
class _Answer:
    success: pl.DataFrame
    failure: pl.DataFrame


@dataclass
class FakeEnkash:
    """In-memory customers, invoices and reminders of one seller, with a failure script per operation."""

    seller_id: str = SELLER
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    reminders: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    script: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    #: one step for one record's call, whenever it comes: (operation, record id) -> step
    by_record: dict[tuple[str, str], Any] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    #: keys a bulk upload refuses row by row: key -> reason
    refuse_rows: dict[str, str] = field(default_factory=dict)
    #: PATCH members that EnKash refuses to set to null (a 400, as a contract with no clearing would)
    refuse_null: set[str] = field(default_factory=set)
    #: added to every rowNumber of invoiceBulkUpload's result files (a server that numbers rows
    #: differently from the contract profile); each result row also echoes the row's externalId
    result_row_shift: int = 0
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    #: calls from several threads count and take their steps one at a time
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ---- scripting ---------------------------------------------------------------------------

    def _next(self, operation: str, record_id: str | None) -> Any:
        with self._lock:
            self.calls[operation] += 1
            if (operation, record_id) in self.by_record:
                return self.by_record.pop((operation, record_id))
            queue = self.script.setdefault(operation, [])
            return queue.pop(0) if queue else None

    def _before(self, operation: str, record_id: str | None = None) -> Any:
        step = self._next(operation, record_id)
        if step == "refused":
            raise RateLimitError(operation=operation, status_code=429)
        if step == "unknown":
            raise OutcomeUnknownError(f"{operation}: no answer (scripted)", operation=operation)
        if isinstance(step, BaseException):
            raise step
        return step

    @staticmethod
    def _after(operation: str, step: Any) -> None:
        if step == "lost":
            raise OutcomeUnknownError(
                f"{operation}: answer lost after the work (scripted)", operation=operation
            )

    # ---- customers ---------------------------------------------------------------------------

    def create_bulk_customer(self, rows: pl.DataFrame) -> _Answer:
        step = self._before("createBulkCustomer")
        ok, bad = [], []
        for number, row in enumerate(rows.iter_rows(named=True), start=1):
            if row["uniqueRefNo"] in self.refuse_rows:
                bad.append(
                    {
                        "rowNumber": number,
                        "field": "contactNumber",
                        "reason": self.refuse_rows[row["uniqueRefNo"]],
                    }
                )
                continue
            customer_id = f"KC{next(self._ids):014d}"
            self.customers[customer_id] = {
                "customerId": customer_id,
                "uniqueRefNo": row["uniqueRefNo"],
                "status": "ACTIVE",
            }
            ok.append({"rowNumber": number, "customerId": customer_id})
        self._after("createBulkCustomer", step)
        return _Answer(_frame(ok, ["rowNumber", "customerId"]), _frame(bad, ["rowNumber", "field", "reason"]))

    def bulk_update(self, rows: pl.DataFrame) -> _Answer:
        self._before("bulkUpdate")
        ok = [
            {"rowNumber": n, "customerId": r["customerId"]}
            for n, r in enumerate(rows.iter_rows(named=True), 1)
        ]
        return _Answer(_frame(ok, ["rowNumber", "customerId"]), _frame([], ["rowNumber", "field", "reason"]))

    def search_customers_frame(self, filters: Any = None) -> pl.DataFrame:
        self._before("searchCustomer")
        rows = [
            {k: c.get(k) for k in CUSTOMER_SCHEMA} for c in self.customers.values() if not c.get("deleted")
        ]
        return pl.DataFrame(rows, schema=CUSTOMER_SCHEMA)

    def search_all_customers(self, filters: Any = None) -> list[Customer]:
        self._before("searchCustomer")
        return [Customer.model_validate(c) for c in self.customers.values() if not c.get("deleted")]

    def _set_status(self, operation: str, customer_id: str, status: str) -> Customer:
        step = self._before(operation)
        self.customers[customer_id]["status"] = status
        self._after(operation, step)
        return Customer.model_validate(self.customers[customer_id])

    def deactivate_customer(self, customer_id: str) -> Customer:
        return self._set_status("deactivateCustomer", customer_id, "INACTIVE")

    def activate_customer(self, customer_id: str) -> Customer:
        return self._set_status("activateCustomer", customer_id, "ACTIVE")

    def update_customer(self, customer_id: str, changes: dict[str, Any]) -> Customer:
        """JsonNullable PATCH: a member set to None is cleared; ``refuse_null`` members are refused."""
        step = self._before("updateCustomer")
        if refused := sorted(n for n, v in changes.items() if v is None and n in self.refuse_null):
            raise ValidationError(
                operation="updateCustomer",
                status_code=400,
                error_type="VALIDATION_ERROR",
                error_message=f"{refused[0]}: must not be null",
            )
        customer = self.customers[customer_id]
        for name, value in changes.items():
            if value is None:
                customer.pop(name, None)
            else:
                customer[name] = value
        self._after("updateCustomer", step)
        return Customer.model_validate(customer)

    # ---- invoices ----------------------------------------------------------------------------

    def invoice_bulk_upload(self, rows: pl.DataFrame) -> _Answer:
        step = self._before("invoiceBulkUpload")
        ok, bad = [], []
        for number, row in enumerate(rows.iter_rows(named=True), start=1):
            if row["externalId"] in self.refuse_rows:
                bad.append(
                    {
                        "rowNumber": number,
                        "field": "baseAmount",
                        "reason": self.refuse_rows[row["externalId"]],
                    }
                )
                continue
            invoice_id = f"IN{next(self._ids):014d}"
            self.invoices[invoice_id] = {
                "invoiceId": invoice_id,
                "externalId": row["externalId"],
                "customerId": row["customerId"],
                "dispatched": False,
                "dispatchCount": 0,
                "deleted": False,
                "receivableStatus": "UNPAID",
                "totalReceived": 0.0,
            }
            ok.append(
                {
                    "rowNumber": number + self.result_row_shift,
                    "invoiceId": invoice_id,
                    "externalId": row["externalId"],
                }
            )
        self._after("invoiceBulkUpload", step)
        return _Answer(
            _frame(ok, ["rowNumber", "invoiceId", "externalId"]),
            _frame(bad, ["rowNumber", "field", "reason"]),
        )

    def bulk_results(self, answer: _Answer) -> tuple[pl.DataFrame, pl.DataFrame]:
        self._before("downloadResultFile")
        return answer.success, answer.failure

    def search_invoices_frame(
        self, filters: dict[str, Any] | None = None, columns: Sequence[str] | None = None
    ) -> pl.DataFrame:
        self._before("searchCollectionInvoices")
        rows = [i for i in self.invoices.values() if not i["deleted"]]
        if filters and filters.get("dispatched") is True:
            rows = [i for i in rows if i["dispatched"]]
        if filters and filters.get("customerIds"):
            rows = [i for i in rows if i["customerId"] in filters["customerIds"]]
        frame = pl.DataFrame([{k: i.get(k) for k in INVOICE_SCHEMA} for i in rows], schema=INVOICE_SCHEMA)
        return frame if columns is None else frame.select(columns)

    def dispatch_invoice_collection(
        self, invoice_ids: Sequence[str], *, partial_payment_allowed: bool | None = None
    ) -> InvoiceBulkActionResult:
        step = self._before("dispatchInvoiceCollection")
        done, refused = [], []
        for invoice_id in invoice_ids:
            invoice = self.invoices[invoice_id]
            if invoice["externalId"] in self.refuse_rows:
                refused.append({"invoiceId": invoice_id, "message": self.refuse_rows[invoice["externalId"]]})
                continue
            invoice["dispatched"] = True
            invoice["dispatchCount"] += 1
            done.append({"invoiceId": invoice_id})
        self._after("dispatchInvoiceCollection", step)
        return InvoiceBulkActionResult.model_validate({"successInvoices": done, "failureInvoices": refused})

    def delete_invoice_collection(self, invoice_ids: Sequence[str]) -> InvoiceBulkActionResult:
        step = self._before("deleteInvoiceCollection")
        done, missing = [], []
        for invoice_id in invoice_ids:
            invoice = self.invoices.get(invoice_id)
            if invoice is None or invoice["deleted"]:
                missing.append({"invoiceId": invoice_id, "message": "Invoice not found"})
            else:
                invoice["deleted"] = True
                done.append({"invoiceId": invoice_id})
        self._after("deleteInvoiceCollection", step)
        return InvoiceBulkActionResult.model_validate({"successInvoices": done, "failureInvoices": missing})

    def update_invoice(self, invoice_id: str, changes: dict[str, Any]) -> Invoice:
        step = self._before("updateInvoice", invoice_id)
        invoice = self.invoices[invoice_id]
        if invoice["deleted"]:
            raise NotFoundError(operation="updateInvoice", status_code=404)
        invoice.update(changes)
        self._after("updateInvoice", step)
        return Invoice.model_validate({"invoiceId": invoice_id})

    # ---- reminders ---------------------------------------------------------------------------

    def get_customer_reminders(self, customer_id: str) -> list[CustomerReminder]:
        self._before("getCustomerReminders")
        return [CustomerReminder.model_validate(r) for r in self.reminders[customer_id]]

    def create_customer_reminder(self, customer_id: str, body: CustomerReminderCreate) -> CustomerReminder:
        step = self._before("createCustomerReminder")
        doc = {**body.model_dump(by_alias=True, mode="json"), "customerReminderId": f"RM{next(self._ids)}"}
        self.reminders[customer_id].append(doc)
        self._after("createCustomerReminder", step)
        return CustomerReminder.model_validate(doc)

    def update_customer_reminder(
        self, customer_id: str, reminder_id: str, body: CustomerReminderCreate
    ) -> CustomerReminder:
        self._before("updateCustomerReminder")
        for doc in self.reminders[customer_id]:
            if doc["customerReminderId"] == reminder_id:
                doc.update(body.model_dump(by_alias=True, mode="json"))
                return CustomerReminder.model_validate(doc)
        raise AssertionError(f"no reminder {reminder_id}")

    def delete_reminder(self, customer_id: str, reminder_id: str) -> str:
        step = self._before("deleteReminder")
        self.reminders[customer_id] = [
            r for r in self.reminders[customer_id] if r["customerReminderId"] != reminder_id
        ]
        self._after("deleteReminder", step)
        return "deleted"

    # ---- what a user would check ---------------------------------------------------------------

    def live_invoices(self, external_id: str) -> list[dict[str, Any]]:
        """The live copies of an invoice number."""
        return [i for i in self.invoices.values() if i["externalId"] == external_id and not i["deleted"]]

    def add_invoice(self, external_id: str, customer_id: str, **members: Any) -> str:
        """An invoice EnKash already holds (an earlier night's), undispatched and unpaid unless told."""
        invoice_id = f"IN{next(self._ids):014d}"
        self.invoices[invoice_id] = {
            "invoiceId": invoice_id,
            "externalId": external_id,
            "customerId": customer_id,
            "dispatched": False,
            "dispatchCount": 0,
            "deleted": False,
            "receivableStatus": "UNPAID",
            "totalReceived": 0.0,
            **members,
        }
        return invoice_id

    def add_customer(self, ref: str, **members: Any) -> str:
        """A customer EnKash already holds, ACTIVE unless told."""
        customer_id = f"KC{next(self._ids):014d}"
        self.customers[customer_id] = {
            "customerId": customer_id,
            "uniqueRefNo": ref,
            "status": "ACTIVE",
            **members,
        }
        return customer_id


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String) | {"rowNumber": pl.Int64})
