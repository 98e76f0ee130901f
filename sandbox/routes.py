"""THE route table of the emulated EnKash API: method, path, operationId, handler, body and envelope.

The paths the portal documents are written here. The method and path of the operations it lists
without a page (x-inferred in ``spec/openapi.yaml``) are the contract profile's guesses
(``enkash_ar.contract_profile.INFERRED_OPERATIONS``): ``routes_for(profile)`` gives the table a sandbox
playing that profile serves, so the client and the sandbox follow one profile file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from enkash_ar.contract_profile import SHIPPED_PROFILE, ContractProfile
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
#: Stands in for the method and path of a guessed operation: ``routes_for`` fills them from a profile.
_GUESSED = "(profile)"

_TABLE: tuple[Route, ...] = (
    Route(
        "POST", "/oauth/token", "getAuthenticationToken", h.get_authentication_token, "form", "raw", "basic"
    ),
    Route("PUT", _C + "/activate/{customerId}", "activateCustomer", h.activate_customer),
    Route(_GUESSED, _GUESSED, "deactivateCustomer", h.deactivate_customer),
    Route("POST", _C + "/bulk", "createBulkCustomer", h.create_bulk_customer, "multipart"),
    Route("POST", _C + "/bulk/update", "bulkUpdate", h.bulk_update, "multipart"),
    Route("POST", _C + "/search", "searchCustomer", h.search_customer, "json"),
    Route("POST", _C, "createCustomer", h.create_customer, "json"),
    Route("DELETE", _C + "/{customerId}", "deleteCustomerByCustomerId", h.delete_customer),
    Route("PATCH", _C + "/{customerId}", "updateCustomer", h.update_customer, "json"),
    Route(_GUESSED, _GUESSED, "getCustomerContactDetails", h.get_customer_contact_details),
    Route(_GUESSED, _GUESSED, "createCustomerReminder", h.create_customer_reminder, "json"),
    Route(_GUESSED, _GUESSED, "getCustomerReminders", h.get_customer_reminders),
    Route(_GUESSED, _GUESSED, "getCustomerReminder", h.get_customer_reminder),
    Route(
        _GUESSED,
        _GUESSED,
        "updateCustomerReminder",
        h.update_customer_reminder,
        "json",
    ),
    Route(_GUESSED, _GUESSED, "deleteReminder", h.delete_reminder),
    Route("POST", _I, "createInvoice", h.create_invoice, "json"),
    Route("POST", _I + "/bulk/create", "invoiceBulkUpload", h.invoice_bulk_upload, "multipart"),
    Route("POST", _I + "/bulk/dispatch", "dispatchInvoiceCollection", h.dispatch_invoice_collection, "json"),
    Route(_GUESSED, _GUESSED, "deleteInvoiceCollection", h.delete_invoice_collection, "json"),
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
        _GUESSED,
        _GUESSED,
        "changeInvoiceStatusRequest",
        h.change_invoice_status_request,
        "json",
        "bc",
    ),
    Route("GET", _I + "/{invoiceId}", "getInvoice", h.get_invoice),
    Route("PATCH", _I + "/{invoiceId}", "updateInvoice", h.update_invoice, "json"),
)


def routes_for(profile: ContractProfile) -> tuple[Route, ...]:
    """The table a sandbox playing ``profile`` serves: guessed operations at the profile's paths."""
    table = []
    for route in _TABLE:
        guess = profile.route_of(route.operation_id)
        table.append(route if guess is None else replace(route, method=guess.method, path=guess.path))
    return tuple(table)


#: The table of the shipped profile.
ROUTES: tuple[Route, ...] = routes_for(SHIPPED_PROFILE)

#: Operations that change EnKash's data: what a quiet night must not call. Searches are POSTs that
#: only read, and the token call changes nothing the cycle reconciles.
WRITE_OPERATIONS: frozenset[str] = frozenset(
    r.operation_id
    for r in ROUTES
    if r.method != "GET"
    and r.operation_id not in {"getAuthenticationToken", "searchCustomer", "searchCollectionInvoices"}
)


class OperationResolver:
    """Which operationId a request reaches in one route table (labels faults)."""

    def __init__(self, routes: tuple[Route, ...]) -> None:
        self._matchers = [
            (r.method, re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", r.path) + "$"), r.operation_id)
            for r in routes
        ]

    def __call__(self, method: str, path: str) -> str | None:
        """The operationId of ``method path``, or None."""
        for route_method, pattern, operation_id in self._matchers:
            if route_method == method and pattern.match(path):
                return operation_id
        return None


#: The operationId a request would reach in the shipped table, or None.
operation_of = OperationResolver(ROUTES)
