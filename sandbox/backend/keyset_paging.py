"""Keyset paging behind the offset contract: where recent pages ended, and the seek that continues there.

Searches take ``offset``/``limit``, and ``LIMIT n OFFSET k`` makes SQLite step over k rows, so reading N
records in pages costs O(N²). Instead, after serving a page the search remembers the key (order value,
id) of its last row under the position that row ends (``SeekMarks``). When a request asks for offset O
and a mark at position M <= O exists for the same query, the search selects the rows *after* that key
(``seek_condition``, backed by the order index) and skips only O - M of them. A client walking pages in
order always finds M == O, so each page costs O(limit) and a full read is linear.

Why the answer is the same as plain OFFSET, also while records are written:

- ``ORDER BY column, id`` is a total order (ids are unique), so on unchanged data the rows after the row
  at position M - 1 are exactly the rows at positions M, M + 1, ...;
- a mark is only used on unchanged data: every mark carries the store's data version (``Store.data_version``:
  every row inserted, updated or deleted by any request moves it, and so does a commit by another
  process), and all marks are forgotten when it moves. The version is read in the same transaction as the
  page, under the store lock, so no write can come between them;
- so after an insert (or any write) the next page is answered with plain OFFSET, exactly as before, and
  its end becomes the new mark: the pages that follow are seeks again. A write costs one OFFSET page.

NULLs: SQLite sorts NULL first ascending and last descending; ``seek_condition`` follows that rule, so an
order column with NULLs pages the same way.

Cost: the seek is a range scan of the order index for ``createdOn`` ascending, the order the client
reads invoices in (``invoices_order`` / ``customers_order`` in the store). Other orders, and descending
ones whose column may hold NULLs, are answered right but still scan or sort up to the key on each page:
no worse than OFFSET, not linear.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SeekKey:
    """The key of the last row of a page: its order value and its id."""

    value: Any
    row_id: str


def seek_condition(
    order_sql: str, id_sql: str, direction: str, key: SeekKey, *, nulls_possible: bool = True
) -> tuple[str, list[Any]]:
    """SQL (and its parameters) true for exactly the rows that come after ``key`` in
    ``ORDER BY order_sql direction, id_sql direction``.

    ``nulls_possible=False`` says no row with a NULL order value can match the query anyway (a range
    filter on the order column excludes them): the condition is then the plain row-value comparison,
    which SQLite answers with a range scan of the order index.
    """
    ascending = direction == "ASC"
    if key.value is None:
        if ascending:  # the rest of the NULLs, then every non-NULL value
            return f"(({order_sql} IS NULL AND {id_sql} > ?) OR {order_sql} IS NOT NULL)", [key.row_id]
        return f"({order_sql} IS NULL AND {id_sql} < ?)", [key.row_id]
    comparison = f"({order_sql}, {id_sql}) {'>' if ascending else '<'} (?, ?)"
    if ascending or not nulls_possible:
        return comparison, [key.value, key.row_id]
    return f"({comparison} OR {order_sql} IS NULL)", [key.value, key.row_id]


class SeekMarks:
    """Where recent pages of recent queries ended, valid for one data version.

    ``query`` is anything hashable that identifies the rows and their order (filters with their
    parameters, order column, direction) but not the page: pages of any size share marks.
    """

    def __init__(self, *, max_queries: int = 32, max_marks: int = 16) -> None:
        self._lock = threading.Lock()
        self._version: Hashable = None
        self._marks: OrderedDict[Hashable, OrderedDict[int, SeekKey]] = OrderedDict()
        self._max_queries = max_queries
        self._max_marks = max_marks

    def _at(self, version: Hashable) -> None:
        if version != self._version:
            self._marks.clear()
            self._version = version

    def nearest(self, query: Hashable, version: Hashable, offset: int) -> tuple[int, SeekKey] | None:
        """The mark at the greatest position <= ``offset`` for ``query`` on data ``version``, or None."""
        with self._lock:
            self._at(version)
            marks = self._marks.get(query)
            if not marks:
                return None
            position = max((p for p in marks if p <= offset), default=None)
            return None if position is None else (position, marks[position])

    def remember(self, query: Hashable, version: Hashable, position: int, key: SeekKey) -> None:
        """Note that the row at ``position - 1`` of ``query`` on data ``version`` has ``key``."""
        with self._lock:
            self._at(version)
            marks = self._marks.setdefault(query, OrderedDict())
            self._marks.move_to_end(query)
            marks[position] = key
            marks.move_to_end(position)
            # A forward walk needs only its latest mark; a few more serve pages fetched out of order.
            while len(marks) > self._max_marks:
                marks.popitem(last=False)
            while len(self._marks) > self._max_queries:
                self._marks.popitem(last=False)

    def forget(self) -> None:
        """Drop every mark."""
        with self._lock:
            self._marks.clear()
