"""How the sandbox words its answers: envelopes, errors, and the wire shape of what the backend returns.

``Answers`` is the one place that knows the wire shapes; the backend returns plain data (receivable
statuses by their canonical names) and the handlers hand it here. Where the portal is silent, the
shape is the contract profile's (``enkash_ar.contract_profile``) that this sandbox plays: search
results as an array or a Spring Page, EnKash's names of the receivable statuses (both ways), a token
answer with or without ``expires_in``, business errors with their HTTP status or as HTTP 200.

Request ids, one scheme everywhere:

- every response of the sandbox (success, error, fault) carries an ``X-Request-Id`` header;
- every envelope also carries it as ``errorResponse.requestId`` with ``errorResponse.timestamp``
  (``yyyy-MM-dd HH:mm:ss``), as the portal's 200 examples show ``errorResponse`` beside the payload;
- only an error has ``errorResponse.errorType``: that member, not the object, means "error".
  (The token answer has no envelope: its request id is in the header only.)

Bodies:

- success (ApiEnvelope): ``{"errorResponse": {"requestId", "timestamp"}, "payload": ...,
  "response_code": 0, "response_message": "SUCCESS"}``;
- error (ApiEnvelope): ``{"errorResponse": {...}, "response_code": 1, "response_message": <message>}``;
  ``payload`` is left out, because several operation schemas type it as object or string and ``null``
  would not validate;
- Bharat Connect endpoints answer the BcEnvelope ``{"response_code", "response_message", "payload"}``
  (payload a string). Their errors are that envelope with ``response_code`` 1, ``payload`` "" and the
  usual ``errorResponse`` beside it, so a client can read either shape.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from enkash_ar.contract import TIMESTAMP_FORMAT, ReceivableStatus
from enkash_ar.contract_profile import SHIPPED_PROFILE, ContractProfile
from sandbox.backend.bulk_ingest import BulkOutcome
from sandbox.backend.invoice_table import InvoiceRecord
from sandbox.backend.invoices import BulkActionResult
from sandbox.backend.search import Page
from sandbox.backend.store import CLOCK, INVOICE_FIELDS
from sandbox.errors import ApiError

REQUEST_ID_HEADER: Final = "X-Request-Id"
SUCCESS_MESSAGE: Final = "SUCCESS"
#: Where bulk result files are downloaded (``sandbox.admin`` serves them).
RESULT_FILES_PATH: Final = "/_sandbox/files/"

#: "api": the ApiEnvelope; "bc": the Bharat Connect envelope; "raw": the payload alone (the token).
EnvelopeKind = Literal["api", "bc", "raw"]

_STATUS_MEMBERS: Final = frozenset({"approvalStatus", "receivableStatus", "payoutStatus"})
#: Kept for the sandbox's own bookkeeping (``/_sandbox/state``), never part of an answer.
_HIDDEN_MEMBERS: Final = frozenset({"dispatchCount"})
_INVOICE_MEMBERS: Final = tuple(c.member for c in INVOICE_FIELDS if c.member not in _HIDDEN_MEMBERS)


def new_request_id() -> str:
    """A fresh request id (hex, 24 characters)."""
    return secrets.token_hex(12)


def now_timestamp() -> str:
    """The current time in the error ``timestamp`` format (UTC)."""
    return CLOCK.now().strftime(TIMESTAMP_FORMAT)


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, JSON body and headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class Answers:
    """The answers of the EnKash API as ``profile`` has it (the shipped one: spec/openapi.yaml)."""

    def __init__(self, profile: ContractProfile = SHIPPED_PROFILE) -> None:
        self.profile = profile

    def success(self, payload: Any, request_id: str, envelope: EnvelopeKind = "api") -> Answer:
        """The 200 answer around ``payload``."""
        headers = {REQUEST_ID_HEADER: request_id}
        if envelope == "raw":
            return Answer(200, payload, headers)
        stamp = {"requestId": request_id, "timestamp": now_timestamp()}
        if envelope == "bc":
            body = {
                "response_code": 0,
                "response_message": SUCCESS_MESSAGE,
                "payload": str(payload),
                "errorResponse": stamp,
            }
        else:
            body = {
                "errorResponse": stamp,
                "payload": payload,
                "response_code": 0,
                "response_message": SUCCESS_MESSAGE,
            }
        return Answer(200, body, headers)

    def error(
        self,
        error: ApiError,
        request_id: str,
        envelope: EnvelopeKind = "api",
        *,
        infrastructure: bool = False,
    ) -> Answer:
        """The answer of ``error``: its status, the error envelope (see the module docstring).

        A profile whose errors are answered HTTP 200 keeps the real status for ``infrastructure``
        errors (injected faults, unknown paths): a gateway or the web framework answers those, not
        the application.
        """
        body: dict[str, Any] = {
            "errorResponse": {
                "apiSubErrors": [s.as_json() for s in error.sub_errors],
                "errorMessage": error.message,
                "errorType": str(error.error_type),
                "requestId": request_id,
                "timestamp": now_timestamp(),
            },
            "response_code": 1,
            "response_message": error.message,
        }
        if envelope == "bc":
            body["payload"] = ""
        status = error.status
        if self.profile.errors.http_status == "always-200" and not infrastructure:
            status = 200
        return Answer(status, body, {REQUEST_ID_HEADER: request_id, **error.headers})

    def token(self, grant: Mapping[str, Any]) -> Any:
        """The OAuthTokenResponse of a password grant (``sandbox.auth.TokenBook.login``)."""
        if not self.profile.token.expires_in:
            return {k: v for k, v in grant.items() if k != "expires_in"}
        return grant

    def status_value(self, name: str) -> dict[str, str]:
        """An EnumResponse ``{label, name}`` for a status name."""
        return {"label": name.replace("_", " ").title(), "name": name}

    def receivable_status_in(self, wire_name: str) -> ReceivableStatus | None:
        """The canonical status a request's ``wire_name`` means in this profile, or None."""
        return self.profile.meaning_of(wire_name)

    def receivable_names(self) -> list[str]:
        """The receivable status names this profile answers and accepts."""
        return list(self.profile.receivable_statuses)

    def invoice(self, record: InvoiceRecord) -> dict[str, Any]:
        """The Invoice of a backend record; members without a value are left out."""
        answer: dict[str, Any] = {}
        for member in _INVOICE_MEMBERS:
            value = record[member]
            if value is None:
                continue
            if member == "receivableStatus":
                value = self.profile.wire_status(value)
            answer[member] = self.status_value(value) if member in _STATUS_MEMBERS else value
        if record["customerLegalName"] is not None:
            answer["customerLegalName"] = record["customerLegalName"]
        answer["hasKeyContacts"] = True
        answer["invoiceAttachments"] = []
        return answer

    def invoices(self, page: Page[InvoiceRecord]) -> Any:
        """The payload of an invoice search: the page's Invoices (in a Spring Page if the profile says)."""
        return self._search_payload([self.invoice(r) for r in page.items], page)

    def customer(self, customer: dict[str, Any]) -> Any:
        """The Customer of a backend customer (its document with ``customerReminders``)."""
        return customer

    def customers(self, page: Page[dict[str, Any]]) -> Any:
        """The payload of a customer search: the page's Customers (in a Spring Page if the profile says)."""
        return self._search_payload([self.customer(c) for c in page.items], page)

    def wants_total(self) -> bool:
        """Whether search answers carry the count of every match (a Spring Page does)."""
        return self.profile.search.response == "page"

    def _search_payload(self, records: list[Any], page: Page[Any]) -> Any:
        settings = self.profile.search
        if settings.response == "list":
            return records
        size, total = page.request.limit, page.total or 0
        number = page.request.offset // size
        sort = {"sorted": True, "unsorted": False, "empty": False}
        return {
            settings.content_member: records,
            "pageable": {
                "pageNumber": number,
                "pageSize": size,
                "offset": page.request.offset,
                "paged": True,
                "unpaged": False,
                "sort": sort,
            },
            settings.total_member: total,
            "totalPages": -(-total // size),
            "last": page.request.offset + len(records) >= total,
            "first": page.request.offset == 0,
            "size": size,
            "number": number,
            "numberOfElements": len(records),
            "sort": sort,
            "empty": not records,
        }

    def bulk_action(self, result: BulkActionResult) -> Any:
        """InvoiceBulkActionResult: the per-invoice outcome of a dispatch or delete."""
        return result

    def bulk(self, outcome: BulkOutcome, base_url: str) -> dict[str, Any]:
        """The BulkResponse of a bulk file, with download URLs of its result files."""
        root = base_url.rstrip("/") + RESULT_FILES_PATH
        return {
            "total_count": outcome.total_count,
            "success_count": outcome.success_count,
            "failure_count": outcome.failure_count,
            "warn_count": outcome.warn_count,
            "failure_count_second_file": 0,
            "total_amount": outcome.total_amount,
            "successRequests": outcome.success_requests,
            "failureRequests": outcome.failure_requests,
            "success_file_name": outcome.files.success_name,
            "success_file_url": root + outcome.files.success_name,
            "failure_file_name": outcome.files.failure_name,
            "failure_file_url": root + outcome.files.failure_name,
        }

    def deleted(self, what: str, ident: str) -> str:
        """The confirmation payload of a delete."""
        return f"{what} {ident} deleted"

    def payment_recorded(self, response: str, count: int) -> str:
        """The payload of paymentConfirmationRequest."""
        return f"Payment {response} recorded for {count} invoice(s)"

    def status_set(self, status: str, count: int) -> str:
        """The payload of changeInvoiceStatusRequest (the status by this profile's name)."""
        return f"Status {self.profile.wire_status(status)} set for {count} invoice(s)"
