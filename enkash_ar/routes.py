"""The route table: method, path, retry kind and seller-scoping parameter of every operationId.

The paths the portal documents are written here. The method and path of the operations it only lists
in its navigation (``x-inferred`` in spec/openapi.yaml: deactivate, contacts, reminders, bulk delete,
change-status) are guesses: they come from the contract profile (``enkash_ar.contract_profile``), so
a user who learns the real value changes a profile file, not this table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final, Literal

from enkash_ar.contract_profile import INFERRED_OPERATIONS, SHIPPED_PROFILE, ContractProfile
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

    @property
    def reads_only(self) -> bool:
        """Whether the operation only reads (an answer that does not parse leaves nothing in doubt)."""
        return self.operation_id in READ_OPERATIONS or self.method == "GET"


def _guessed(operation_id: str, kind: OperationKind, scope: ScopeParam | None = None) -> Route:
    """An operation whose method and path are the shipped profile's guess."""
    guess = INFERRED_OPERATIONS[operation_id]
    return Route(operation_id, guess.method, guess.path, kind, scope)


_P: Final[ScopeParam] = "parentCompanyId"

_ROUTES: Final = (
    Route("getAuthenticationToken", "POST", "/oauth/token", IDEMPOTENT),
    Route("activateCustomer", "PUT", "/api/v0/customer/activate/{customerId}", IDEMPOTENT, _P),
    _guessed("deactivateCustomer", IDEMPOTENT, _P),
    Route("createBulkCustomer", "POST", "/api/v0/customer/bulk", CREATING, "companyId"),
    # Applying the same update file twice leaves the same customers: safe to retry like a PATCH.
    Route("bulkUpdate", "POST", "/api/v0/customer/bulk/update", IDEMPOTENT, _P),
    Route("deleteCustomerByCustomerId", "DELETE", "/api/v0/customer/{customerId}", IDEMPOTENT, _P),
    Route("updateCustomer", "PATCH", "/api/v0/customer/{customerId}", IDEMPOTENT, _P),
    _guessed("getCustomerContactDetails", IDEMPOTENT, _P),
    Route("createCustomer", "POST", "/api/v0/customer", CREATING),
    Route("searchCustomer", "POST", "/api/v0/customer/search", IDEMPOTENT),
    Route("createInvoice", "POST", "/api/v0/invoice", CREATING),
    Route("invoiceBulkUpload", "POST", "/api/v0/invoice/bulk/create", CREATING, "sellerId"),
    Route("dispatchInvoiceCollection", "POST", "/api/v0/invoice/bulk/dispatch", CREATING),
    _guessed("deleteInvoiceCollection", IDEMPOTENT),
    Route("searchCollectionInvoices", "POST", "/api/v0/invoice/search", IDEMPOTENT),
    Route("getInvoice", "GET", "/api/v0/invoice/{invoiceId}", IDEMPOTENT, "sellerId"),
    Route("updateInvoice", "PATCH", "/api/v0/invoice/{invoiceId}", IDEMPOTENT, "sellerId"),
    _guessed("createCustomerReminder", CREATING, _P),
    _guessed("getCustomerReminders", IDEMPOTENT, _P),
    _guessed("getCustomerReminder", IDEMPOTENT, _P),
    _guessed("updateCustomerReminder", IDEMPOTENT, _P),
    _guessed("deleteReminder", IDEMPOTENT, _P),
    Route("paymentConfirmationRequest", "POST", "/api/v0/invoice/payment-confirmation", CREATING),
    _guessed("changeInvoiceStatusRequest", CREATING),
)

#: Operations that only read: the token, the searches (POSTs that change nothing) and every GET.
READ_OPERATIONS: Final = frozenset(
    {"getAuthenticationToken", "searchCustomer", "searchCollectionInvoices"}
    | {r.operation_id for r in _ROUTES if r.method == "GET"}
)


def routes_for(profile: ContractProfile) -> dict[str, Route]:
    """operationId -> Route, with the guessed operations' method and path taken from ``profile``."""
    table: dict[str, Route] = {}
    for route in _ROUTES:
        guess = profile.route_of(route.operation_id)
        table[route.operation_id] = (
            route if guess is None else replace(route, method=guess.method, path=guess.path)
        )
    return table


#: operationId -> Route, for all 24 operations of the contract, as the shipped profile has them.
ROUTES: Final[dict[str, Route]] = routes_for(SHIPPED_PROFILE)
