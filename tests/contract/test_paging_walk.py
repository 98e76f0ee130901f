"""walk_pages against fake servers: a short page is never taken for the end without checking."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence

import pytest

from enkash_ar.errors import ContractMismatchError
from enkash_ar.paging import OffsetMode, SearchPage, offset_parameter, walk_pages

RECORDS = [f"R{i:03d}" for i in range(23)]


class FakeServer:
    """Pages ``RECORDS``: offset as rows or pages, limit capped or not, with or without a total."""

    def __init__(self, *, offset: OffsetMode = "row", cap: int | None = None, total: bool = False) -> None:
        self.offset, self.cap, self.total = offset, cap, total
        self.requests: list[tuple[int, int]] = []

    def __call__(self, parameter: int, limit: int) -> SearchPage[str]:
        self.requests.append((parameter, limit))
        size = min(limit, self.cap) if self.cap else limit
        start = parameter * size if self.offset == "page" else parameter
        return SearchPage(RECORDS[start : start + size], len(RECORDS) if self.total else None)


def walk(server: FakeServer, page_size: int, mode: OffsetMode = "row", read_ahead: bool = False) -> list[str]:
    pages: Sequence[Sequence[str]] = list(
        walk_pages(
            server, page_size, mode=mode, key=lambda r: r, operation="searchCustomer", read_ahead=read_ahead
        )
    )
    return [r for page in pages for r in page]


@pytest.mark.parametrize("mode", ["row", "page"])
@pytest.mark.parametrize("total", [False, True])
def test_a_server_paging_as_the_profile_says_gives_every_record_once(mode: OffsetMode, total: bool) -> None:
    assert walk(FakeServer(offset=mode, total=total), 5, mode) == RECORDS


def test_a_short_last_page_is_confirmed_by_an_empty_one() -> None:
    server = FakeServer()
    assert walk(server, 100) == RECORDS
    assert server.requests == [(0, 100), (23, 100)]


def test_a_verified_total_ends_the_walk_without_an_extra_request() -> None:
    server = FakeServer(total=True)
    assert walk(server, 100) == RECORDS
    assert server.requests == [(0, 100)]


@pytest.mark.parametrize("total", [False, True])
def test_a_silent_cap_is_reported_not_taken_for_the_end(total: bool) -> None:
    with pytest.raises(ContractMismatchError) as caught:
        walk(FakeServer(cap=10, total=total), 100)
    assert caught.value.setting == "search.max_page_size.searchCustomer"
    assert "caps limit at 10" in str(caught.value)
    assert "search.max_page_size.searchCustomer: 10" in str(caught.value)


@pytest.mark.parametrize(("server_reads", "profile_says"), [("page", "row"), ("row", "page")])
def test_offsets_read_otherwise_are_caught_before_the_second_page(
    server_reads: OffsetMode, profile_says: OffsetMode
) -> None:
    with pytest.raises(ContractMismatchError) as caught:
        walk(FakeServer(offset=server_reads), 5, profile_says)
    assert caught.value.setting == "search.offset"
    assert f"Set search.offset: {server_reads}" in str(caught.value)


def test_the_offset_probe_is_one_small_request() -> None:
    server = FakeServer()
    walk(server, 5)
    assert (1, 2) in server.requests
    assert len(server.requests) == 1 + 1 + 5  # the first page, the probe, four more pages and the empty one


def test_a_server_that_ignores_limit_is_reported() -> None:
    def fetch(parameter: int, limit: int) -> SearchPage[str]:
        return SearchPage(RECORDS)

    with pytest.raises(ContractMismatchError, match="does not honour limit"):
        list(walk_pages(fetch, 5, mode="row", key=lambda r: r, operation="searchCustomer"))


def test_a_total_the_pages_never_reach_is_reported() -> None:
    def fetch(parameter: int, limit: int) -> SearchPage[str]:
        return SearchPage(RECORDS[:limit] if parameter == 0 else [], 40)

    with pytest.raises(ContractMismatchError, match="counts 40 matches but its pages ended after 5"):
        list(
            walk_pages(fetch, 5, mode="row", key=lambda r: r, operation="searchCustomer", check_offsets=False)
        )


def test_a_page_index_offset_must_fall_on_a_page() -> None:
    assert offset_parameter(40, 20, "page") == 2
    assert offset_parameter(40, 20, "row") == 40
    with pytest.raises(ValueError, match="multiple of limit 20"):
        offset_parameter(30, 20, "page")


class GrowingServer(FakeServer):
    """A server where other writers create records while the walk reads: after the request numbered
    ``when``, ``new`` records are created at ``where`` in the sort order (the end, or the head)."""

    def __init__(self, *, offset: OffsetMode, when: int, new: int, where: str = "end") -> None:
        super().__init__(offset=offset)
        self.records, self.when, self.new, self.where = list(RECORDS), when, new, where

    def __call__(self, parameter: int, limit: int) -> SearchPage[str]:
        self.requests.append((parameter, limit))
        start = parameter * limit if self.offset == "page" else parameter
        page = SearchPage(self.records[start : start + limit])
        if len(self.requests) == self.when:
            created = [f"N{i:03d}" for i in range(self.new)]
            self.records = self.records + created if self.where == "end" else created + self.records
        return page


@pytest.mark.parametrize("mode", ["row", "page"])
@pytest.mark.parametrize(("when", "new"), [(1, 3), (1, 40), (4, 1), (4, 9)])
def test_records_created_during_the_walk_are_taken_not_called_a_cap(
    mode: OffsetMode, when: int, new: int
) -> None:
    # Page size 10 over 23 records: the short page (3 rows) is answered third; records created
    # before or right after it make the next page non-empty, as a cap would.
    server = GrowingServer(offset=mode, when=when, new=new)
    got = walk(server, 10, mode)
    assert len(got) == len(set(got)), "no record twice"
    assert set(RECORDS) <= set(got) <= set(server.records), "every record there when the walk began"
    if when == 1:
        assert set(got) == set(server.records), "records created before the last page was read are taken"


@pytest.mark.parametrize("mode", ["row", "page"])
def test_records_created_ahead_of_the_walk_push_rows_along_and_are_not_yielded_twice(
    mode: OffsetMode,
) -> None:
    server = GrowingServer(offset=mode, when=3, new=2, where="head")
    got = walk(server, 10, mode)
    assert len(got) == len(set(got)), "a row pushed onto the next page is yielded once"
    assert set(RECORDS) <= set(got), "no record that existed when the walk began is missed"


def test_the_cap_is_confirmed_by_one_probe_one_row_above_the_short_page() -> None:
    server = FakeServer(cap=10)
    with pytest.raises(ContractMismatchError, match="caps limit at 10"):
        walk(server, 100)
    assert server.requests[-1] == (0, 11)


#: Servers of the tests above, each made fresh: (page size, offset mode the profile says, server).
SCENARIOS: dict[str, tuple[int, OffsetMode, Callable[[], FakeServer]]] = {
    "rows": (5, "row", lambda: FakeServer()),
    "pages with a total": (5, "page", lambda: FakeServer(offset="page", total=True)),
    "a short last page": (100, "row", lambda: FakeServer()),
    "a silent cap": (100, "row", lambda: FakeServer(cap=10)),
    "a capped server with a total": (100, "row", lambda: FakeServer(cap=10, total=True)),
    "offsets read as pages": (5, "row", lambda: FakeServer(offset="page")),
    "growing at the end": (10, "row", lambda: GrowingServer(offset="row", when=4, new=9)),
    "growing by pages": (10, "page", lambda: GrowingServer(offset="page", when=1, new=40)),
    "growing at the head": (10, "row", lambda: GrowingServer(offset="row", when=3, new=2, where="head")),
}


def _outcome(scenario: str, read_ahead: bool) -> tuple[list[str] | str, list[tuple[int, int]]]:
    page_size, mode, make = SCENARIOS[scenario]
    server = make()
    try:
        got: list[str] | str = walk(server, page_size, mode, read_ahead=read_ahead)
    except ContractMismatchError as exc:
        got = str(exc)
    return got, server.requests


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_reading_ahead_sends_the_same_requests_in_the_same_order_and_gives_the_same_records(
    scenario: str,
) -> None:
    assert _outcome(scenario, read_ahead=True) == _outcome(scenario, read_ahead=False)


def test_the_next_page_is_asked_for_while_the_caller_reads_the_one_before() -> None:
    asked = {parameter: threading.Event() for parameter in (0, 5, 10)}
    server = FakeServer(total=True)

    def fetch(parameter: int, limit: int) -> SearchPage[str]:
        if parameter in asked:
            asked[parameter].set()
        return server(parameter, limit)

    pages = walk_pages(fetch, 5, mode="row", key=lambda r: r, operation="searchCustomer", read_ahead=True)
    first = next(pages)
    # The caller still holds the first page: the second is asked for meanwhile, the third not yet.
    assert asked[5].wait(timeout=10), "the next page was not asked for while the caller read"
    assert not asked[10].is_set()
    rest = [r for page in pages for r in page]
    assert [*first, *rest] == RECORDS
    assert server.requests.count((5, 5)) == 1


def test_a_page_read_ahead_that_fails_fails_the_walk_when_the_walk_reaches_it() -> None:
    server = FakeServer()

    def fetch(parameter: int, limit: int) -> SearchPage[str]:
        if parameter == 10:
            raise ConnectionError("the server went away")
        return server(parameter, limit)

    pages = walk_pages(fetch, 5, mode="row", key=lambda r: r, operation="searchCustomer", read_ahead=True)
    assert next(pages) == RECORDS[:5]
    assert next(pages) == RECORDS[5:10]  # page 10 failed meanwhile: raised when it is its turn
    with pytest.raises(ConnectionError, match="went away"):
        next(pages)


def test_a_page_read_ahead_runs_in_the_callers_context() -> None:
    tenant: contextvars.ContextVar[str] = contextvars.ContextVar("tenant", default="none")
    seen: list[str] = []
    server = FakeServer()

    def fetch(parameter: int, limit: int) -> SearchPage[str]:
        seen.append(tenant.get())
        return server(parameter, limit)

    tenant.set("seller-1")
    list(walk_pages(fetch, 5, mode="row", key=lambda r: r, operation="searchCustomer", read_ahead=True))
    assert set(seen) == {"seller-1"}
