"""enkash_ar: the EnKash Account Receivable SDK: a typed, retrying client (no Prefect, no sync engine).

Example:
    >>> from enkash_ar import EnkashClient
    >>> with EnkashClient.from_settings() as client:  # doctest: +SKIP
    ...     print(client.warm_token())
"""

from enkash_ar.auth import TokenInfo
from enkash_ar.bulk_files import BulkFileError
from enkash_ar.client import EnkashClient
from enkash_ar.contract_profile import SHIPPED_PROFILE, ContractProfile
from enkash_ar.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ContractMismatchError,
    EnkashError,
    ForbiddenError,
    InvalidAccessError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitError,
    ServerError,
    TransportError,
    UnauthorizedError,
    UnexpectedResponseError,
    UnprocessableError,
    ValidationError,
)
from enkash_ar.models import (
    ApiEnvelope,
    BcEnvelope,
    BulkResponse,
    ChangeInvoiceStatusRequest,
    CreateCustomerRequest,
    CreateInvoiceRequest,
    Customer,
    CustomerKeyContact,
    CustomerKeyContactCreate,
    CustomerReminder,
    CustomerReminderCreate,
    CustomerSearchFilters,
    Invoice,
    InvoiceBulkActionResult,
    InvoiceResultItem,
    InvoiceSearchFilters,
    PaymentConfirmationRequest,
    StatusValue,
    UpdateCustomerRequest,
    UpdateInvoiceRequest,
)
from enkash_ar.profile_files import load_profile
from enkash_ar.settings import EnkashSettings

__all__ = [
    "SHIPPED_PROFILE",
    "APIError",
    "ApiEnvelope",
    "AuthenticationError",
    "BadRequestError",
    "BcEnvelope",
    "BulkFileError",
    "BulkResponse",
    "ChangeInvoiceStatusRequest",
    "ContractMismatchError",
    "ContractProfile",
    "CreateCustomerRequest",
    "CreateInvoiceRequest",
    "Customer",
    "CustomerKeyContact",
    "CustomerKeyContactCreate",
    "CustomerReminder",
    "CustomerReminderCreate",
    "CustomerSearchFilters",
    "EnkashClient",
    "EnkashError",
    "EnkashSettings",
    "ForbiddenError",
    "InvalidAccessError",
    "Invoice",
    "InvoiceBulkActionResult",
    "InvoiceResultItem",
    "InvoiceSearchFilters",
    "NotFoundError",
    "OutcomeUnknownError",
    "PaymentConfirmationRequest",
    "RateLimitError",
    "ServerError",
    "StatusValue",
    "TokenInfo",
    "TransportError",
    "UnauthorizedError",
    "UnexpectedResponseError",
    "UnprocessableError",
    "UpdateCustomerRequest",
    "UpdateInvoiceRequest",
    "ValidationError",
    "load_profile",
]
