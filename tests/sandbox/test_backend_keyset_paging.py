"""Keyset paging gives exactly the pages plain OFFSET gives, on random data and while records change.

The reference is the same search with no seek marks (so every page is ``LIMIT n OFFSET k``). A recording
mark store proves that the pages under test were really found by seeking, not by the OFFSET fallback.
The data has what makes keyset paging go wrong when it is wrong: large groups of equal order values
(every row of one bulk file shares ``createdOn``), NULLs in order columns (``externalId``,
``invoiceNumber``, ``dispatchedOn``, ``uniqueRefNo``), and range filters on the order column.
"""

from __future__ import annotations

import random
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import pytest
from backend_helpers import SELLER, add_customer, add_invoice, invoice_upload

from sandbox.backend import ArBackend
from sandbox.backend.keyset_paging import SeekKey, SeekMarks
from sandbox.backend.search import CUSTOMER_ORDER, INVOICE_ORDER, PageRequest, SearchBackend
from sandbox.backend.store import Store

#: A range filter on the order column, per order member (the seek then replaces one end of it).
RANGE_ON_ORDER: dict[str, dict[str, Any]] = {
    "createdOn": {"createdOnFrom": "2000-01-01 00:00:00", "createdOnTo": "2999-12-31 23:59:59"},
    "dispatchedOn": {"dispatchedOnFrom": "2000-01-01 00:00:00"},
    "baseAmount": {"baseAmountFrom": 10.5, "baseAmountTo": 250},
    "balanceAmount": {"balanceAmountTo": 99},
}


class RecordingMarks(SeekMarks):
    """Seek marks that count how many pages were found by seeking."""

    def __init__(self) -> None:
        super().__init__()
        self.seeks = 0

    def nearest(self, query: Hashable, version: Hashable, offset: int) -> tuple[int, SeekKey] | None:
        found = super().nearest(query, version, offset)
        self.seeks += found is not None
        return found


def _random_filters(rng: random.Random, customer_ids: list[str]) -> dict[str, Any]:
    pool: list[dict[str, Any]] = [
        {},
        {"dispatched": False},
        {"dispatched": True},
        {"receivableStatuses": ["UNPAID", "PARTIALLY_PAID"]},
        {"customerIds": rng.sample(customer_ids, 2)},
        {"externalIds": [f"E{n}" for n in range(0, 40, 3)]},
        {"baseAmountFrom": 99},
        {"dueDateTo": "2025-08-02 00:00:00"},
        {"customerLegalName": "traders"},
    ]
    return rng.choice(pool)


def _cell(rng: random.Random, value: str) -> str:
    # An empty cell is "not given": the column stays NULL for that invoice.
    return "" if rng.random() < 0.25 else value


def _random_ledger(backend: ArBackend, rng: random.Random) -> list[str]:
    """Customers and ~200 invoices with ties, NULLs, dispatches, status changes and deletions; the ids
    of the customers still live."""
    customer_ids = [
        add_customer(backend, legalName=name, uniqueRefNo=_cell(rng, f"R{n % 3}") or None)["customerId"]
        for n, name in enumerate(["Asha Traders", "Bala Exports", "Chitra Traders", "Dev Stores"])
    ]
    for batch in range(4):
        rows = [
            {
                "customerId": rng.choice(customer_ids),
                "externalId": _cell(rng, f"E{rng.randrange(40)}"),
                "invoiceNumber": _cell(rng, f"N{rng.randrange(15)}"),
                "dueDate": rng.choice(["2025-08-01", "2025-08-02", "2025-09-15"]),
                "baseAmount": rng.choice(["10", "10.5", "99", "250"]),
                "invoiceDate": _cell(rng, "2025-07-0" + str(rng.randrange(1, 9))),
            }
            for _ in range(rng.randrange(30, 60))
        ]
        backend.bulk.create_invoices(SELLER, invoice_upload(rows), f"batch{batch}")
    for _ in range(10):
        add_invoice(backend, rng.choice(customer_ids), baseAmount=rng.choice([10.0, 99.0]))
    invoice_ids = [r["invoiceId"] for r in backend.search.invoices(SELLER, {}, PageRequest(0, 5000)).items]
    for _ in range(3):
        backend.invoices.dispatch(SELLER, {"invoiceIds": rng.sample(invoice_ids, 25)}, "http://sandbox.test/")
    for status in ("PAID", "CANCELLED", "PARTIALLY_PAID"):
        body = {"invoiceIds": rng.sample(invoice_ids, 8), "remarks": "test", "status": status}
        backend.bharat_connect.change_status(SELLER, body)
    backend.invoices.delete(SELLER, {"invoiceIds": rng.sample(invoice_ids, 6)})
    backend.customers.delete(SELLER, customer_ids[3])
    return customer_ids[:3]


def _walk_invoices(
    backend: ArBackend, seeking: SearchBackend, body: dict[str, Any], order_by: str, direction: str, size: int
) -> int:
    """Page through with ``seeking`` and check every page against OFFSET; the number of rows read."""
    reference = SearchBackend(backend.store, SeekMarks(max_queries=0))
    offset = 0
    while True:
        request = PageRequest(offset, size, order_by, direction)  # type: ignore[arg-type]
        page = seeking.invoices(SELLER, body, request).items
        assert page == reference.invoices(SELLER, body, request).items, (body, request)
        offset += len(page)
        if len(page) < size:
            return offset


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_invoice_pages_equal_offset_pages_for_every_order(backend: ArBackend, seed: int) -> None:
    rng = random.Random(seed)
    customer_ids = _random_ledger(backend, rng)
    marks = RecordingMarks()
    seeking = SearchBackend(backend.store, marks)
    for order_by in INVOICE_ORDER:
        for direction in ("ASC", "DESC"):
            for body in ({}, _random_filters(rng, customer_ids), RANGE_ON_ORDER.get(order_by, {})):
                _walk_invoices(backend, seeking, body, order_by, direction, rng.randrange(3, 40))
    assert marks.seeks > 500


def test_customer_pages_equal_offset_pages_for_every_order(backend: ArBackend) -> None:
    rng = random.Random(7)
    for n in range(60):
        add_customer(backend, legalName=f"Co {rng.randrange(9)}", uniqueRefNo=_cell(rng, f"R{n % 7}") or None)
    marks = RecordingMarks()
    seeking = SearchBackend(backend.store, marks)
    reference = SearchBackend(backend.store, SeekMarks(max_queries=0))
    for order_by in CUSTOMER_ORDER:
        for direction in ("ASC", "DESC"):
            for body in ({}, {"legalName": "co 3"}):
                offset = 0
                while True:
                    request = PageRequest(offset, 7, order_by, direction)
                    page = seeking.customers(SELLER, body, request).items
                    assert page == reference.customers(SELLER, body, request).items
                    offset += len(page)
                    if len(page) < 7:
                        break
    assert marks.seeks > 50


def test_pages_asked_out_of_order_or_twice_are_still_offset_pages(backend: ArBackend) -> None:
    rng = random.Random(11)
    _random_ledger(backend, rng)
    marks = RecordingMarks()
    seeking = SearchBackend(backend.store, marks)
    reference = SearchBackend(backend.store, SeekMarks(max_queries=0))
    offsets = [o for o in range(0, 220, 10) for _ in range(2)]
    rng.shuffle(offsets)
    for offset in offsets:
        request = PageRequest(offset, 10, "invoiceNumber", "DESC")
        assert seeking.invoices(SELLER, {}, request).items == reference.invoices(SELLER, {}, request).items
    assert marks.seeks > len(offsets) // 2


@pytest.mark.parametrize(("order_by", "direction"), [("createdOn", "ASC"), ("baseAmount", "DESC")])
def test_records_written_while_paging_show_in_the_next_page_as_offset_would(
    backend: ArBackend, order_by: str, direction: str
) -> None:
    rng = random.Random(5)
    customer_ids = _random_ledger(backend, rng)
    marks = RecordingMarks()
    seeking = SearchBackend(backend.store, marks)
    reference = SearchBackend(backend.store, SeekMarks(max_queries=0))
    offset, page_number = 0, 0
    while True:
        request = PageRequest(offset, 12, order_by, direction)  # type: ignore[arg-type]
        page = seeking.invoices(SELLER, {"dispatched": False}, request).items
        assert page == reference.invoices(SELLER, {"dispatched": False}, request).items
        if len(page) < 12:
            break
        offset += len(page)
        page_number += 1
        # Every other page, a write lands before and after the page boundary: new invoices (the
        # smallest and the largest amounts, "now" as createdOn) and a dispatch that removes one the
        # walk already passed.
        if page_number % 2:
            add_invoice(backend, rng.choice(customer_ids), baseAmount=rng.choice([0.5, 10.0, 5000.0]))
            backend.invoices.dispatch(SELLER, {"invoiceIds": [page[0]["invoiceId"]]}, "http://sandbox.test/")
    assert page_number > 5 and marks.seeks > 3


def test_a_write_by_another_process_on_the_same_file_is_seen_as_offset_would(tmp_path: Path) -> None:
    path = str(tmp_path / "sandbox.sqlite3")
    first, second = ArBackend(Store(path)), ArBackend(Store(path))
    try:
        customer_id = add_customer(first)["customerId"]
        for n in range(30):
            add_invoice(first, customer_id, baseAmount=10.0 + n)
        reference = SearchBackend(first.store, SeekMarks(max_queries=0))
        request = PageRequest(0, 10, "baseAmount", "ASC")
        assert (
            first.search.invoices(SELLER, {}, request).items == reference.invoices(SELLER, {}, request).items
        )
        add_invoice(second, customer_id, baseAmount=1.0)
        request = PageRequest(10, 10, "baseAmount", "ASC")
        page = first.search.invoices(SELLER, {}, request).items
        assert page == reference.invoices(SELLER, {}, request).items
        assert page[0]["baseAmount"] == 19.0
    finally:
        first.close()
        second.close()
