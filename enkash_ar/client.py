"""``EnkashClient``: one typed method per operation of the EnKash Account Receivable API."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import polars as pl
from pydantic import BaseModel

from enkash_ar._base_client import BaseClient
from enkash_ar._constants import DEFAULT_SEARCH_LIMIT
from enkash_ar.auth import TokenInfo
from enkash_ar.bulk_files import (
    FileFormat,
    decode_result_file,
    empty_result_frame,
    encode_bulk_file,
    normalize_result_frame,
)
from enkash_ar.bulk_template import CUSTOMER_CREATE, CUSTOMER_UPDATE, INVOICE_CREATE, TEMPLATES, BulkTemplate
from enkash_ar.contract import SortDirection
from enkash_ar.contract_profile import SearchOperation
from enkash_ar.errors import ContractMismatchError, OutcomeUnknownError, make_api_error
from enkash_ar.frames import (
    INVOICE_ROW,
    INVOICE_SCHEMA,
    concat_frames,
    customers_frame,
    invoice_rows_frame,
    unique_rows,
)
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
from enkash_ar.paging import SearchPage, offset_parameter, paging_params, unique_by, walk_pages
from enkash_ar.profile_files import load_profile
from enkash_ar.retry import OperationKind
from enkash_ar.routes import Route
from enkash_ar.search_answers import search_page
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
            s: the connection; its ``contract_profile`` (a file or a shipped name) is loaded here.
            **options: further keyword options of the constructor (``transport``, ``token_guard`` ...).

        Raises:
            ConfigurationError: the contract profile cannot be loaded (the message says why).
        """
        options.setdefault("profile", load_profile(s.contract_profile))
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

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        #: Searches whose reading of ``offset`` was probed (once per client and search).
        self._offsets_checked: set[str] = set()

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
        return self._call(self._routes["createCustomer"], Customer, json=_create_body(model))

    def update_customer(self, customer_id: str, changes: UpdateCustomerRequest | Body) -> Customer:
        """updateCustomer (PATCH): only the members present in ``changes`` are sent; None clears."""
        body = _patch_body(_model(UpdateCustomerRequest, changes))
        return self._call(
            self._routes["updateCustomer"], Customer, path_params={"customerId": customer_id}, json=body
        )

    def activate_customer(self, customer_id: str) -> Customer:
        """activateCustomer: set the customer ACTIVE."""
        return self._call(self._routes["activateCustomer"], Customer, path_params={"customerId": customer_id})

    def deactivate_customer(self, customer_id: str) -> Customer:
        """deactivateCustomer: set the customer INACTIVE."""
        return self._call(
            self._routes["deactivateCustomer"], Customer, path_params={"customerId": customer_id}
        )

    def delete_customer_by_customer_id(self, customer_id: str) -> str:
        """deleteCustomerByCustomerId; returns the server's message."""
        return self._call(
            self._routes["deleteCustomerByCustomerId"],
            str,
            path_params={"customerId": customer_id},
            missing_means_done=True,
        )

    def get_customer_contact_details(self, customer_id: str) -> list[CustomerKeyContact]:
        """getCustomerContactDetails: the key contacts of a customer."""
        return self._call(
            self._routes["getCustomerContactDetails"],
            list[CustomerKeyContact],
            path_params={"customerId": customer_id},
        )

    def search_customer(
        self,
        filters: CustomerSearchFilters | Body | None = None,
        *,
        offset: int = 0,
        limit: int | None = None,
        order_by: str | None = None,
        direction: SortDirection | str | None = None,
    ) -> list[Customer]:
        """searchCustomer: one page of customers matching ``filters`` (e.g. ``{"uniqueRefNos": [...]}``).

        ``offset`` counts rows; ``limit`` defaults to 100 and may not exceed the page size the contract
        profile says this EnKash honours.
        """
        body = _create_body(_model(CustomerSearchFilters, filters or {}))
        page = self._search_page("searchCustomer", Customer, body, offset, limit, order_by, direction)
        return list(page.items)

    def search_all_customers(
        self,
        filters: CustomerSearchFilters | Body | None = None,
        *,
        page_size: int | None = None,
        order_by: str | None = "customerId",
    ) -> list[Customer]:
        """Every customer matching ``filters``, paged through to an empty page or the server's total.

        ``page_size`` defaults to (and is capped at) the profile's ``search.max_page_size``.

        Raises:
            ContractMismatchError: the server pages otherwise than the contract profile says (a silent
                cap, offsets read as pages ...): no partial list is returned.
        """
        body = _create_body(_model(CustomerSearchFilters, filters or {}))
        pages = self._walk("searchCustomer", Customer, body, page_size, order_by)
        return unique_by([c for page in pages for c in page], "customer_id")

    def search_customers_frame(
        self,
        filters: CustomerSearchFilters | Body | None = None,
        *,
        page_size: int | None = None,
        order_by: str | None = "customerId",
    ) -> pl.DataFrame:
        """Every customer matching ``filters`` as a frame (``frames.CUSTOMER_SCHEMA``)."""
        return customers_frame(self.search_all_customers(filters, page_size=page_size, order_by=order_by))

    def create_bulk_customer(
        self, rows: pl.DataFrame, *, file_format: FileFormat | None = None
    ) -> BulkResponse:
        """createBulkCustomer: upload ``rows`` (template ``bulk_template.CUSTOMER_CREATE``).

        The file's columns, headers and format (unless ``file_format`` is given) are the contract
        profile's ``bulk_files.customer_create``.

        Raises:
            BulkFileError: the frame's columns do not fit the template (nothing was sent).
            OutcomeUnknownError: the answer was lost; search by ``uniqueRefNo`` before resending.
        """
        return self._upload(self._routes["createBulkCustomer"], CUSTOMER_CREATE, rows, file_format)

    def bulk_update(self, rows: pl.DataFrame, *, file_format: FileFormat | None = None) -> BulkResponse:
        """bulkUpdate: upload customer changes (template ``CUSTOMER_UPDATE``; empty cell = unchanged)."""
        return self._upload(self._routes["bulkUpdate"], CUSTOMER_UPDATE, rows, file_format)

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
        return self._call(
            self._routes["createInvoice"], Invoice, json=self._with_wire_status(_create_body(model))
        )

    def invoice_bulk_upload(
        self, rows: pl.DataFrame, *, file_format: FileFormat | None = None
    ) -> BulkResponse:
        """invoiceBulkUpload: upload invoices (template ``bulk_template.INVOICE_CREATE``).

        Raises:
            OutcomeUnknownError: the answer was lost; search by ``externalIds`` before resending.
        """
        return self._upload(self._routes["invoiceBulkUpload"], INVOICE_CREATE, rows, file_format)

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
        return self._call(self._routes["dispatchInvoiceCollection"], InvoiceBulkActionResult, json=body)

    def delete_invoice_collection(self, invoice_ids: Sequence[str]) -> InvoiceBulkActionResult:
        """deleteInvoiceCollection: delete several invoices."""
        body = {"invoiceIds": list(invoice_ids)}
        return self._call(self._routes["deleteInvoiceCollection"], InvoiceBulkActionResult, json=body)

    def search_collection_invoices(
        self,
        filters: InvoiceSearchFilters | Body | None = None,
        *,
        offset: int = 0,
        limit: int | None = None,
        order_by: str | None = None,
        direction: SortDirection | str | None = None,
    ) -> list[Invoice]:
        """searchCollectionInvoices: one page of invoices (``offset`` counts rows; ``limit`` as for
        :meth:`search_customer`). ``receivableStatuses`` filters take the canonical names.
        """
        body = self._invoice_filters(filters)
        page = self._search_page(
            "searchCollectionInvoices", Invoice, body, offset, limit, order_by, direction
        )
        return list(page.items)

    @property
    def searches_count(self) -> bool:
        """Whether search answers carry the count of every match (contract profile ``search.response``:
        a Spring Page does, a bare list does not)."""
        return self.profile.search.response != "list"

    def count_invoices(self, filters: InvoiceSearchFilters | Body | None = None) -> int | None:
        """How many invoices match ``filters``, by the server's total on a one-row page; None, without
        a request, when searches carry no count (:attr:`searches_count`)."""
        if not self.searches_count:
            return None
        body = self._invoice_filters(filters)
        return self._search_page("searchCollectionInvoices", Invoice, body, 0, 1, None, None).total

    def search_all_invoices(
        self,
        filters: InvoiceSearchFilters | Body | None = None,
        *,
        page_size: int | None = None,
        order_by: str | None = "createdOn",
    ) -> list[Invoice]:
        """Every invoice matching ``filters``, paged through to an empty page or the server's total.

        Raises:
            ContractMismatchError: as for :meth:`search_all_customers`.
        """
        pages = self._walk(
            "searchCollectionInvoices", Invoice, self._invoice_filters(filters), page_size, order_by
        )
        return unique_by([i for page in pages for i in page], "invoice_id")

    def search_invoices_frame(
        self,
        filters: InvoiceSearchFilters | Body | None = None,
        *,
        page_size: int | None = None,
        order_by: str | None = "createdOn",
        columns: Sequence[str] | None = None,
    ) -> pl.DataFrame:
        """Every invoice matching ``filters`` as a frame (``frames.INVOICE_SCHEMA``, or only its
        ``columns``, which must include ``invoiceId``).

        Each page becomes a frame as it arrives, read as dicts of the frame's columns with the
        ``Invoice`` model's types (``frames.INVOICE_ROW``: the same formats refused, several times faster
        than one model per invoice), so memory is bounded by one page plus the frame itself. With
        ``columns``, every member is still checked, and each page keeps only those.
        """
        if columns is not None and "invoiceId" not in columns:
            raise ValueError("columns must include invoiceId: a record read twice is found by it")
        operation: SearchOperation = "searchCollectionInvoices"
        pages = self._walk(
            operation,
            INVOICE_ROW,
            self._invoice_filters(filters),
            page_size,
            order_by,
            record_id=lambda row: row.get("invoiceId"),
        )
        schema = INVOICE_SCHEMA if columns is None else pl.Schema({c: INVOICE_SCHEMA[c] for c in columns})
        frame = concat_frames(
            [self._rows_frame(operation, page).select(schema.names()) for page in pages], schema
        )
        # A record created while paging can shift a page boundary and show up twice: keep the first.
        return unique_rows(frame, "invoiceId")

    def get_invoice(self, invoice_id: str) -> Invoice:
        """getInvoice."""
        return self._call(self._routes["getInvoice"], Invoice, path_params={"invoiceId": invoice_id})

    def update_invoice(self, invoice_id: str, changes: UpdateInvoiceRequest | Body) -> Invoice:
        """updateInvoice (PATCH): only the members present in ``changes`` are sent; None clears."""
        body = self._with_wire_status(_patch_body(_model(UpdateInvoiceRequest, changes)))
        return self._call(
            self._routes["updateInvoice"], Invoice, path_params={"invoiceId": invoice_id}, json=body
        )

    # ---- reminders -----------------------------------------------------------------------------

    def create_customer_reminder(
        self, customer_id: str, reminder: CustomerReminderCreate | Body
    ) -> CustomerReminder:
        """createCustomerReminder: add a reminder schedule to a customer."""
        body = _create_body(_model(CustomerReminderCreate, reminder))
        return self._call(
            self._routes["createCustomerReminder"],
            CustomerReminder,
            path_params={"customerId": customer_id},
            json=body,
        )

    def get_customer_reminders(self, customer_id: str) -> list[CustomerReminder]:
        """getCustomerReminders: every reminder schedule of a customer."""
        return self._call(
            self._routes["getCustomerReminders"],
            list[CustomerReminder],
            path_params={"customerId": customer_id},
        )

    def get_customer_reminder(self, customer_id: str, reminder_id: str) -> CustomerReminder:
        """getCustomerReminder."""
        ids = {"customerId": customer_id, "reminderId": reminder_id}
        return self._call(self._routes["getCustomerReminder"], CustomerReminder, path_params=ids)

    def update_customer_reminder(
        self, customer_id: str, reminder_id: str, reminder: CustomerReminderCreate | Body
    ) -> CustomerReminder:
        """updateCustomerReminder (PUT): replace the reminder with ``reminder``."""
        ids = {"customerId": customer_id, "reminderId": reminder_id}
        body = _create_body(_model(CustomerReminderCreate, reminder))
        return self._call(
            self._routes["updateCustomerReminder"], CustomerReminder, path_params=ids, json=body
        )

    def delete_reminder(self, customer_id: str, reminder_id: str) -> str:
        """deleteReminder; returns the server's message."""
        ids = {"customerId": customer_id, "reminderId": reminder_id}
        return self._call(self._routes["deleteReminder"], str, path_params=ids, missing_means_done=True)

    # ---- Bharat Connect 2.0 --------------------------------------------------------------------

    def payment_confirmation_request(self, request: PaymentConfirmationRequest | Body) -> BcEnvelope:
        """paymentConfirmationRequest: the supplier confirms a buyer's payment."""
        body = _create_body(_model(PaymentConfirmationRequest, request))
        return self._bc_call(self._routes["paymentConfirmationRequest"], body)

    def change_invoice_status_request(self, request: ChangeInvoiceStatusRequest | Body) -> BcEnvelope:
        """changeInvoiceStatusRequest: the supplier changes the invoices' status."""
        body = _create_body(_model(ChangeInvoiceStatusRequest, request))
        # The caller names the status canonically (PAID ...); EnKash is sent its own name for it.
        body["status"] = self.profile.wire_status(body["status"])
        return self._bc_call(self._routes["changeInvoiceStatusRequest"], body)

    # ---- result files --------------------------------------------------------------------------

    def result_file_content(self, url: str) -> bytes:
        """The bytes of a bulk result file as EnKash serves it (the token only on the API's own host)."""
        route = Route("downloadResultFile", "GET", url, OperationKind.IDEMPOTENT)
        return self._send(route).content

    def download_result_file(self, url: str) -> pl.DataFrame:
        """Download a bulk result file (success or failure) as a frame of text columns, as EnKash wrote it.

        CSV or XLSX (recognised by its content). :meth:`bulk_results` also normalizes the columns.
        """
        return decode_result_file(
            self.result_file_content(url), xlsx=url.lower().split("?")[0].endswith(".xlsx")
        )

    def bulk_results(self, bulk_response: BulkResponse) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The success and failure files of a bulk upload, as ``(success_df, failure_df)``.

        Whatever layout the contract profile's ``result_files`` describes, the frames come back in one
        shape: ``rowNumber`` (the uploaded row, counted from 1) and ``customerId`` / ``invoiceId`` in the
        success frame, ``rowNumber``, ``field`` and ``reason`` in the failure frame, then the file's other
        columns. A file the answer does not point to (nothing succeeded, or nothing failed) is an empty
        frame with those columns.

        Raises:
            OutcomeUnknownError: a file does not have the layout the profile describes. The upload was
                accepted, so which rows EnKash created is not known: look them up before resending.
        """
        template = TEMPLATES.get(bulk_response.kind) if bulk_response.kind else None
        frames = []
        for which, url in (
            ("success", bulk_response.success_file_url),
            ("failure", bulk_response.failure_file_url),
        ):
            if not url:
                frames.append(empty_result_frame(template, which))  # type: ignore[arg-type]
                continue
            raw = self.download_result_file(url)
            try:
                frames.append(normalize_result_frame(raw, self.profile.result_files, template, which))  # type: ignore[arg-type]
            except ContractMismatchError as exc:
                raise OutcomeUnknownError(
                    f"{exc} The upload itself was accepted, so which rows EnKash created is not known: "
                    "look them up before sending any again.",
                    operation=exc.operation,
                ) from exc
        return frames[0], frames[1]

    # ---- helpers -------------------------------------------------------------------------------

    def _page_limit(self, operation: SearchOperation, limit: int | None) -> int:
        largest = self.profile.page_size(operation)
        if limit is None:
            return min(DEFAULT_SEARCH_LIMIT, largest)
        if limit > largest:
            raise ValueError(
                f"{operation}: limit {limit} is more than the {largest} rows this EnKash answers per page "
                f"(contract profile search.max_page_size.{operation}); page with a smaller limit, or use "
                "the search_all_* methods, which page for you"
            )
        return limit

    def _search_page(
        self,
        operation: SearchOperation,
        model: type[M],
        body: dict[str, Any],
        offset: int,
        limit: int | None,
        order_by: str | None,
        direction: SortDirection | str | None,
    ) -> SearchPage[M]:
        """One page, ``offset`` counted in rows whatever the server counts."""
        size = self._page_limit(operation, limit)
        parameter = offset_parameter(offset, size, self.profile.search.offset)
        return self._fetch_page(operation, model, body, parameter, size, order_by, direction)

    def _fetch_page(
        self,
        operation: SearchOperation,
        model: type[M],
        body: dict[str, Any],
        parameter: int,
        limit: int,
        order_by: str | None,
        direction: SortDirection | str | None,
    ) -> SearchPage[M]:
        """One page by the ``offset`` parameter as sent; its records read with the contract profile."""
        route = self._routes[operation]
        payload, _ = self._payload(
            route, json=body, params=paging_params(parameter, limit, order_by, direction)
        )
        page = search_page(payload, self.profile.search, operation)
        items: list[M] = self._validate(route, list[model], page.items)  # type: ignore[valid-type]
        return SearchPage(items, page.total)

    def _walk(
        self,
        operation: SearchOperation,
        model: type[M],
        body: dict[str, Any],
        page_size: int | None,
        order_by: str | None,
        *,
        record_id: Callable[[Any], Hashable] | None = None,
    ) -> Iterator[Sequence[M]]:
        """Every page of a search (``paging.walk_pages``), ascending by ``order_by``.

        ``record_id`` reads a record's id (default: the models' id attribute).
        """
        size = min(page_size or self.profile.page_size(operation), self.profile.page_size(operation))
        id_attr = "customer_id" if operation == "searchCustomer" else "invoice_id"
        checked = operation in self._offsets_checked
        pages = walk_pages(
            lambda parameter, limit: self._fetch_page(
                operation, model, body, parameter, limit, order_by, SortDirection.ASC
            ),
            size,
            mode=self.profile.search.offset,
            key=record_id or (lambda record: getattr(record, id_attr)),
            operation=operation,
            check_offsets=not checked,
            # The server answers the next page while this thread reads the one before.
            read_ahead=True,
        )
        for number, page in enumerate(pages):
            if number == 1:
                # The walk probed the offsets before its second page: one probe per client is enough.
                self._offsets_checked.add(operation)
            yield page

    def _rows_frame(self, operation: SearchOperation, rows: Sequence[dict[str, Any]]) -> pl.DataFrame:
        """A page of ``frames.INVOICE_ROW`` as a frame, its statuses read with the contract profile."""
        try:
            return invoice_rows_frame(rows, self.profile)
        except ValueError as exc:
            raise self._unreadable(
                self._routes[operation], f"the answer's payload does not match the contract: {exc}"
            ) from None

    def _invoice_filters(self, filters: InvoiceSearchFilters | Body | None) -> dict[str, Any]:
        """The search body, receivable statuses given by canonical name sent by EnKash's names."""
        body = _create_body(_model(InvoiceSearchFilters, filters or {}))
        if body.get("receivableStatuses"):
            body["receivableStatuses"] = [
                name for status in body["receivableStatuses"] for name in self._wire_names(status)
            ]
        return body

    def _wire_names(self, status: str) -> list[str]:
        return self.profile.wire_names(status) or [status]

    def _upload(
        self, route: Route, template: BulkTemplate, rows: pl.DataFrame, file_format: FileFormat | None
    ) -> BulkResponse:
        layout = self.profile.bulk_files[template.kind]
        name, content, content_type = encode_bulk_file(rows, template, file_format, layout)
        result: BulkResponse = self._call(route, BulkResponse, files={"file": (name, content, content_type)})
        result._kind = template.kind
        return result

    def _bc_call(self, route: Route, body: dict[str, Any]) -> BcEnvelope:
        response = self._send(route, json=body)
        answer = self._body(route, response)
        self._raise_envelope_error(route, response, answer)
        if isinstance(answer, dict) and answer.get("response_code") not in (0, None):
            raise make_api_error(route.operation_id, response.status_code, answer)
        return self._validate(route, BcEnvelope, answer)

    def _with_wire_status(self, body: dict[str, Any]) -> dict[str, Any]:
        """A create / update body whose ``receivableStatus`` (canonical) is sent by EnKash's name."""
        if body.get("receivableStatus"):
            body["receivableStatus"] = self.profile.wire_status(body["receivableStatus"])
        return body
