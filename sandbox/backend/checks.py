"""Field-by-field validation of JSON bodies, and the company-scope rule.

A ``Checker`` reads members of one JSON object, records at most one sub-error per offending field and
raises a single 400 VALIDATION_ERROR listing all of them at ``done()``. Members the contract does not
name are ignored (as Spring/Jackson does by default); a member of the wrong JSON type is a sub-error.

PATCH bodies use the same checker with ``nullable=True``: the reader then returns ``NULL`` for an
explicit JSON null, ``MISSING`` for an absent member, and the value otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from enkash_ar.contract import COMPANY_ID_PATTERN, DATE_FORMAT, TIMESTAMP_FORMAT
from sandbox.errors import SubError, invalid_access, validation_error


class _Marker:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Marker("MISSING")
NULL: Final = _Marker("NULL")

ISO_DATE_TIME_RE: Final = re.compile(
    r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$"
)


def parse_date(value: str) -> str | None:
    """``value`` if it is a real ``yyyy-MM-dd`` date, else None."""
    try:
        return datetime.strptime(value, DATE_FORMAT).strftime(DATE_FORMAT)
    except ValueError:
        return None


def parse_timestamp(value: str) -> str | None:
    """``value`` as ISO ``yyyy-MM-ddTHH:mm:ss`` if it is a ``yyyy-MM-dd HH:mm:ss`` filter, else None."""
    try:
        return datetime.strptime(value, TIMESTAMP_FORMAT).strftime("%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None


def normalise_date_time(value: str) -> str | None:
    """An ISO date or date-time as a UTC ``yyyy-MM-ddTHH:mm:ssZ`` string, or None if it is neither.

    A value without an offset is taken as UTC, so the answer always validates as ``format: date-time``.
    """
    if not ISO_DATE_TIME_RE.match(value):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_number(value: Any) -> bool:
    # bool is an int in Python but not a JSON number.
    return isinstance(value, int | float) and not isinstance(value, bool)


class Checker:
    """Collects sub-errors while reading the members of one JSON object."""

    def __init__(self, data: Any, *, prefix: str = "", nullable: bool = False) -> None:
        self.errors: list[SubError] = []
        self.prefix = prefix
        self.nullable = nullable
        if data is MISSING or data is None:
            data = {}
        if not isinstance(data, Mapping):
            self.errors.append(SubError(prefix.rstrip(".") or "body", data, "must be a JSON object"))
            data = {}
        self.data: Mapping[str, Any] = data

    def fail(self, name: str, value: Any, message: str) -> None:
        """Record a sub-error for ``name`` (unless that field already has one)."""
        full = self.prefix + name
        if all(e.field != full for e in self.errors):
            self.errors.append(SubError(full, value, message))

    def _get(self, name: str, required: bool, nullable: bool | None) -> Any:
        allow_null = self.nullable if nullable is None else nullable
        if name not in self.data:
            if required and not self.nullable:
                self.fail(name, None, "must not be null")
            return MISSING
        value = self.data[name]
        if value is None:
            if required or not allow_null:
                self.fail(name, None, "must not be null")
                return MISSING
            return NULL
        return value

    def string(
        self,
        name: str,
        *,
        required: bool = False,
        pattern: str | None = None,
        choices: Collection[str] | None = None,
        nullable: bool | None = None,
        non_blank: bool = False,
    ) -> Any:
        """A string member, checked against ``pattern`` / ``choices``."""
        value = self._get(name, required, nullable)
        if value is MISSING or value is NULL:
            return value
        if not isinstance(value, str):
            self.fail(name, value, "must be a string")
            return MISSING
        if (required or non_blank) and not value.strip():
            self.fail(name, value, "must not be blank")
            return MISSING
        if pattern is not None and not re.search(pattern, value):
            self.fail(name, value, f"must match {pattern}")
            return MISSING
        if choices is not None and value not in choices:
            self.fail(name, value, f"must be one of {sorted(choices)}")
            return MISSING
        return value

    def number(
        self, name: str, *, required: bool = False, minimum: float | None = None, nullable: bool | None = None
    ) -> Any:
        """A JSON number member (not a numeric string), at least ``minimum`` when given."""
        value = self._get(name, required, nullable)
        if value is MISSING or value is NULL:
            return value
        if not _is_number(value) or value != value or value in (float("inf"), float("-inf")):
            self.fail(name, value, "must be a number")
            return MISSING
        if minimum is not None and value < minimum:
            self.fail(name, value, f"must be greater than or equal to {minimum}")
            return MISSING
        return float(value)

    def integer(
        self, name: str, *, required: bool = False, minimum: int | None = None, nullable: bool | None = None
    ) -> Any:
        """A JSON integer member within int32."""
        value = self._get(name, required, nullable)
        if value is MISSING or value is NULL:
            return value
        if not isinstance(value, int) or isinstance(value, bool) or not -(2**31) <= value < 2**31:
            self.fail(name, value, "must be a 32-bit integer")
            return MISSING
        if minimum is not None and value < minimum:
            self.fail(name, value, f"must be greater than or equal to {minimum}")
            return MISSING
        return value

    def boolean(self, name: str, *, required: bool = False, nullable: bool | None = None) -> Any:
        """A JSON boolean member."""
        value = self._get(name, required, nullable)
        if value is MISSING or value is NULL:
            return value
        if not isinstance(value, bool):
            self.fail(name, value, "must be a boolean")
            return MISSING
        return value

    def string_list(
        self,
        name: str,
        *,
        required: bool = False,
        pattern: str | None = None,
        choices: Collection[str] | None = None,
        non_empty: bool = False,
        nullable: bool | None = None,
    ) -> Any:
        """An array of strings; every item checked against ``pattern`` / ``choices``."""
        value = self._get(name, required, nullable)
        if value is MISSING or value is NULL:
            return value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(name, value, "must be an array of strings")
            return MISSING
        if (required or non_empty) and not value:
            self.fail(name, value, "must not be empty")
            return MISSING
        for item in value:
            if (pattern is not None and not re.search(pattern, item)) or (
                choices is not None and item not in choices
            ):
                rule = f"must match {pattern}" if pattern else f"must be one of {sorted(choices or ())}"
                self.fail(name, item, f"every item {rule}")
                return MISSING
        return value

    def date(self, name: str, *, required: bool = False, nullable: bool | None = None) -> Any:
        """A ``yyyy-MM-dd`` date member."""
        value = self.string(name, required=required, nullable=nullable)
        if isinstance(value, str) and parse_date(value) is None:
            self.fail(name, value, "must be a date yyyy-MM-dd")
            return MISSING
        return value

    def date_time(self, name: str, *, nullable: bool | None = None) -> Any:
        """An ISO date or date-time member, returned normalised to UTC ``...Z``."""
        value = self.string(name, nullable=nullable)
        if isinstance(value, str):
            normal = normalise_date_time(value)
            if normal is None:
                self.fail(name, value, "must be an ISO date-time (yyyy-MM-ddTHH:mm:ssZ) or date")
                return MISSING
            return normal
        return value

    def timestamp(self, name: str) -> Any:
        """A ``yyyy-MM-dd HH:mm:ss`` search filter, returned as ISO ``yyyy-MM-ddTHH:mm:ss``."""
        value = self.string(name)
        if isinstance(value, str):
            iso = parse_timestamp(value)
            if iso is None:
                self.fail(name, value, "must be a timestamp yyyy-MM-dd HH:mm:ss")
                return MISSING
            return iso
        return value

    def path_value(self, name: str, value: str, pattern: str) -> None:
        """Check a path parameter against ``pattern``; its sub-error joins those of the body."""
        if not re.search(pattern, value):
            self.fail(name, value, f"must match {pattern}")

    def done(self) -> None:
        """Raise the collected sub-errors as one 400 VALIDATION_ERROR, if there are any."""
        if self.errors:
            raise validation_error(self.errors)


def check_company(name: str, value: str | None, company_id: str, *, required: bool = False) -> None:
    """Check a company id a request names (``sellerId``, ``parentCompanyId``, ``companyId``).

    Absent is fine unless ``required``; malformed → 400; another company than the token's → 403.
    """
    if value is None:
        if required:
            raise validation_error([SubError(name, None, "is required")])
        return
    if not re.search(COMPANY_ID_PATTERN, value):
        raise validation_error([SubError(name, value, f"must match {COMPANY_ID_PATTERN}")])
    if value != company_id:
        raise invalid_access(f"{name} {value!r} is not the company of this token")
