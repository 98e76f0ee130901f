"""THE route table of the emulated EnKash API: method, path, operationId, handler, body and envelope.

Every path of the contract (``spec/openapi.yaml``) is here and nowhere else; several are guessed
(x-inferred). When the real path of an operation becomes known, change its line below.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sandbox import handlers as h
from sandbox.answers import EnvelopeKind
from sandbox.call import Call

BodyKind = Literal["none", "json", "multipart", "form"]


@dataclass(frozen=True)
class Route:
    """One operation of the contract."""

    method: str
    path: str
    operation_id: str
    handler: Callable[[Call], Any]
    body: BodyKind = "none"
    envelope: EnvelopeKind = "api"
    #: "bearer" for every business path, "basic" for the token endpoint
    auth: Literal["bearer", "basic"] = "bearer"


_C = "/api/v0/customer"
_I = "/api/v0/invoice"

ROUTES: tuple[Route, ...] = (
    Route(
        "POST", "/oauth/token", "getAuthenticationToken", h.get_authentication_token, "form", "raw", "basic"
    ),
    Route("PUT", _C + "/activate/{customerId}", "activateCustomer", h.activate_customer),
    Route("PUT", _C + "/deactivate/{customerId}", "deactivateCustomer", h.deactivate_customer),
    Route("POST", _C + "/bulk", "createBulkCustomer", h.create_bulk_customer, "multipart"),
    Route("POST", _C + "/bulk/update", "bulkUpdate", h.bulk_update, "multipart"),
    Route("POST", _C + "/search", "searchCustomer", h.search_customer, "json"),
    Route("POST", _C, "createCustomer", h.create_customer, "json"),
    Route("DELETE", _C + "/{customerId}", "deleteCustomerByCustomerId", h.delete_customer),
    Route("PATCH", _C + "/{customerId}", "updateCustomer", h.update_customer, "json"),
    Route("GET", _C + "/{customerId}/contact", "getCustomerContactDetails", h.get_customer_contact_details),
    Route(
        "POST", _C + "/{customerId}/reminder", "createCustomerReminder", h.create_customer_reminder, "json"
    ),
    Route("GET", _C + "/{customerId}/reminder", "getCustomerReminders", h.get_customer_reminders),
    Route("GET", _C + "/{customerId}/reminder/{reminderId}", "getCustomerReminder", h.get_customer_reminder),
    Route(
        "PUT",
        _C + "/{customerId}/reminder/{reminderId}",
        "updateCustomerReminder",
        h.update_customer_reminder,
        "json",
    ),
    Route("DELETE", _C + "/{customerId}/reminder/{reminderId}", "deleteReminder", h.delete_reminder),
    Route("POST", _I, "createInvoice", h.create_invoice, "json"),
    Route("POST", _I + "/bulk/create", "invoiceBulkUpload", h.invoice_bulk_upload, "multipart"),
    Route("POST", _I + "/bulk/dispatch", "dispatchInvoiceCollection", h.dispatch_invoice_collection, "json"),
    Route("POST", _I + "/bulk/delete", "deleteInvoiceCollection", h.delete_invoice_collection, "json"),
    Route("POST", _I + "/search", "searchCollectionInvoices", h.search_collection_invoices, "json"),
    Route(
        "POST",
        _I + "/payment-confirmation",
        "paymentConfirmationRequest",
        h.payment_confirmation_request,
        "json",
        "bc",
    ),
    Route(
        "POST",
        _I + "/change-status",
        "changeInvoiceStatusRequest",
        h.change_invoice_status_request,
        "json",
        "bc",
    ),
    Route("GET", _I + "/{invoiceId}", "getInvoice", h.get_invoice),
    Route("PATCH", _I + "/{invoiceId}", "updateInvoice", h.update_invoice, "json"),
)

#: Operations that change EnKash's data: what a quiet night must not call. Searches are POSTs that
#: only read, and the token call changes nothing the cycle reconciles.
WRITE_OPERATIONS: frozenset[str] = frozenset(
    r.operation_id
    for r in ROUTES
    if r.method != "GET"
    and r.operation_id not in {"getAuthenticationToken", "searchCustomer", "searchCollectionInvoices"}
)

_MATCHERS = [
    (r.method, re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", r.path) + "$"), r.operation_id) for r in ROUTES
]


def operation_of(method: str, path: str) -> str | None:
    """The operationId a request would reach, or None (used to label faults)."""
    for route_method, pattern, operation_id in _MATCHERS:
        if route_method == method and pattern.match(path):
            return operation_id
    return None
