"""The errors of the emulated service: what the backend raises and the answer layer words.

An ``ApiError`` carries everything an error answer needs (HTTP status, errorType, message, per-field
sub-errors, extra headers such as Retry-After) and nothing about how it is worded on the wire: that is
``sandbox.answers``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from enkash_ar.contract import ErrorType


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


def invalid_access(message: str) -> ApiError:
    """A 403 INVALID_ACCESS: the request names a company that is not the token's."""
    return ApiError(403, ErrorType.INVALID_ACCESS, message)
