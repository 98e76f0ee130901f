"""One request as a handler sees it (``Call``), and the readers of its query string.

The generic endpoint (``sandbox.app``) fills a ``Call`` from the HTTP request: the token's company, path
and query parameters, the parsed body or upload. Handlers read what the operation needs from it and
call the backend. Reading ``offset``/``limit``/``orderBy``/``direction`` is here, because another
contract profile would read paging differently (page indexes, a limit capped instead of refused)
while the backend's ``PageRequest`` stays the same.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from enkash_ar.contract import MAX_SEARCH_LIMIT, SortDirection
from sandbox.answers import Answers
from sandbox.backend import ArBackend
from sandbox.backend.bulk_files import Upload
from sandbox.backend.checks import MISSING, check_company
from sandbox.backend.search import DEFAULT_LIMIT, PageRequest
from sandbox.errors import SubError, validation_error
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

    def paging(self, orderable: Collection[str]) -> PageRequest:
        """The page the query asks for; 400 listing every bad paging parameter."""
        return read_paging(self.query, orderable)


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
    query: Mapping[str, str], orderable: Collection[str], *, max_limit: int = MAX_SEARCH_LIMIT
) -> PageRequest:
    """``offset`` >= 0 (default 0), ``limit`` 1..``max_limit`` (default 100), ``orderBy`` one of
    ``orderable`` (default ``createdOn``), ``direction`` ASC | DESC (default ASC).
    """
    errors: list[SubError] = []
    offset = _query_int(query, "offset", 0, 0, _INT32_MAX, errors)
    limit = _query_int(query, "limit", DEFAULT_LIMIT, 1, max_limit, errors)
    order_by = query.get("orderBy", "createdOn")
    if order_by not in orderable:
        errors.append(SubError("orderBy", order_by, f"must be one of {sorted(orderable)}"))
    direction = query.get("direction", "ASC")
    if direction not in {d.value for d in SortDirection}:
        errors.append(SubError("direction", direction, "must be ASC or DESC"))
    if errors:
        raise validation_error(errors)
    return PageRequest(offset, limit, order_by, "DESC" if direction == "DESC" else "ASC")
