"""``EnkashClient``: one typed method per operation of the EnKash Account Receivable API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import polars as pl
from pydantic import BaseModel

from enkash_ar._base_client import BaseClient
from enkash_ar._constants import DEFAULT_PAGE_SIZE, DEFAULT_SEARCH_LIMIT
from enkash_ar.auth import TokenInfo
from enkash_ar.bulk_files import FileFormat, decode_result_file, empty_result_frame, encode_bulk_file
from enkash_ar.bulk_template import CUSTOMER_CREATE, CUSTOMER_UPDATE, INVOICE_CREATE, TEMPLATES, BulkTemplate
from enkash_ar.contract import SortDirection
from enkash_ar.errors import make_api_error
from enkash_ar.frames import INVOICE_SCHEMA, concat_frames, customers_frame, invoices_frame, unique_rows
from enkash_ar.models import (
    BcEnvelope,
    BulkResponse,
    ChangeInvoiceStatusRequest,
    CreateCustomerRequest,
    CreateInvoiceRequest,
    Customer,
    CustomerKeyContact,
    CustomerReminder,
    CustomerReminderCreate,
    CustomerSearchFilters,
    Invoice,
    InvoiceBulkActionResult,
    InvoiceSearchFilters,
    PaymentConfirmationRequest,
    UpdateCustomerRequest,
    UpdateInvoiceRequest,
)
from enkash_ar.paging import collect_pages, iter_pages, paging_params, unique_by
from enkash_ar.retry import OperationKind
from enkash_ar.routes import ROUTES, Route
from enkash_ar.settings import ConnectionFields, EnkashSettings

M = TypeVar("M", bound=BaseModel)
Body = Mapping[str, Any]


def _model(cls: type[M], value: M | Body) -> M:
    return value if isinstance(value, cls) else cls.model_validate(value)


def _create_body(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def _patch_body(model: BaseModel) -> dict[str, Any]:
    # JsonNullable: a member left out stays unchanged, a member set to None is cleared.
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)


class EnkashClient(BaseClient):
    """Typed, retrying client of the EnKash AR API around one pooled, thread-safe httpx client.

    Example:
        >>> from enkash_ar import EnkashClient, CreateInvoiceRequest
        >>> with EnkashClient.from_settings() as client:  # doctest: +SKIP
        ...     invoice = client.create_invoice(CreateInvoiceRequest(
        ...         customer_id="KC0000000000ABCD", due_date="2025-08-31", base_amount=1180.0,
        ...         external_id="INV-2025-0001"))
        ...     open_invoices = client.search_invoices_frame({"receivableStatuses": ["UNPAID"]})
    """

    @classmethod
    def from_settings(cls, settings: EnkashSettings | None = None, **options: Any) -> EnkashClient:
        """Build a client from ``EnkashSettings`` (read from ``ENKASH_*`` when not given).

        Args:
            settings: the settings; ``EnkashSettings()`` (the environment) when None.
            **options: further keyword options of the constructor (``transport``, ``sleeper`` ...).
        """
        return cls.from_config(settings or EnkashSettings(), **options)

    @classmethod
    def from_config(cls, s: ConnectionFields, **options: Any) -> EnkashClient:
        """Build a client from any ``ConnectionFields`` (the settings or the Prefect block).

        Args:
            s: the connection.
            **options: further keyword options of the constructor (``transport``, ``token_guard`` ...).
        """
        return cls(
            base_url=s.base_url,
            client_id=s.client_id,
            client_secret=s.client_secret,
            username=s.username,
            password=s.password,
            seller_id=s.seller_id,
            timeout=s.timeout,
            max_retries=s.max_retries,
            **options,
        )

    def __enter__(self) -> EnkashClient:
        return self

    # ---- token ---------------------------------------------------------------------------------

    def get_authentication_token(self) -> TokenInfo:
        """getAuthenticationToken: fetch a new token (and use it from now on)."""
        return self._auth.fetch_now()

    def warm_token(self) -> datetime:
        """Make sure a valid token is cached (fetching one only if needed); return its expiry."""
        return self._auth.token().expires_at

    # ---- customers -----------------------------------------------------------------------------

    def create_customer(self, request: CreateCustomerRequest | Body) -> Customer:
        """createCustomer. ``companyId`` defaults to this client's seller id.

        Raises:
            OutcomeUnknownError: the answer was lost; search by ``uniqueRefNo`` before resending.
        """
        model = _model(CreateCustomerRequest, request)
        if model.company_id is None:
            model = model.model_copy(update={"company_id": self.seller_id})
        return self._call(ROUTES["createCustomer"], Customer, json=_create_body(model))

    def update_customer(self, customer_id: str, changes: UpdateCustomerRequest | Body) -> Customer:
        """updateCustomer (PATCH): only the members present in ``changes`` are sent; None clears."""
        body = _patch_body(_model(UpdateCustomerRequest, changes))
        return self._call(
            ROUTES["updateCustomer"], Customer, path_params={"customerId": customer_id}, json=body
        )

    def activate_customer(self, customer_id: str) -> Customer:
        """activateCustomer: set the customer ACTIVE."""
        return self._call(ROUTES["activateCustomer"], Customer, path_params={"customerId": customer_id})

    def deactivate_customer(self, customer_id: str) -> Customer:
        """deactivateCustomer: set the customer INACTIVE."""
        return self._call(ROUTES["deactivateCustomer"], Customer, path_params={"customerId": customer_id})

    def delete_customer_by_customer_id(self, customer_id: str) -> str:
        """deleteCustomerByCustomerId; returns the server's message."""
        return self._call(
            ROUTES["deleteCustomerByCustomerId"],
            str,
            path_params={"customerId": customer_id},
            missing_means_done=True,
        )

    def get_customer_contact_details(self, customer_id: str) -> list[CustomerKeyContact]:
        """getCustomerContactDetails: the key contacts of a customer."""
        return self._call(
            ROUTES["getCustomerContactDetails"],
            list[CustomerKeyContact],
            path_params={"customerId": customer_id},
        )

    def search_customer(
        self,
        filters: CustomerSearchFilters | Body | None = None,
        *,
        offset: int = 0,
        limit: int = DEFAULT_SEARCH_LIMIT,
        order_by: str | None = None,
        direction: SortDirection | str | None = None,
    ) -> list[Customer]:
        """searchCustomer: one page of customers matching ``filters`` (e.g. ``{"uniqueRefNos": [...]}``)."""
        body = _create_body(_model(CustomerSearchFilters, filters or {}))
        return self._call(
            ROUTES["searchCustomer"],
            list[Customer],
            json=body,
            params=paging_params(offset, limit, order_by, direction),
        )

    def search_all_customers(
        self,
        filters: CustomerSearchFilters | Body | None = None,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        order_by: str | None = "customerId",
    ) -> list[Customer]:
        """Every customer matching ``filters``, paged through with ``offset`` until a short page."""
        pages = collect_pages(
            lambda offset, limit: self.search_customer(
                filters, offset=offset, limit=limit, order_by=order_by, direction=SortDirection.ASC
            ),
            page_size,
        )
        return unique_by(pages, "customer_id")

    def search_customers_frame(
        self,
        filters: CustomerSearchFilters | Body | None = None,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        order_by: str | None = "customerId",
    ) -> pl.DataFrame:
        """Every customer matching ``filters`` as a frame (``frames.CUSTOMER_SCHEMA``)."""
        return customers_frame(self.search_all_customers(filters, page_size=page_size, order_by=order_by))

    def create_bulk_customer(self, rows: pl.DataFrame, *, file_format: FileFormat = "csv") -> BulkResponse:
        """createBulkCustomer: upload ``rows`` (template ``bulk_template.CUSTOMER_CREATE``).

        Raises:
            BulkFileError: the frame's columns do not fit the template (nothing was sent).
            OutcomeUnknownError: the answer was lost; search by ``uniqueRefNo`` before resending.
        """
        return self._upload(ROUTES["createBulkCustomer"], CUSTOMER_CREATE, rows, file_format)

    def bulk_update(self, rows: pl.DataFrame, *, file_format: FileFormat = "csv") -> BulkResponse:
        """bulkUpdate: upload customer changes (template ``CUSTOMER_UPDATE``; empty cell = unchanged)."""
        return self._upload(ROUTES["bulkUpdate"], CUSTOMER_UPDATE, rows, file_format)

    # ---- invoices ------------------------------------------------------------------------------

    def create_invoice(self, request: CreateInvoiceRequest | Body) -> Invoice:
        """createInvoice. ``sellerId`` defaults to this client's seller id.

        Raises:
            ValidationError: a field broke a rule (the message names it).
            OutcomeUnknownError: the answer was lost; search by ``externalId`` before resending.
        """
        model = _model(CreateInvoiceRequest, request)
        if model.seller_id is None:
            model = model.model_copy(update={"seller_id": self.seller_id})
        return self._call(ROUTES["createInvoice"], Invoice, json=_create_body(model))

    def invoice_bulk_upload(self, rows: pl.DataFrame, *, file_format: FileFormat = "csv") -> BulkResponse:
        """invoiceBulkUpload: upload invoices (template ``bulk_template.INVOICE_CREATE``).

        Raises:
            OutcomeUnknownError: the answer was lost; search by ``externalIds`` before resending.
        """
        return self._upload(ROUTES["invoiceBulkUpload"], INVOICE_CREATE, rows, file_format)

    def dispatch_invoice_collection(
        self, invoice_ids: Sequence[str], *, partial_payment_allowed: bool | None = None
    ) -> InvoiceBulkActionResult:
        """dispatchInvoiceCollection: send the invoices' payment links to the customers.

        Raises:
            OutcomeUnknownError: the answer was lost; check ``dispatched`` before resending.
        """
        body: dict[str, Any] = {"invoiceIds": list(invoice_ids)}
        if partial_payment_allowed is not None:
            body["partialPaymentAllowed"] = partial_payment_allowed
        return self._call(ROUTES["dispatchInvoiceCollection"], InvoiceBulkActionResult, json=body)

    def delete_invoice_collection(self, invoice_ids: Sequence[str]) -> InvoiceBulkActionResult:
        """deleteInvoiceCollection: delete several invoices."""
        body = {"invoiceIds": list(invoice_ids)}
        return self._call(ROUTES["deleteInvoiceCollection"], InvoiceBulkActionResult, json=body)

    def search_collection_invoices(
        self,
        filters: InvoiceSearchFilters | Body | None = None,
        *,
        offset: int = 0,
        limit: int = DEFAULT_SEARCH_LIMIT,
        order_by: str | None = None,
        direction: SortDirection | str | None = None,
    ) -> list[Invoice]:
        """searchCollectionInvoices: one page of invoices (``limit`` <= 5000)."""
        body = _create_body(_model(InvoiceSearchFilters, filters or {}))
        return self._call(
            ROUTES["searchCollectionInvoices"],
            list[Invoice],
            json=body,
            params=paging_params(offset, limit, order_by, direction),
        )

    def search_all_invoices(
        self,
        filters: InvoiceSearchFilters | Body | None = None,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        order_by: str | None = "createdOn",
    ) -> list[Invoice]:
        """Every invoice matching ``filters``, paged through with ``offset`` until a short page."""
        pages = collect_pages(
            lambda offset, limit: self.search_collection_invoices(
                filters, offset=offset, limit=limit, order_by=order_by, direction=SortDirection.ASC
            ),
            page_size,
        )
        return unique_by(pages, "invoice_id")

    def search_invoices_frame(
        self,
        filters: InvoiceSearchFilters | Body | None = None,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        order_by: str | None = "createdOn",
    ) -> pl.DataFrame:
        """Every invoice matching ``filters`` as a frame (``frames.INVOICE_SCHEMA``).

        Each page becomes a frame as it arrives (its models are dropped at once), so memory is bounded
        by one page of models plus the frame itself, not by every invoice as a model.
        """
        pages = iter_pages(
            lambda offset, limit: self.search_collection_invoices(
                filters, offset=offset, limit=limit, order_by=order_by, direction=SortDirection.ASC
            ),
            page_size,
        )
        frame = concat_frames([invoices_frame(page) for page in pages], INVOICE_SCHEMA)
        # A record created while paging can shift a page boundary and show up twice: keep the first.
        return unique_rows(frame, "invoiceId")

    def get_invoice(self, invoice_id: str) -> Invoice:
        """getInvoice."""
        return self._call(ROUTES["getInvoice"], Invoice, path_params={"invoiceId": invoice_id})

    def update_invoice(self, invoice_id: str, changes: UpdateInvoiceRequest | Body) -> Invoice:
        """updateInvoice (PATCH): only the members present in ``changes`` are sent; None clears."""
        body = _patch_body(_model(UpdateInvoiceRequest, changes))
        return self._call(ROUTES["updateInvoice"], Invoice, path_params={"invoiceId": invoice_id}, json=body)

    # ---- reminders -----------------------------------------------------------------------------

    def create_customer_reminder(
        self, customer_id: str, reminder: CustomerReminderCreate | Body
    ) -> CustomerReminder:
        """createCustomerReminder: add a reminder schedule to a customer."""
        body = _create_body(_model(CustomerReminderCreate, reminder))
        return self._call(
            ROUTES["createCustomerReminder"],
            CustomerReminder,
            path_params={"customerId": customer_id},
            json=body,
        )

    def get_customer_reminders(self, customer_id: str) -> list[CustomerReminder]:
        """getCustomerReminders: every reminder schedule of a customer."""
        return self._call(
            ROUTES["getCustomerReminders"], list[CustomerReminder], path_params={"customerId": customer_id}
        )

    def get_customer_reminder(self, customer_id: str, reminder_id: str) -> CustomerReminder:
        """getCustomerReminder."""
        ids = {"customerId": customer_id, "reminderId": reminder_id}
        return self._call(ROUTES["getCustomerReminder"], CustomerReminder, path_params=ids)

    def update_customer_reminder(
        self, customer_id: str, reminder_id: str, reminder: CustomerReminderCreate | Body
    ) -> CustomerReminder:
        """updateCustomerReminder (PUT): replace the reminder with ``reminder``."""
        ids = {"customerId": customer_id, "reminderId": reminder_id}
        body = _create_body(_model(CustomerReminderCreate, reminder))
        return self._call(ROUTES["updateCustomerReminder"], CustomerReminder, path_params=ids, json=body)

    def delete_reminder(self, customer_id: str, reminder_id: str) -> str:
        """deleteReminder; returns the server's message."""
        ids = {"customerId": customer_id, "reminderId": reminder_id}
        return self._call(ROUTES["deleteReminder"], str, path_params=ids, missing_means_done=True)

    # ---- Bharat Connect 2.0 --------------------------------------------------------------------

    def payment_confirmation_request(self, request: PaymentConfirmationRequest | Body) -> BcEnvelope:
        """paymentConfirmationRequest: the supplier confirms a buyer's payment."""
        body = _create_body(_model(PaymentConfirmationRequest, request))
        return self._bc_call(ROUTES["paymentConfirmationRequest"], body)

    def change_invoice_status_request(self, request: ChangeInvoiceStatusRequest | Body) -> BcEnvelope:
        """changeInvoiceStatusRequest: the supplier changes the invoices' status."""
        body = _create_body(_model(ChangeInvoiceStatusRequest, request))
        return self._bc_call(ROUTES["changeInvoiceStatusRequest"], body)

    # ---- result files --------------------------------------------------------------------------

    def download_result_file(self, url: str) -> pl.DataFrame:
        """Download a bulk result file (success or failure) as a frame of text columns.

        The token is sent only when ``url`` is on the API's own host.
        """
        route = Route("downloadResultFile", "GET", url, OperationKind.IDEMPOTENT)
        response = self._send(route)
        xlsx = url.lower().split("?")[0].endswith(".xlsx") or "spreadsheetml" in response.headers.get(
            "content-type", ""
        )
        return decode_result_file(response.content, xlsx=xlsx)

    def bulk_results(self, bulk_response: BulkResponse) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The success and failure files of a bulk upload, as ``(success_df, failure_df)``.

        A file the answer does not point to (nothing succeeded, or nothing failed) is an empty frame.
        """
        template = TEMPLATES.get(bulk_response.kind) if bulk_response.kind else None
        success = (
            self.download_result_file(bulk_response.success_file_url)
            if bulk_response.success_file_url
            else empty_result_frame(template, "success")
        )
        failure = (
            self.download_result_file(bulk_response.failure_file_url)
            if bulk_response.failure_file_url
            else empty_result_frame(template, "failure")
        )
        return success, failure

    # ---- helpers -------------------------------------------------------------------------------

    def _upload(
        self, route: Route, template: BulkTemplate, rows: pl.DataFrame, file_format: FileFormat
    ) -> BulkResponse:
        name, content, content_type = encode_bulk_file(rows, template, file_format)
        result: BulkResponse = self._call(route, BulkResponse, files={"file": (name, content, content_type)})
        result._kind = template.kind
        return result

    def _bc_call(self, route: Route, body: dict[str, Any]) -> BcEnvelope:
        response = self._send(route, json=body)
        envelope = _model(BcEnvelope, response.json())
        if envelope.response_code not in (0, None):
            raise make_api_error(route.operation_id, response.status_code, response.json())
        return envelope
