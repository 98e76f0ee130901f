"""The route table: method, path, retry kind and seller-scoping parameter of every operationId.

Several paths are our assumption (``x-inferred`` in spec/openapi.yaml: deactivate, contacts,
reminders, bulk delete, change-status). When the real value is learned, change the one line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from enkash_ar.retry import OperationKind

IDEMPOTENT = OperationKind.IDEMPOTENT
CREATING = OperationKind.CREATING

#: The query parameter that carries the seller's company id, where the spec has one.
ScopeParam = Literal["sellerId", "companyId", "parentCompanyId"]


@dataclass(frozen=True)
class Route:
    """How one operation is called."""

    operation_id: str
    method: str
    path: str
    kind: OperationKind
    scope: ScopeParam | None = None


_ROUTES: Final = (
    Route("getAuthenticationToken", "POST", "/oauth/token", IDEMPOTENT),
    Route("activateCustomer", "PUT", "/api/v0/customer/activate/{customerId}", IDEMPOTENT, "parentCompanyId"),
    Route(
        "deactivateCustomer", "PUT", "/api/v0/customer/deactivate/{customerId}", IDEMPOTENT, "parentCompanyId"
    ),
    Route("createBulkCustomer", "POST", "/api/v0/customer/bulk", CREATING, "companyId"),
    # Applying the same update file twice leaves the same customers: safe to retry like a PATCH.
    Route("bulkUpdate", "POST", "/api/v0/customer/bulk/update", IDEMPOTENT, "parentCompanyId"),
    Route(
        "deleteCustomerByCustomerId", "DELETE", "/api/v0/customer/{customerId}", IDEMPOTENT, "parentCompanyId"
    ),
    Route("updateCustomer", "PATCH", "/api/v0/customer/{customerId}", IDEMPOTENT, "parentCompanyId"),
    Route(
        "getCustomerContactDetails",
        "GET",
        "/api/v0/customer/{customerId}/contact",
        IDEMPOTENT,
        "parentCompanyId",
    ),
    Route("createCustomer", "POST", "/api/v0/customer", CREATING),
    Route("searchCustomer", "POST", "/api/v0/customer/search", IDEMPOTENT),
    Route("createInvoice", "POST", "/api/v0/invoice", CREATING),
    Route("invoiceBulkUpload", "POST", "/api/v0/invoice/bulk/create", CREATING, "sellerId"),
    Route("dispatchInvoiceCollection", "POST", "/api/v0/invoice/bulk/dispatch", CREATING),
    Route("deleteInvoiceCollection", "POST", "/api/v0/invoice/bulk/delete", IDEMPOTENT),
    Route("searchCollectionInvoices", "POST", "/api/v0/invoice/search", IDEMPOTENT),
    Route("getInvoice", "GET", "/api/v0/invoice/{invoiceId}", IDEMPOTENT, "sellerId"),
    Route("updateInvoice", "PATCH", "/api/v0/invoice/{invoiceId}", IDEMPOTENT, "sellerId"),
    Route(
        "createCustomerReminder",
        "POST",
        "/api/v0/customer/{customerId}/reminder",
        CREATING,
        "parentCompanyId",
    ),
    Route(
        "getCustomerReminders", "GET", "/api/v0/customer/{customerId}/reminder", IDEMPOTENT, "parentCompanyId"
    ),
    Route(
        "getCustomerReminder",
        "GET",
        "/api/v0/customer/{customerId}/reminder/{reminderId}",
        IDEMPOTENT,
        "parentCompanyId",
    ),
    Route(
        "updateCustomerReminder",
        "PUT",
        "/api/v0/customer/{customerId}/reminder/{reminderId}",
        IDEMPOTENT,
        "parentCompanyId",
    ),
    Route(
        "deleteReminder",
        "DELETE",
        "/api/v0/customer/{customerId}/reminder/{reminderId}",
        IDEMPOTENT,
        "parentCompanyId",
    ),
    Route("paymentConfirmationRequest", "POST", "/api/v0/invoice/payment-confirmation", CREATING),
    Route("changeInvoiceStatusRequest", "POST", "/api/v0/invoice/change-status", CREATING),
)

#: operationId -> Route, for all 24 operations of the contract.
ROUTES: Final[dict[str, Route]] = {r.operation_id: r for r in _ROUTES}
