"""Request bodies of the EnKash AR API (pydantic v2): what the client sends.

Attributes are snake_case, the wire names camelCase (a few members are snake_case on the wire too,
such as ``mail_enabled``). Unknown members are rejected, so a typo fails here instead of being
silently ignored by the server; search filters are the exception (the server accepts more filters
than the contract lists, so they pass through).

PATCH bodies (``UpdateCustomerRequest``, ``UpdateInvoiceRequest``) follow JsonNullable: the client
sends only the members that were set (``model_dump(exclude_unset=True)``), and an explicit None
clears a member.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from enkash_ar.contract import (
    ACCOUNT_NUMBER_PATTERN,
    COMPANY_ID_PATTERN,
    CUSTOMER_ID_PATTERN,
    IFSC_PATTERN,
    MIN_BASE_AMOUNT,
    MOBILE_PATTERN,
    REMINDER_TIME_PATTERN,
    ApprovalStatus,
    ReminderType,
)

#: camelCase on the wire, snake_case in Python, either accepted on input (every model of the API).
CAMEL_CASE = ConfigDict(
    alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
)


class RequestModel(BaseModel):
    """A request body: camelCase on the wire, unknown members rejected."""

    model_config = ConfigDict(**CAMEL_CASE, extra="forbid")


class SearchFilters(BaseModel):
    """A search body: camelCase on the wire, members we do not list pass through unchanged."""

    model_config = ConfigDict(**CAMEL_CASE, extra="allow")


class CustomerKeyContactCreate(RequestModel):
    """A key contact in createCustomer / updateCustomer bodies (CustomerKeyContactCreateDTO)."""

    name: str
    legal_name: str
    mobile: str = Field(pattern=MOBILE_PATTERN)
    deleted: bool = False
    email: str | None = None
    key_contact_person_id: str | None = None
    via: str | None = None
    mail_enabled: bool | None = Field(default=None, alias="mail_enabled")
    sms_enabled: bool | None = Field(default=None, alias="sms_enabled")
    whatsapp_enabled: bool | None = Field(default=None, alias="whatsapp_enabled")


class CustomerReminderCreate(RequestModel):
    """A reminder schedule in request bodies (CustomerReminderCreateDTO)."""

    customer_reminder_id: str | None = None
    due_date_difference: int | None = None
    reminder_interval: int | None = None
    reminder_time: str | None = Field(default=None, pattern=REMINDER_TIME_PATTERN)
    reminder_type: ReminderType | None = None
    stage: str | None = None


class CreateCustomerRequest(RequestModel):
    """Body of createCustomer. ``company_id`` defaults to the client's seller id when left out."""

    legal_name: str
    customer_key_contacts: list[CustomerKeyContactCreate] = Field(min_length=1)
    company_id: str | None = Field(default=None, pattern=COMPANY_ID_PATTERN)
    unique_ref_no: str | None = None
    account_number: str | None = Field(default=None, pattern=ACCOUNT_NUMBER_PATTERN)
    address: str | None = None
    assigned_agent: str | None = None
    branch_codes: list[str] | None = None
    contact_number: str | None = Field(default=None, pattern=MOBILE_PATTERN)
    customer_company_id: str | None = None
    customer_reminders: list[CustomerReminderCreate] | None = None
    external_source: bool | None = None
    ifsc: str | None = Field(default=None, pattern=IFSC_PATTERN)
    pan_or_gstin: str | None = None
    pin_code: str | None = None
    state: str | None = None


class UpdateCustomerRequest(RequestModel):
    """Body of updateCustomer (JsonNullable members): only the members you set are sent.

    Leave a member out to keep it, set it to None to clear it.
    """

    legal_name: str | None = None
    unique_ref_no: str | None = None
    account_number: str | None = Field(default=None, pattern=ACCOUNT_NUMBER_PATTERN)
    address: str | None = None
    assigned_agent: str | None = None
    branch_codes: list[str] | None = None
    contact_number: str | None = Field(default=None, pattern=MOBILE_PATTERN)
    customer_id: str | None = Field(default=None, pattern=CUSTOMER_ID_PATTERN)
    customer_key_contacts: list[CustomerKeyContactCreate] | None = None
    customer_reminders: list[CustomerReminderCreate] | None = None
    ifsc: str | None = Field(default=None, pattern=IFSC_PATTERN)
    pan_or_gstin: str | None = None
    pin_code: str | None = None
    state: str | None = None


class CustomerSearchFilters(SearchFilters):
    """Body of searchCustomer. ``unique_ref_nos`` is this project's extra filter; others pass through."""

    account_number: str | None = None
    assigned_agent: str | None = None
    legal_name: str | None = None
    status: str | None = None
    unique_ref_nos: list[str] | None = None
    customer_ids: list[str] | None = None


class CreateInvoiceRequest(RequestModel):
    """Body of createInvoice. ``seller_id`` defaults to the client's seller id when left out."""

    customer_id: str = Field(pattern=CUSTOMER_ID_PATTERN)
    due_date: date
    base_amount: float = Field(ge=MIN_BASE_AMOUNT)
    external_id: str | None = None
    invoice_number: str | None = None
    invoice_date: datetime | None = None
    seller_id: str | None = Field(default=None, pattern=COMPANY_ID_PATTERN)
    approval_status: ApprovalStatus | None = None
    balance_amount: float | None = None
    net_amount: float | None = None
    total_received: float | None = None
    cgst: float | None = None
    sgst: float | None = None
    igst: float | None = None
    tds: float | None = None
    charge_customer: bool | None = None
    gst_exclusive: bool | None = None
    partial_payment_allowed: bool | None = None
    dispatch_now: bool | None = None
    description: str | None = None
    email_address: str | None = None
    mobile_number: str | None = None
    po_number: str | None = None
    payable_reference_id: str | None = None
    receivable_status: str | None = None
    via: str | None = None


class UpdateInvoiceRequest(RequestModel):
    """Body of updateInvoice (JsonNullable members): only the members you set are sent."""

    customer_id: str | None = Field(default=None, pattern=CUSTOMER_ID_PATTERN)
    due_date: date | None = None
    base_amount: float | None = Field(default=None, ge=MIN_BASE_AMOUNT)
    invoice_number: str | None = None
    invoice_date: datetime | None = None
    approval_status: ApprovalStatus | None = None
    balance_amount: float | None = None
    net_amount: float | None = None
    total_received: float | None = None
    cgst: float | None = None
    sgst: float | None = None
    igst: float | None = None
    tds: float | None = None
    charge_customer: bool | None = None
    gst_exclusive: bool | None = None
    partial_payment_allowed: bool | None = None
    dispatch_now: bool | None = None
    description: str | None = None
    email_address: str | None = None
    mobile_number: str | None = None
    po_number: str | None = None
    payable_reference_id: str | None = None
    receivable_status: str | None = None
    via: str | None = None


class InvoiceSearchFilters(SearchFilters):
    """Body of searchCollectionInvoices. Range filters are ``yyyy-MM-dd HH:mm:ss`` strings.

    ``external_ids``, ``invoice_numbers`` and ``receivable_statuses`` are this project's extra
    filters; members not listed here pass through unchanged.
    """

    customer_ids: list[str] | None = None
    external_ids: list[str] | None = None
    invoice_numbers: list[str] | None = None
    receivable_statuses: list[str] | None = None
    approval_statuses: list[ApprovalStatus] | None = None
    dispatched: bool | None = None
    customer_legal_name: str | None = None
    customer_status: str | None = None
    customer_deleted: bool | None = None
    created_via: str | None = None
    collection_mode: list[str] | None = None
    balance_amount_from: float | None = None
    balance_amount_to: float | None = None
    base_amount_from: float | None = None
    base_amount_to: float | None = None
    created_on_from: str | None = None
    created_on_to: str | None = None
    dispatched_on_from: str | None = None
    dispatched_on_to: str | None = None
    due_date_from: str | None = None
    due_date_to: str | None = None


class PaymentConfirmationRequest(RequestModel):
    """Body of paymentConfirmationRequest (supplier confirms a buyer's payment)."""

    invoice_ids: list[str] = Field(min_length=1)
    payment_id: str
    remarks: str
    response: str
    type: str


class ChangeInvoiceStatusRequest(RequestModel):
    """Body of changeInvoiceStatusRequest (x-inferred)."""

    invoice_ids: list[str] = Field(min_length=1)
    remarks: str
    status: str
