"""Search paging: the query parameters of one page, and walking every page without trusting a short one.

How EnKash pages is a guess (contract profile ``search``): ``offset`` may count rows or pages, a
limit above the server's maximum may be refused or silently capped, and a page may or may not carry
a total. So the walk never takes a short page for the end:

- it goes on until an empty page, or until the server's total (a Spring ``Page``'s ``totalElements``)
  is reached;
- a short page followed by more rows is either a silent cap or records created while the walk read
  (another writer, or this process's own concurrent chunks). One probe tells them apart: offset 0
  with a limit one above the short page. A capped server still answers the short count, and that is
  a :class:`~enkash_ar.errors.ContractMismatchError`, never a partial result; a server that answers
  more has grown, and the walk goes on and takes the new records;
- before the walk leaves its first full page, one small probe (offset 1, limit 2) checks that the
  server reads ``offset`` as the profile says; a server that reads it otherwise would hand out a
  different slice of the records for every page. A later page that repeats records of the page
  before it is checked the same way: when the probe agrees with the profile, the repeats are records
  pushed along by ones created meanwhile, and they are dropped, not yielded twice.

Only one page is held at a time (and the next one once it has arrived), so a caller that reduces each
page (to a frame, a count ...) keeps its memory bounded by a page however many records the search
matches.

With ``read_ahead``, the next page is asked for while the caller reads the one before (the server
answering while this process parses): only a page the walk is certain to ask for next, so the requests
are the same ones in the same order, each sent earlier.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from enkash_ar.context_threads import ContextThread
from enkash_ar.contract import MAX_SEARCH_LIMIT, SortDirection
from enkash_ar.errors import CONTRACT_PROFILE_HINT, ContractMismatchError

R = TypeVar("R")
OffsetMode = Literal["row", "page"]


@dataclass(frozen=True)
class SearchPage(Generic[R]):
    """One answered page: its records, and the server's count of every match when it gives one."""

    items: Sequence[R]
    total: int | None = None


#: Fetches one page: (offset parameter as sent, limit) -> the page.
Fetch = Callable[[int, int], SearchPage[R]]


class _Pages(Generic[R]):
    """A walk's requests: with ``read_ahead``, the next page is fetched on a thread of its own while the
    caller reads the one before; without, every page is fetched when asked for.

    ``fetch`` serves a request from the page asked for ahead when it is that page (same offset and
    limit), and sends any other request itself; the page asked for ahead stays for its turn. The thread
    runs in a copy of the caller's context (its log lines stay where the caller's go) and is a daemon:
    a page nobody will read never holds up the process's exit.
    """

    def __init__(self, fetch: Fetch[R], read_ahead: bool) -> None:
        self._fetch, self._read_ahead = fetch, read_ahead
        self._ahead: tuple[tuple[int, int], Future[SearchPage[R]]] | None = None

    def start(self, parameter: int, limit: int) -> None:
        """With read_ahead, ask for the page at ``parameter`` now, for a later ``fetch(parameter, limit)``."""
        if not self._read_ahead:
            return
        future: Future[SearchPage[R]] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(self._fetch(parameter, limit))
            except BaseException as exc:  # raised in the caller's thread, when it takes the page
                future.set_exception(exc)

        self._ahead = ((parameter, limit), future)
        ContextThread(target=run, name="enkash-read-ahead", daemon=True).start()

    def fetch(self, parameter: int, limit: int) -> SearchPage[R]:
        """The page: the one asked for ahead when it is this one (its failure raised here), else sent now."""
        if self._ahead is not None and self._ahead[0] == (parameter, limit):
            ahead, self._ahead = self._ahead[1], None
            return ahead.result()
        return self._fetch(parameter, limit)

    def close(self) -> None:
        """Stop: a page asked for ahead and not taken is left to finish on its own, unread."""
        if self._ahead is not None:
            self._ahead[1].cancel()
            self._ahead = None


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


def offset_parameter(row_offset: int, limit: int, mode: OffsetMode) -> int:
    """The ``offset`` to send for the page starting at ``row_offset`` (a row count, or a page index).

    Raises:
        ValueError: ``mode`` is "page" and ``row_offset`` is not a multiple of ``limit``.

    Example:
        >>> offset_parameter(200, 100, "page")
        2
    """
    if mode == "row":
        return row_offset
    if row_offset % limit:
        raise ValueError(
            f"this EnKash pages by page index (contract profile search.offset: page): offset {row_offset} "
            f"must be a multiple of limit {limit}"
        )
    return row_offset // limit


def walk_pages(
    fetch: Fetch[R],
    page_size: int,
    *,
    mode: OffsetMode,
    key: Callable[[R], Hashable],
    operation: str,
    check_offsets: bool = True,
    read_ahead: bool = False,
) -> Iterator[Sequence[R]]:
    """Yield every page of a search, checking as it goes that the server pages as the profile says.

    Args:
        fetch: one page by (offset parameter, limit).
        page_size: the limit of every page (at most the server's maximum, per the profile).
        mode: what ``offset`` counts on this server (profile ``search.offset``).
        key: the identity of a record (its id), to compare the probe with the first page.
        operation: the search's operationId, for messages.
        check_offsets: probe how ``offset`` is read before the second page (once per client is enough).
        read_ahead: ask for the next page while the caller reads this one (see the module doc).

    Raises:
        ContractMismatchError: a silent cap, a total that the pages do not reach, more rows than
            asked, or an ``offset`` read otherwise than the profile says.
    """
    if not 1 <= page_size <= MAX_SEARCH_LIMIT:
        raise ValueError(f"page_size must be within 1..{MAX_SEARCH_LIMIT}, got {page_size}")
    pages = _Pages(fetch, read_ahead)
    try:
        yield from _walk(pages, page_size, mode, key, operation, check_offsets)
    finally:
        pages.close()


def _walk(
    pages: _Pages[R],
    page_size: int,
    mode: OffsetMode,
    key: Callable[[R], Hashable],
    operation: str,
    check_offsets: bool,
) -> Iterator[Sequence[R]]:
    fetch = pages.fetch
    parameter, seen, short_at = 0, 0, None
    previous: set[Hashable] = set()
    reread: set[Hashable] = set()  # keys already yielded of a page read again
    while True:
        page = fetch(parameter, page_size)
        count = len(page.items)
        if count > page_size:
            raise _mismatch(
                operation,
                f"asked for {page_size} rows and got {count}: the server does not honour limit",
                "search.max_page_size",
            )
        keys = [key(r) for r in page.items]
        if count and short_at is not None:
            if len(fetch(0, short_at + 1).items) <= short_at:
                raise _capped(operation, page_size, short_at)
            # The server answers more rows than the short page held: records were created meanwhile.
            short_at = None
            if mode == "page":
                # Some may sit on the short page, which the next page index cannot reach: read it again.
                parameter -= 1
                reread = previous
                continue
        drop = reread or previous.intersection(keys)
        if drop and not reread:
            # A misread offset, or records pushed along by ones created while the walk read.
            _check_offsets(fetch, fetch(0, 4).items, mode=mode, key=key, operation=operation)
        items = [r for r, k in zip(page.items, keys, strict=True) if k not in drop] if drop else page.items
        previous, reread = set(keys), set()
        if not count:
            if page.total is not None and seen < page.total:
                raise _mismatch(
                    operation,
                    f"the server counts {page.total} matches but its pages ended after {seen} "
                    f"(offset {parameter} came back empty)",
                    "search.offset",
                )
            return
        if parameter == 0 and count == page_size and check_offsets:
            _check_offsets(fetch, page.items, mode=mode, key=key, operation=operation)
        if items:
            last = page.total is not None and (seen + len(items) >= page.total or count < page_size)
            if not last:
                # The walk asks for this page next, whatever the caller does with this one.
                pages.start(parameter + (count if mode == "row" else 1), page_size)
            yield items
        seen += len(items)
        if page.total is not None and seen >= page.total:
            return
        if count < page_size:
            if page.total is not None:
                raise _capped(operation, page_size, count, total=page.total)
            short_at = count
        parameter += count if mode == "row" else 1


def _check_offsets(
    fetch: Fetch[R], first: Sequence[R], *, mode: OffsetMode, key: Callable[[R], Hashable], operation: str
) -> None:
    """Ask for offset 1, limit 2 and compare with the rows of the first page the profile expects."""
    as_rows, as_pages = [key(r) for r in first[1:3]], [key(r) for r in first[2:4]]
    expected = as_rows if mode == "row" else as_pages
    if len(expected) < 2:
        return  # the first page is too small to tell; doctor checks it on a bigger one
    got = [key(r) for r in fetch(1, 2).items]
    if got == expected:
        return
    if got == (as_pages if mode == "row" else as_rows):
        reading = "a page index" if mode == "row" else "a row count"
        wanted = "page" if mode == "row" else "row"
    else:
        reading, wanted = "neither a row count nor a page index", "row or page"
    raise _mismatch(
        operation,
        f"offset 1 with limit 2 did not answer what the profile's search.offset: {mode} predicts; "
        f"the server reads offset as {reading}. Set search.offset: {wanted}",
        "search.offset",
    )


def _capped(operation: str, asked: int, got: int, *, total: int | None = None) -> ContractMismatchError:
    more = f"the server counts {total} matches" if total is not None else "the next page had more"
    return _mismatch(
        operation,
        f"asked for {asked} rows and got {got}, yet {more}: the server caps limit at {got} without "
        f"saying so. Set search.max_page_size.{operation}: {got} and search.over_max: cap",
        f"search.max_page_size.{operation}",
    )


def _mismatch(operation: str, what: str, setting: str) -> ContractMismatchError:
    return ContractMismatchError(
        f"{operation}: {what}. Nothing was taken from this search, since its pages cannot be trusted. "
        f"{CONTRACT_PROFILE_HINT}",
        operation=operation,
        setting=setting,
    )


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
