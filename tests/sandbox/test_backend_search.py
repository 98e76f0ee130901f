"""Search rules, proved on the backend directly: every filter, ordering with ties, paging, scoping."""

from __future__ import annotations

from typing import Any

import pytest
from backend_helpers import OTHER_COMPANY, SELLER, add_customer, add_invoice, refused, sub_error_fields

from sandbox.backend import ArBackend
from sandbox.backend.search import PageRequest

LINKS = "http://sandbox.test/"


@pytest.fixture
def ledger(backend: ArBackend) -> dict[str, Any]:
    """Zeta Traders with seven invoices E0..E6 (base 10..16), Other Co with one, O1."""
    zeta = add_customer(backend, legalName="Zeta Traders", uniqueRefNo="Z")["customerId"]
    other = add_customer(backend, legalName="Other Co", uniqueRefNo="O")["customerId"]
    ids = [
        add_invoice(backend, zeta, externalId=f"E{i}", invoiceNumber=f"N{i % 3}", baseAmount=10 + i)[
            "invoiceId"
        ]
        for i in range(7)
    ]
    add_invoice(backend, other, externalId="O1", dueDate="2025-09-30")
    return {"zeta": zeta, "other": other, "ids": ids}


def _ids(backend: ArBackend, body: Any, **page: Any) -> list[str]:
    return [r["invoiceId"] for r in backend.search.invoices(SELLER, body, PageRequest(**page)).items]


def test_offset_pages_cover_every_invoice_once_in_creation_order(
    backend: ArBackend, ledger: dict[str, Any]
) -> None:
    seen = [i for offset in range(0, 9, 3) for i in _ids(backend, {}, offset=offset, limit=3)]
    assert seen[:7] == ledger["ids"] and len(seen) == len(set(seen)) == 8
    assert _ids(backend, {}, offset=8, limit=3) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"externalIds": ["E2", "E4"]}, [2, 4]),
        ({"invoiceIds": "ids 1 5"}, [1, 5]),
        ({"invoiceNumbers": ["N1"]}, [1, 4]),
        ({"customerIds": "zeta", "baseAmountFrom": 15}, [5, 6]),
        ({"customerLegalName": "zeta", "baseAmountTo": 10.5}, [0]),
        ({"balanceAmountFrom": 12, "balanceAmountTo": 13}, [2, 3]),
        ({"receivableStatuses": ["PAID"]}, []),
        (
            {"approvalStatuses": ["APPROVER_APPROVED"], "customerStatus": "ACTIVE", "customerIds": "zeta"},
            list(range(7)),
        ),
        ({"dispatched": True}, []),
        ({"dueDateFrom": "2025-08-01 00:00:00", "dueDateTo": "2025-08-01 00:00:00"}, list(range(7))),
        ({"createdOnFrom": "2000-01-01 00:00:00", "customerIds": "zeta", "createdVia": "API"}, []),
        (
            {"externalIds": [], "collectionMode": ["ANY"], "colour": "red", "customerIds": "zeta"},
            list(range(7)),
        ),
    ],
)
def test_invoice_filters(
    backend: ArBackend, ledger: dict[str, Any], body: dict[str, Any], expected: list[int]
) -> None:
    resolved = dict(body)
    if resolved.get("invoiceIds") == "ids 1 5":
        resolved["invoiceIds"] = [ledger["ids"][1], ledger["ids"][5]]
    if resolved.get("customerIds") == "zeta":
        resolved["customerIds"] = [ledger["zeta"]]
    assert _ids(backend, resolved) == [ledger["ids"][i] for i in expected]


def test_range_filters_include_the_whole_last_second_and_read_utc(
    backend: ArBackend, ledger: dict[str, Any]
) -> None:
    created = backend.invoices.get(SELLER, ledger["ids"][0])["createdOn"]
    second = created[:10] + " " + created[11:19]
    assert ledger["ids"][0] in _ids(backend, {"createdOnFrom": second, "createdOnTo": second})
    assert _ids(backend, {"createdOnTo": "2000-01-01 00:00:00"}) == []


def test_dispatch_and_status_filters_follow_the_invoices(backend: ArBackend, ledger: dict[str, Any]) -> None:
    a, b = ledger["ids"][0], ledger["ids"][1]
    backend.invoices.dispatch(SELLER, {"invoiceIds": [a]}, LINKS)
    backend.bharat_connect.change_status(SELLER, {"invoiceIds": [b], "remarks": "r", "status": "PAID"})
    assert _ids(backend, {"dispatched": True}) == [a]
    assert _ids(backend, {"dispatchedOnFrom": "2000-01-01 00:00:00"}) == [a]
    assert _ids(backend, {"receivableStatuses": ["PAID"]}) == [b]
    assert b not in _ids(backend, {"receivableStatuses": ["UNPAID", "PARTIALLY_PAID"]})


def test_deleted_invoices_are_gone_and_deleted_customers_are_a_filter(
    backend: ArBackend, ledger: dict[str, Any]
) -> None:
    backend.invoices.delete(SELLER, {"invoiceIds": [ledger["ids"][0]]})
    assert ledger["ids"][0] not in _ids(backend, {})
    backend.customers.delete(SELLER, ledger["other"])
    orphan = _ids(backend, {"customerDeleted": True})
    assert len(orphan) == 1
    kept = backend.search.invoices(SELLER, {"customerDeleted": True}, PageRequest()).items[0]
    assert kept["customerLegalName"] == "Other Co"
    assert orphan[0] not in _ids(backend, {"customerDeleted": False})


def test_ordering_breaks_ties_by_id_in_the_same_direction(backend: ArBackend, ledger: dict[str, Any]) -> None:
    ids = ledger["ids"]
    by_number = _ids(backend, {"customerIds": [ledger["zeta"]]}, order_by="invoiceNumber")
    assert by_number == [ids[0], ids[3], ids[6], ids[1], ids[4], ids[2], ids[5]]
    down = _ids(backend, {"customerIds": [ledger["zeta"]]}, order_by="invoiceNumber", direction="DESC")
    assert down == list(reversed(by_number))
    assert _ids(
        backend, {"customerIds": [ledger["zeta"]]}, order_by="baseAmount", direction="DESC", limit=2
    ) == [
        ids[6],
        ids[5],
    ]


def test_another_company_sees_nothing(backend: ArBackend, ledger: dict[str, Any]) -> None:
    assert backend.search.invoices(OTHER_COMPANY, {}, PageRequest()).items == []
    assert backend.search.customers(OTHER_COMPANY, {}, PageRequest()).items == []


def test_bad_filters_are_reported_together(backend: ArBackend) -> None:
    error = refused(
        lambda: backend.search.invoices(
            SELLER,
            {
                "createdOnFrom": "2025-01-01",
                "approvalStatuses": ["NOPE"],
                "customerIds": ["KC1"],
                "dispatched": "no",
            },
            PageRequest(),
        )
    )
    assert sorted(sub_error_fields(error)) == [
        "approvalStatuses",
        "createdOnFrom",
        "customerIds",
        "dispatched",
    ]
    with pytest.raises(ValueError, match="colour"):
        backend.search.invoices(SELLER, {}, PageRequest(order_by="colour"))


def test_customer_search_filters_orders_and_answers_reminders(backend: ArBackend) -> None:
    reminder = {"dueDateDifference": 1, "reminderTime": "09:00", "reminderType": "ONCE"}
    ids = [
        add_customer(
            backend, uniqueRefNo=f"S-{i}", legalName=f"Search Co {i}", assignedAgent=f"agent{i % 2}"
        )["customerId"]
        for i in range(5)
    ]
    backend.reminders.create(SELLER, ids[1], reminder)
    backend.customers.set_status(SELLER, ids[2], "INACTIVE")
    backend.customers.delete(SELLER, ids[4])

    def search(body: dict[str, Any], **page: Any) -> list[str]:
        return [c["customerId"] for c in backend.search.customers(SELLER, body, PageRequest(**page)).items]

    assert search({}, offset=1, limit=2) == ids[1:3]
    assert search({"uniqueRefNos": ["S-1", "S-3", "S-4"]}) == [ids[1], ids[3]]
    assert search({"legalName": "co 3"}) == [ids[3]]
    assert search({"status": "INACTIVE"}) == [ids[2]]
    assert search({"assignedAgent": "agent1"}) == [ids[1], ids[3]]
    assert search({"customerIds": [ids[0], ids[4]]}) == [ids[0]]
    assert search({}, order_by="legalName", direction="DESC", limit=1) == [ids[3]]
    found = backend.search.customers(SELLER, {"customerIds": [ids[1]]}, PageRequest()).items[0]
    assert [r["reminderTime"] for r in found["customerReminders"]] == ["09:00"]
    assert sub_error_fields(refused(lambda: search({"status": "GONE"}))) == ["status"]
