"""One request as a handler sees it (``Call``), and the readers of its query string.

The generic endpoint (``sandbox.app``) fills a ``Call`` from the HTTP request: the token's company, path
and query parameters, the parsed body or upload. Handlers read what the operation needs from it and
call the backend. Reading ``offset``/``limit``/``orderBy``/``direction`` is here, because the contract
profile decides how paging reads (``offset`` as rows or as a page index, a limit above the maximum
refused or silently capped) while the backend's ``PageRequest`` stays the same; so is reading the
receivable status names a request carries, which are the profile's.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from enkash_ar.contract import ErrorType, SortDirection
from enkash_ar.contract_profile import SHIPPED_PROFILE, SearchSettings
from sandbox.answers import Answers
from sandbox.backend import ArBackend
from sandbox.backend.bulk_files import Upload
from sandbox.backend.checks import MISSING, check_company
from sandbox.backend.search import DEFAULT_LIMIT, PageRequest
from sandbox.errors import ApiError, SubError, validation_error
from sandbox.state import SandboxState

_INT32_MAX = 2**31 - 1


@dataclass
class Call:
    """One authenticated request, as a handler sees it."""

    state: SandboxState
    #: the company of the bearer token ("" for the token operation itself)
    company_id: str
    path: Mapping[str, str]
    query: Mapping[str, str]
    base_url: str
    request_id: str
    body: Any = MISSING
    upload: Upload | None = None
    authorization: str | None = None

    @property
    def backend(self) -> ArBackend:
        """The sandbox's backend."""
        return self.state.backend

    @property
    def answers(self) -> Answers:
        """How this sandbox words its answers."""
        return self.state.answers

    def scope(self, name: str, *, required: bool = False) -> None:
        """Check the company a query parameter (``sellerId``, ``parentCompanyId``, ``companyId``) names."""
        check_company(name, self.query.get(name), self.company_id, required=required)

    def paging(self, orderable: Collection[str], operation: str) -> PageRequest:
        """The page the query asks for, read as this sandbox's profile pages; 400 listing every bad
        paging parameter."""
        answers = self.answers
        return read_paging(
            self.query,
            orderable,
            settings=answers.profile.search,
            operation=operation,
            count_total=answers.wants_total(),
        )

    def refuse_unknown_filters(self) -> None:
        """400 CLIENT_REQUEST_ERROR when the search body names a filter this EnKash is set not to know
        (``FaultConfig.refused_filters``)."""
        refused = self.state.faults.config.refused_filters
        named = sorted(set(self.body) & set(refused)) if isinstance(self.body, dict) and refused else []
        if named:
            raise ApiError(
                400, ErrorType.CLIENT_REQUEST_ERROR, f"Unknown search filter(s): {', '.join(named)}"
            )

    def canonical_statuses(self, member: str) -> Any:
        """The body with the receivable status name(s) in ``member`` given their canonical names.

        A name this profile does not use is refused (400), as a server with other names would.
        """
        if not isinstance(self.body, dict) or self.body.get(member) is None:
            return self.body
        value = self.body[member]
        names = value if isinstance(value, list) else [value]
        if not all(isinstance(n, str) for n in names):
            return self.body  # the backend's own checks name the wrong type
        meanings = [self.answers.receivable_status_in(n) for n in names]
        unknown = [n for n, m in zip(names, meanings, strict=True) if m is None]
        if unknown:
            raise validation_error(
                [SubError(member, unknown, f"must be among {self.answers.receivable_names()}")]
            )
        canonical = [m.value for m in meanings if m is not None]
        return {**self.body, member: canonical if isinstance(value, list) else canonical[0]}


def _query_int(
    query: Mapping[str, str], name: str, default: int, lo: int, hi: int, errors: list[SubError]
) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        errors.append(SubError(name, raw, "must be an integer"))
        return default
    if not lo <= value <= hi:
        errors.append(SubError(name, raw, f"must be between {lo} and {hi}"))
        return default
    return value


def read_paging(
    query: Mapping[str, str],
    orderable: Collection[str],
    *,
    settings: SearchSettings = SHIPPED_PROFILE.search,
    operation: str = "searchCollectionInvoices",
    count_total: bool = False,
) -> PageRequest:
    """``offset`` >= 0 (default 0), ``limit`` >= 1 (default 100), ``orderBy`` one of ``orderable``
    (default ``createdOn``), ``direction`` ASC | DESC (default ASC).

    ``offset`` counts rows, or pages of ``limit`` rows when ``settings.offset`` is "page". A limit
    above the profile's page size is refused, or silently cut to it when ``settings.over_max`` is "cap".
    """
    errors: list[SubError] = []
    largest = next((n for op, n in settings.max_page_size.items() if op == operation), DEFAULT_LIMIT)
    offset = _query_int(query, "offset", 0, 0, _INT32_MAX, errors)
    capping = settings.over_max == "cap"
    limit = _query_int(query, "limit", DEFAULT_LIMIT, 1, _INT32_MAX if capping else largest, errors)
    order_by = query.get("orderBy", "createdOn")
    if order_by not in orderable:
        errors.append(SubError("orderBy", order_by, f"must be one of {sorted(orderable)}"))
    direction = query.get("direction", "ASC")
    if direction not in {d.value for d in SortDirection}:
        errors.append(SubError("direction", direction, "must be ASC or DESC"))
    if errors:
        raise validation_error(errors)
    limit = min(limit, largest)
    if settings.offset == "page":
        offset *= limit
    return PageRequest(
        offset, limit, order_by, "DESC" if direction == "DESC" else "ASC", count_total=count_total
    )
