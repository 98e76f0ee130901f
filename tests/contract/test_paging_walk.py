"""walk_pages against fake servers: a short page is never taken for the end without checking."""

from __future__ import annotations

from collections.abc import Sequence

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


def walk(server: FakeServer, page_size: int, mode: OffsetMode = "row") -> list[str]:
    pages: Sequence[Sequence[str]] = list(
        walk_pages(server, page_size, mode=mode, key=lambda r: r, operation="searchCustomer")
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
