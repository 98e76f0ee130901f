"""Every error the EnKash client raises: one base class, one subclass per way a call can fail.

``EnkashError`` is the root. ``APIError`` and its subclasses mean the server answered with an error;
``AuthenticationError`` means the token could not be obtained; ``TransportError`` means no answer came
back for a request the server provably did not act on (or that is safe to repeat);
``OutcomeUnknownError`` means a write may or may not have happened and the caller must reconcile
(look up what EnKash holds) before sending it again.

Messages name the operation, the requestId and the offending fields, never a token or a secret.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from enkash_ar.contract import ErrorType


class EnkashError(Exception):
    """Base class of every error raised by ``enkash_ar``."""


class ConfigurationError(EnkashError, ValueError):
    """The connection is configured in a way that cannot work or is unsafe (nothing was sent)."""


class AuthenticationError(EnkashError):
    """The token endpoint refused the credentials (never retried: repeated failures lock the account)."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class TransportError(EnkashError):
    """No usable answer came back (connection refused, timeout, broken response) after all retries.

    Raised for reads and idempotent writes, and for creating writes only when the request provably
    never reached the server (for example a connection error).
    """

    def __init__(self, message: str, *, operation: str) -> None:
        super().__init__(message)
        self.operation = operation


class OutcomeUnknownError(EnkashError):
    """A creating write may have been processed although no answer (or a 5xx) came back.

    Do not simply resend: look up what EnKash holds (by externalId, uniqueRefNo ...) first.
    """

    def __init__(self, message: str, *, operation: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.operation = operation
        self.status_code = status_code


class UnexpectedResponseError(EnkashError):
    """A success answer whose body does not match the contract (not JSON, or the wrong shape)."""

    def __init__(self, message: str, *, operation: str) -> None:
        super().__init__(message)
        self.operation = operation


class ContractMismatchError(UnexpectedResponseError):
    """EnKash answered in a way the contract profile does not describe (another page shape, a status
    name it does not know, a capped page size ...). ``setting`` names the profile setting to change.

    Raised instead of going on with what may be a partial or misread answer: a wrong guess must stop a
    night, never end it quietly with records missing.
    """

    def __init__(self, message: str, *, operation: str, setting: str) -> None:
        super().__init__(message, operation=operation)
        self.setting = setting


#: What to do about a ContractMismatchError, for its message.
CONTRACT_PROFILE_HINT = (
    "Set it in the contract profile (a YAML file named by ENKASH_CONTRACT_PROFILE or the credentials "
    "block's contract_profile); `enkash-ar doctor` checks every guess against your EnKash and writes "
    "a profile that fits."
)


class APIError(EnkashError):
    """The API answered with an error status or an error envelope."""

    def __init__(
        self,
        *,
        operation: str,
        status_code: int,
        error_type: str | None = None,
        error_message: str | None = None,
        sub_errors: Sequence[Mapping[str, Any]] = (),
        request_id: str | None = None,
    ) -> None:
        self.operation = operation
        self.status_code = status_code
        self.error_type = error_type
        self.error_message = error_message
        self.sub_errors = [dict(s) for s in sub_errors]
        self.request_id = request_id
        super().__init__(self._describe())

    def _describe(self) -> str:
        label = self.error_type or f"HTTP {self.status_code}"
        where = f"{label}, requestId {self.request_id}" if self.request_id else label
        details = "; ".join(_describe_sub_error(s) for s in self.sub_errors)
        return f"{self.operation} failed ({where}): {details or self.error_message or 'no details given'}"


def _describe_sub_error(sub: Mapping[str, Any]) -> str:
    text = f"{sub.get('field') or '?'}: {sub.get('message') or 'invalid'}"
    if sub.get("rejectedValue") is not None:
        text += f" (got {sub['rejectedValue']})"
    return text


class BadRequestError(APIError):
    """HTTP 400 without a more specific errorType (CLIENT_REQUEST_ERROR, CLIENT_REQUEST_ABORT)."""


class ValidationError(BadRequestError):
    """VALIDATION_ERROR: the request broke a field rule; ``sub_errors`` names the fields."""


class UnauthorizedError(APIError):
    """UNAUTHORIZED / HTTP 401 even after one token refresh."""


class ForbiddenError(APIError):
    """INVALID_ACCESS / HTTP 403: the token's company may not touch this record."""


InvalidAccessError = ForbiddenError


class NotFoundError(APIError):
    """RECORD_NOT_FOUND / HTTP 404."""


class UnprocessableError(APIError):
    """UNPROCESSABLE_REQUEST / HTTP 422: well-formed but refused by a business rule."""


class RateLimitError(APIError):
    """HTTP 429 after all retries."""


class ServerError(APIError):
    """SYSTEM_ERROR / HTTP 5xx after all retries (reads and idempotent writes only)."""


_BY_ERROR_TYPE: dict[str, type[APIError]] = {
    ErrorType.VALIDATION_ERROR: ValidationError,
    ErrorType.CLIENT_REQUEST_ERROR: BadRequestError,
    ErrorType.CLIENT_REQUEST_ABORT: BadRequestError,
    ErrorType.UNAUTHORIZED: UnauthorizedError,
    ErrorType.INVALID_ACCESS: ForbiddenError,
    ErrorType.RECORD_NOT_FOUND: NotFoundError,
    ErrorType.UNPROCESSABLE_REQUEST: UnprocessableError,
    ErrorType.SYSTEM_ERROR: ServerError,
}

_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    422: UnprocessableError,
    429: RateLimitError,
}


#: The HTTP status an errorType stands for, for an API that answers its errors with HTTP 200.
_STATUS_OF_ERROR_TYPE: dict[str, int] = {
    ErrorType.VALIDATION_ERROR: 400,
    ErrorType.CLIENT_REQUEST_ERROR: 400,
    ErrorType.CLIENT_REQUEST_ABORT: 400,
    ErrorType.UNAUTHORIZED: 401,
    ErrorType.INVALID_ACCESS: 403,
    ErrorType.RECORD_NOT_FOUND: 404,
    ErrorType.UNPROCESSABLE_REQUEST: 422,
    ErrorType.SYSTEM_ERROR: 500,
    ErrorType.UNKNOWN_ERROR: 500,
}


def status_of_error_type(error_type: str) -> int:
    """The HTTP status an ``errorType`` means (500 for a type the contract does not list).

    Example:
        >>> status_of_error_type("RECORD_NOT_FOUND")
        404
    """
    return _STATUS_OF_ERROR_TYPE.get(error_type, 500)


#: What a read answers when the contract's guess about it is wrong (a search filter EnKash refuses, an
#: answer of another shape), not when EnKash is down: a caller that can read more widely does so, with
#: a warning (a guessed route adds NotFoundError).
READ_NOT_AS_GUESSED: Final = (BadRequestError, UnexpectedResponseError)


def error_class(status_code: int, error_type: str | None) -> type[APIError]:
    """Pick the exception class for an error answer.

    429 and 5xx decide by status (their retry meaning does not depend on the body); otherwise the
    errorType is more specific than the status, and the status is the fallback.

    Args:
        status_code: HTTP status of the answer.
        error_type: ``errorResponse.errorType`` if the body had one.

    Returns:
        The APIError subclass to raise.

    Example:
        >>> error_class(400, "VALIDATION_ERROR").__name__
        'ValidationError'
    """
    if status_code == 429:
        return RateLimitError
    if status_code >= 500:
        return ServerError
    if error_type and error_type in _BY_ERROR_TYPE:
        return _BY_ERROR_TYPE[error_type]
    return _BY_STATUS.get(status_code, APIError)


def make_api_error(operation: str, status_code: int, body: Any, *, request_id: str | None = None) -> APIError:
    """Build the APIError for an answer, reading the EnKash error envelope when there is one.

    Args:
        operation: operationId of the call (``createInvoice`` ...).
        status_code: HTTP status of the answer.
        body: the decoded JSON body, or anything else (ignored if not an envelope).
        request_id: fallback request id (the ``X-Request-Id`` header) when the body has none.

    Returns:
        An instance of the class chosen by :func:`error_class`.
    """
    envelope = body if isinstance(body, Mapping) else {}
    err = envelope.get("errorResponse")
    err = err if isinstance(err, Mapping) else {}
    error_type = err.get("errorType")
    subs = [s for s in err.get("apiSubErrors") or () if isinstance(s, Mapping) and s]
    cls = error_class(status_code, error_type)
    return cls(
        operation=operation,
        status_code=status_code,
        error_type=error_type,
        error_message=err.get("errorMessage") or envelope.get("response_message"),
        sub_errors=subs,
        request_id=err.get("requestId") or request_id,
    )
