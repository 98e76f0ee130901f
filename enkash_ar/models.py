"""Pydantic v2 models of the EnKash AR answers: the envelope and the payloads the API returns.

Attributes are snake_case; on the wire they are the API's names (camelCase, except a few members the
API spells in snake_case, such as ``mail_enabled`` or ``success_file_url``). Answers accept unknown
members: the contract is partly reconstructed and the server may send more.

Request bodies live in ``enkash_ar.request_models`` (re-exported here); the token in ``auth.TokenInfo``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator

from enkash_ar.bulk_template import BulkKind
from enkash_ar.request_models import (
    CAMEL_CASE,
    ChangeInvoiceStatusRequest,
    CreateCustomerRequest,
    CreateInvoiceRequest,
    CustomerKeyContactCreate,
    CustomerReminderCreate,
    CustomerSearchFilters,
    InvoiceSearchFilters,
    PaymentConfirmationRequest,
    UpdateCustomerRequest,
    UpdateInvoiceRequest,
)

if TYPE_CHECKING:
    from enkash_ar.contract_profile import ContractProfile

T = TypeVar("T")

#: Validation context key: the contract profile an answer is read with (``model_validate(..., context=)``).
PROFILE_CONTEXT: Final = "contract_profile"


class WireModel(BaseModel):
    """An answer from the API: camelCase on the wire, tolerant of members we do not know."""

    model_config = ConfigDict(**CAMEL_CASE, extra="allow")


# ---- envelope ---------------------------------------------------------------------------------------


class ErrorResponse(WireModel):
    """``errorResponse`` of the envelope; present only on errors."""

    api_sub_errors: list[dict[str, Any]] = Field(default_factory=list)
    error_message: str | None = None
    error_type: str | None = None
    request_id: str | None = None
    timestamp: str | None = None


class ApiEnvelope(WireModel, Generic[T]):
    """The wrapper of every customer / invoice answer."""

    error_response: ErrorResponse | None = None
    payload: T | None = None
    response_code: int | None = Field(default=None, alias="response_code")
    response_message: str | None = Field(default=None, alias="response_message")


class BcEnvelope(WireModel):
    """The wrapper of the Bharat Connect 2.0 answers (payload is a string)."""

    response_code: int = Field(alias="response_code")
    response_message: str = Field(alias="response_message")
    payload: str = ""


# ---- customers --------------------------------------------------------------------------------------


class CustomerKeyContact(WireModel):
    """A key contact of a customer, as the API returns it."""

    key_contact_person_id: str | None = None
    name: str | None = None
    legal_name: str | None = None
    mobile: str | None = None
    email: str | None = None
    deleted: bool | None = None
    via: str | None = None
    mail_enabled: bool | None = Field(default=None, alias="mail_enabled")
    sms_enabled: bool | None = Field(default=None, alias="sms_enabled")
    whatsapp_enabled: bool | None = Field(default=None, alias="whatsapp_enabled")


class CustomerReminder(WireModel):
    """A reminder schedule as the API returns it."""

    customer_reminder_id: str | None = None
    customer_id: str | None = None
    due_date_difference: int | None = None
    reminder_interval: int | None = None
    reminder_time: str | None = None
    reminder_type: str | None = None
    stage: str | None = None


class Customer(WireModel):
    """A customer (KC… id) as the API returns it."""

    customer_id: str | None = None
    company_id: str | None = None
    legal_name: str | None = None
    status: str | None = None
    unique_ref_no: str | None = None
    account_number: str | None = None
    address: str | None = None
    assigned_agent: str | None = None
    branch_codes: list[str] | None = None
    contact_number: str | None = None
    ifsc: str | None = None
    pan_or_gstin: str | None = None
    pin_code: str | None = None
    state: str | None = None
    customer_key_contacts: list[CustomerKeyContact] = Field(default_factory=list)
    customer_reminders: list[CustomerReminder] = Field(default_factory=list)


# ---- invoices ---------------------------------------------------------------------------------------


class StatusValue(WireModel):
    """A status as invoice answers carry it: ``{label, name}``."""

    name: str | None = None
    label: str | None = None


class InvoiceAttachment(WireModel):
    """An attachment of an invoice."""

    invoice_attachment_id: str | None = None
    attachment_source: str | None = None
    original_filename: str | None = None
    file_ext: str | None = None
    url: str | None = None
    primary: bool | None = None
    shared: bool | None = None
    deleted: bool | None = None


class Invoice(WireModel):
    """An invoice as getInvoice / updateInvoice / search return it."""

    invoice_id: str | None = None
    external_id: str | None = None
    invoice_number: str | None = None
    seller_id: str | None = None
    customer_id: str | None = None
    customer_legal_name: str | None = None
    invoice_date: datetime | None = None
    due_date: date | None = None
    base_amount: float | None = None
    net_amount: float | None = None
    balance_amount: float | None = None
    total_received: float | None = None
    cgst: float | None = None
    sgst: float | None = None
    igst: float | None = None
    tds: float | None = None
    description: str | None = None
    po_number: str | None = None
    payable_reference_id: str | None = None
    partial_payment_allowed: bool | None = None
    dispatched: bool | None = None
    dispatched_on: datetime | None = None
    payment_link: str | None = None
    approval_status: StatusValue | None = None
    receivable_status: StatusValue | None = None
    payout_status: StatusValue | None = None
    via: str | None = None
    attachment_url: str | None = None
    has_key_contacts: bool | None = None
    invoice_attachments: list[InvoiceAttachment] = Field(default_factory=list)
    created_on: datetime | None = None
    modified_on: datetime | None = None
    # When and how the last payment came (x-inferred: the portal shows no such members; Bharat Connect's
    # payment objects carry ts, mode and utr). Absent, a payment is still seen from totalReceived.
    last_payment_on: datetime | None = None
    last_payment_mode: str | None = None
    last_payment_reference: str | None = None

    @field_validator("receivable_status", mode="after")
    @classmethod
    def _canonical_receivable_status(
        cls, value: StatusValue | None, info: ValidationInfo
    ) -> StatusValue | None:
        """Give the status its canonical name (``ReceivableStatus``) when read with a contract profile;
        a name the profile does not know stops the read (``ContractProfile.canonical_name``)."""
        profile: ContractProfile | None = (info.context or {}).get(PROFILE_CONTEXT)
        if profile is None or value is None or value.name is None:
            return value
        return value.model_copy(update={"name": profile.canonical_name(value.name)})


class InvoiceResultItem(WireModel):
    """One invoice's outcome in a dispatch / delete answer."""

    invoice_id: str | None = None
    message: str | None = None


class InvoiceBulkActionResult(WireModel):
    """Answer of dispatchInvoiceCollection / deleteInvoiceCollection."""

    success_invoices: list[InvoiceResultItem] = Field(default_factory=list)
    failure_invoices: list[InvoiceResultItem] = Field(default_factory=list)


class BulkResponse(WireModel):
    """Answer of the bulk uploads: counts and the URLs of the success / failure result files."""

    total_count: int | None = Field(default=None, alias="total_count")
    success_count: int | None = Field(default=None, alias="success_count")
    failure_count: int | None = Field(default=None, alias="failure_count")
    warn_count: int | None = Field(default=None, alias="warn_count")
    failure_count_second_file: int | None = Field(default=None, alias="failure_count_second_file")
    total_amount: float | None = Field(default=None, alias="total_amount")
    success_file_name: str | None = Field(default=None, alias="success_file_name")
    success_file_url: str | None = Field(default=None, alias="success_file_url")
    failure_file_name: str | None = Field(default=None, alias="failure_file_name")
    failure_file_url: str | None = Field(default=None, alias="failure_file_url")
    success_requests: list[Any] = Field(default_factory=list)
    failure_requests: list[Any] = Field(default_factory=list)
    #: Which template the upload used (set by the client; lets empty result frames get their columns).
    _kind: BulkKind | None = PrivateAttr(default=None)

    @property
    def kind(self) -> BulkKind | None:
        """The bulk template this answer belongs to, when the client knows it."""
        return self._kind


__all__ = [
    "PROFILE_CONTEXT",
    "ApiEnvelope",
    "BcEnvelope",
    "BulkResponse",
    "ChangeInvoiceStatusRequest",
    "CreateCustomerRequest",
    "CreateInvoiceRequest",
    "Customer",
    "CustomerKeyContact",
    "CustomerKeyContactCreate",
    "CustomerReminder",
    "CustomerReminderCreate",
    "CustomerSearchFilters",
    "ErrorResponse",
    "Invoice",
    "InvoiceAttachment",
    "InvoiceBulkActionResult",
    "InvoiceResultItem",
    "InvoiceSearchFilters",
    "PaymentConfirmationRequest",
    "StatusValue",
    "UpdateCustomerRequest",
    "UpdateInvoiceRequest",
    "WireModel",
]
