"""Mapping an error answer to the right exception, with a message that says what went wrong where."""

from __future__ import annotations

import pytest

from enkash_ar import errors as e


@pytest.mark.parametrize(
    ("status", "error_type", "cls"),
    [
        (400, "VALIDATION_ERROR", e.ValidationError),
        (400, "CLIENT_REQUEST_ERROR", e.BadRequestError),
        (400, None, e.BadRequestError),
        (401, "UNAUTHORIZED", e.UnauthorizedError),
        (403, "INVALID_ACCESS", e.ForbiddenError),
        (404, "RECORD_NOT_FOUND", e.NotFoundError),
        (404, None, e.NotFoundError),
        (422, "UNPROCESSABLE_REQUEST", e.UnprocessableError),
        (429, "CLIENT_REQUEST_ERROR", e.RateLimitError),
        (500, "SYSTEM_ERROR", e.ServerError),
        (503, None, e.ServerError),
        (200, "RECORD_NOT_FOUND", e.NotFoundError),  # an error envelope inside a 200
        (418, "UNKNOWN_ERROR", e.APIError),
    ],
)
def test_error_class(status: int, error_type: str | None, cls: type[e.APIError]) -> None:
    assert e.error_class(status, error_type) is cls


def test_validation_message_names_operation_request_id_and_fields() -> None:
    body = {
        "errorResponse": {
            "apiSubErrors": [{"field": "baseAmount", "rejectedValue": 0.05, "message": "must be >= 0.1"}],
            "errorMessage": "Validation failed",
            "errorType": "VALIDATION_ERROR",
            "requestId": "r-123",
        },
        "response_code": 1,
    }
    err = e.make_api_error("createInvoice", 400, body)
    assert isinstance(err, e.ValidationError)
    assert (
        str(err)
        == "createInvoice failed (VALIDATION_ERROR, requestId r-123): baseAmount: must be >= 0.1 (got 0.05)"
    )
    assert (err.status_code, err.request_id, err.operation) == (400, "r-123", "createInvoice")
    assert err.sub_errors[0]["field"] == "baseAmount"


def test_message_without_body_uses_status_and_header_request_id() -> None:
    err = e.make_api_error("getInvoice", 502, "<html>bad gateway</html>", request_id="hdr-1")
    assert isinstance(err, e.ServerError)
    assert str(err) == "getInvoice failed (HTTP 502, requestId hdr-1): no details given"


def test_every_error_is_an_enkash_error() -> None:
    for cls in (
        e.APIError,
        e.AuthenticationError,
        e.TransportError,
        e.OutcomeUnknownError,
        e.UnexpectedResponseError,
    ):
        assert issubclass(cls, e.EnkashError)
    assert e.InvalidAccessError is e.ForbiddenError
