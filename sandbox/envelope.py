"""Response bodies of the sandbox: the ApiEnvelope, the BcEnvelope and the error that builds them.

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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from enkash_ar.contract import TIMESTAMP_FORMAT, ErrorType

REQUEST_ID_HEADER = "X-Request-Id"
SUCCESS_MESSAGE = "SUCCESS"


def new_request_id() -> str:
    """A fresh request id (hex, 24 characters)."""
    return secrets.token_hex(12)


def now_timestamp() -> str:
    """The current time in the error ``timestamp`` format (UTC)."""
    return datetime.now(UTC).strftime(TIMESTAMP_FORMAT)


@dataclass(frozen=True)
class SubError:
    """One ``apiSubErrors`` entry: which field, what value, what is wrong."""

    field: str
    rejected_value: Any
    message: str

    def as_json(self) -> dict[str, Any]:
        """The wire form of the sub-error."""
        return {"field": self.field, "rejectedValue": self.rejected_value, "message": self.message}


@dataclass
class ApiError(Exception):
    """An error answer: HTTP status, errorType, message and per-field sub-errors."""

    status: int
    error_type: ErrorType
    message: str
    sub_errors: list[SubError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.error_type}: {self.message}"


def validation_error(sub_errors: list[SubError], message: str = "Validation failed") -> ApiError:
    """A 400 VALIDATION_ERROR carrying one sub-error per offending field."""
    return ApiError(400, ErrorType.VALIDATION_ERROR, message, sub_errors)


def not_found(what: str, ident: str) -> ApiError:
    """A 404 RECORD_NOT_FOUND for an unknown id."""
    return ApiError(404, ErrorType.RECORD_NOT_FOUND, f"{what} {ident!r} not found")


def success_body(payload: Any, request_id: str, *, bc: bool = False) -> dict[str, Any]:
    """The success envelope around ``payload`` (ApiEnvelope, or BcEnvelope when ``bc``)."""
    stamp = {"requestId": request_id, "timestamp": now_timestamp()}
    if bc:
        return {
            "response_code": 0,
            "response_message": SUCCESS_MESSAGE,
            "payload": str(payload),
            "errorResponse": stamp,
        }
    return {
        "errorResponse": stamp,
        "payload": payload,
        "response_code": 0,
        "response_message": SUCCESS_MESSAGE,
    }


def error_body(error: ApiError, request_id: str, *, bc: bool = False) -> dict[str, Any]:
    """The error envelope for ``error`` (see the module docstring for the shape)."""
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
    if bc:
        body["payload"] = ""
    return body
