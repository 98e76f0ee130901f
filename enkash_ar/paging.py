"""Search paging: the query parameters of one page, and walking offsets until a short page."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from enkash_ar.contract import MAX_SEARCH_LIMIT, SortDirection

R = TypeVar("R")


def paging_params(
    offset: int, limit: int, order_by: str | None, direction: SortDirection | str | None
) -> dict[str, Any]:
    """``offset``/``limit``/``orderBy``/``direction`` of one search page, checked against the contract."""
    if not 1 <= limit <= MAX_SEARCH_LIMIT:
        raise ValueError(f"limit must be within 1..{MAX_SEARCH_LIMIT}, got {limit}")
    if offset < 0:
        raise ValueError(f"offset must be >= 0, got {offset}")
    return {
        "offset": offset,
        "limit": limit,
        "orderBy": order_by,
        "direction": str(direction) if direction is not None else None,
    }


def iter_pages(fetch: Callable[[int, int], Sequence[R]], page_size: int) -> Iterator[Sequence[R]]:
    """Yield ``fetch(offset, limit)`` pages with growing offsets until a page comes back short.

    Only one page is held at a time, so a caller that reduces each page (to a frame, a count ...)
    keeps its memory bounded by a page however many records the search matches.
    """
    if not 1 <= page_size <= MAX_SEARCH_LIMIT:
        raise ValueError(f"page_size must be within 1..{MAX_SEARCH_LIMIT}, got {page_size}")
    offset = 0
    while True:
        page = fetch(offset, page_size)
        yield page
        if len(page) < page_size:
            return
        offset += page_size


def collect_pages(fetch: Callable[[int, int], Sequence[R]], page_size: int) -> list[R]:
    """Call ``fetch(offset, limit)`` with growing offsets until a page comes back short."""
    rows: list[R] = []
    for page in iter_pages(fetch, page_size):
        rows.extend(page)
    return rows


def unique_by(records: list[R], attr: str) -> list[R]:
    """Keep the first record of each ``attr`` value (records without one are all kept)."""
    # A record created while paging can shift a page boundary and show up twice.
    seen: set[Any] = set()
    out: list[R] = []
    for r in records:
        key = getattr(r, attr)
        if key is None or key not in seen:
            seen.add(key)
            out.append(r)
    return out
