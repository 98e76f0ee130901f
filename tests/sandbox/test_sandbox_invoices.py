"""Invoices, dispatch, Bharat Connect status changes and invoice search over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sandbox_helpers import new_customer, new_invoice, sub_error_fields


def test_create_and_get_invoice_compute_amounts(api: httpx.Client) -> None:
    cid = new_customer(api)["customerId"]
    created = new_invoice(
        api, cid, baseAmount=1000, cgst=90, sgst=90, tds=10, externalId="ERP-1", invoiceNumber="N1"
    )
    assert created["netAmount"] == 1170.0
    assert created["balanceAmount"] == 1170.0 and created["totalReceived"] == 0
    assert created["receivableStatus"]["name"] == "UNPAID"
    assert created["dispatched"] is False and "dispatchedOn" not in created
    fetched = api.get(f"/api/v0/invoice/{created['invoiceId']}", params={"sellerId": "CEKSANDBX1"}).json()[
        "payload"
    ]
    assert fetched == created


def test_create_invoice_validation(api: httpx.Client) -> None:
    response = api.post(
        "/api/v0/invoice",
        json={
            "customerId": "KC1",
            "dueDate": "01-08-2025",
            "baseAmount": 0.05,
            "approvalStatus": "OK",
            "invoiceDate": "yesterday",
            "cgst": "9",
        },
    )
    assert response.status_code == 400
    assert sub_error_fields(response) == [
        "customerId",
        "dueDate",
        "baseAmount",
        "invoiceDate",
        "approvalStatus",
        "cgst",
    ]
    missing = api.post("/api/v0/invoice", json={})
    assert sub_error_fields(missing) == ["customerId", "dueDate", "baseAmount"]


def test_unknown_customer_and_invoice_are_404(api: httpx.Client) -> None:
    unknown = api.post(
        "/api/v0/invoice", json={"customerId": "KCZZZZZZZZZZZZZZ", "dueDate": "2025-08-01", "baseAmount": 5}
    )
    assert unknown.status_code == 404
    assert api.get("/api/v0/invoice/INV404").json()["errorResponse"]["errorType"] == "RECORD_NOT_FOUND"
    assert api.get("/api/v0/invoice/INV404", params={"sellerId": "CEKOTHER99"}).status_code == 403


def test_no_dedup_by_external_id(api: httpx.Client) -> None:
    cid = new_customer(api)["customerId"]
    first = new_invoice(api, cid, externalId="SAME")
    second = new_invoice(api, cid, externalId="SAME")
    assert first["invoiceId"] != second["invoiceId"]


def test_update_invoice_json_nullable(api: httpx.Client) -> None:
    cid = new_customer(api)["customerId"]
    invoice = new_invoice(api, cid, description="old", cgst=10)
    url = f"/api/v0/invoice/{invoice['invoiceId']}"
    updated = api.patch(url, json={"description": None, "baseAmount": 200, "poNumber": "PO-9"}).json()[
        "payload"
    ]
    assert "description" not in updated
    assert updated["netAmount"] == 210.0 and updated["balanceAmount"] == 210.0
    assert updated["poNumber"] == "PO-9"
    refused = api.patch(url, json={"baseAmount": None, "dueDate": "2025-02-30", "customerId": None})
    assert refused.status_code == 400
    assert sub_error_fields(refused) == ["customerId", "dueDate", "baseAmount"]


def test_dispatch_counts_every_successful_dispatch(
    api: httpx.Client, sandbox_state: Callable[..., dict[str, Any]]
) -> None:
    cid = new_customer(api)["customerId"]
    a, b = new_invoice(api, cid)["invoiceId"], new_invoice(api, cid)["invoiceId"]
    result = api.post(
        "/api/v0/invoice/bulk/dispatch", json={"invoiceIds": [a, "INVNOPE"], "partialPaymentAllowed": True}
    ).json()["payload"]
    assert [i["invoiceId"] for i in result["successInvoices"]] == [a]
    assert [i["invoiceId"] for i in result["failureInvoices"]] == ["INVNOPE"]
    again = api.post("/api/v0/invoice/bulk/dispatch", json={"invoiceIds": [a]}).json()["payload"]
    assert len(again["successInvoices"]) == 1
    counts = {i["invoiceId"]: i["dispatch_count"] for i in sandbox_state()["invoices"]}
    assert counts == {a: 2, b: 0}
    fetched = api.get(f"/api/v0/invoice/{a}").json()["payload"]
    assert fetched["dispatched"] is True and fetched["paymentLink"].endswith(f"/pay/{a}")


def test_paid_or_cancelled_invoices_are_not_dispatched(api: httpx.Client) -> None:
    cid = new_customer(api)["customerId"]
    iid = new_invoice(api, cid)["invoiceId"]
    api.post(
        "/api/v0/invoice/change-status", json={"invoiceIds": [iid], "remarks": "x", "status": "CANCELLED"}
    )
    result = api.post("/api/v0/invoice/bulk/dispatch", json={"invoiceIds": [iid]}).json()["payload"]
    assert result["failureInvoices"][0]["message"] == "Invoice is CANCELLED"


def test_delete_collection(api: httpx.Client) -> None:
    cid = new_customer(api)["customerId"]
    iid = new_invoice(api, cid)["invoiceId"]
    result = api.post("/api/v0/invoice/bulk/delete", json={"invoiceIds": [iid, iid]}).json()["payload"]
    assert len(result["successInvoices"]) == 1 and len(result["failureInvoices"]) == 1
    assert api.get(f"/api/v0/invoice/{iid}").status_code == 404


def test_payment_confirmation_settles_the_invoice(api: httpx.Client) -> None:
    cid = new_customer(api)["customerId"]
    invoice = new_invoice(api, cid, cgst=18)
    body = {
        "invoiceIds": [invoice["invoiceId"]],
        "paymentId": "PMT1",
        "remarks": "ok",
        "response": "ACCEPT",
        "type": "OFFPLATFORM",
    }
    response = api.post("/api/v0/invoice/payment-confirmation", json=body)
    assert response.status_code == 200
    assert response.json()["response_code"] == 0 and isinstance(response.json()["payload"], str)
    paid = api.get(f"/api/v0/invoice/{invoice['invoiceId']}").json()["payload"]
    assert paid["receivableStatus"]["name"] == "PAID"
    assert paid["balanceAmount"] == 0 and paid["totalReceived"] == 118.0


def test_bharat_connect_errors(api: httpx.Client) -> None:
    missing = api.post("/api/v0/invoice/payment-confirmation", json={"invoiceIds": ["X"]})
    assert missing.status_code == 400
    body = missing.json()
    assert body["response_code"] == 1 and body["payload"] == ""
    assert sub_error_fields(missing) == ["paymentId", "remarks", "response", "type"]
    unknown = api.post(
        "/api/v0/invoice/change-status", json={"invoiceIds": ["INVX"], "remarks": "r", "status": "PAID"}
    )
    assert unknown.status_code == 404


def test_change_status_reopens_and_closes(api: httpx.Client) -> None:
    cid = new_customer(api)["customerId"]
    iid = new_invoice(api, cid)["invoiceId"]
    url = "/api/v0/invoice/change-status"
    api.post(url, json={"invoiceIds": [iid], "remarks": "r", "status": "PAID"})
    assert api.get(f"/api/v0/invoice/{iid}").json()["payload"]["balanceAmount"] == 0
    api.post(url, json={"invoiceIds": [iid], "remarks": "r", "status": "UNPAID"})
    reopened = api.get(f"/api/v0/invoice/{iid}").json()["payload"]
    assert reopened["balanceAmount"] == 100.0 and reopened["receivableStatus"]["name"] == "UNPAID"
    bad = api.post(url, json={"invoiceIds": [iid], "remarks": "r", "status": "DONE"})
    assert bad.status_code == 400 and sub_error_fields(bad) == ["status"]


def test_search_paging_is_deterministic_and_filters_work(api: httpx.Client) -> None:
    cid = new_customer(api, legalName="Zeta Traders")["customerId"]
    other = new_customer(api, legalName="Other")["customerId"]
    ids = [new_invoice(api, cid, externalId=f"E{i}", baseAmount=10 + i)["invoiceId"] for i in range(7)]
    new_invoice(api, other, externalId="O1")
    seen = []
    for offset in range(0, 8, 3):
        page = api.post("/api/v0/invoice/search", params={"offset": offset, "limit": 3}, json={}).json()[
            "payload"
        ]
        seen += [i["invoiceId"] for i in page]
    assert seen[:7] == ids and len(seen) == 8

    def search(body: dict[str, Any], **params: Any) -> list[str]:
        response = api.post("/api/v0/invoice/search", params=params, json=body)
        assert response.status_code == 200, response.text
        return [i["invoiceId"] for i in response.json()["payload"]]

    assert search({"externalIds": ["E2", "E4"]}) == [ids[2], ids[4]]
    assert search({"customerIds": [cid], "baseAmountFrom": 15}) == ids[5:]
    assert search({"customerLegalName": "zeta", "baseAmountTo": 10.5}) == ids[:1]
    assert search({"customerIds": [cid]}, orderBy="baseAmount", direction="DESC", limit=2) == [ids[6], ids[5]]
    assert search({"receivableStatuses": ["PAID"]}) == []
    assert search({"dueDateFrom": "2025-08-01 00:00:00", "dueDateTo": "2025-08-01 00:00:00"})[:7] == ids
    assert search({"dispatched": True}) == []


def test_search_rejects_bad_paging_and_filters(api: httpx.Client) -> None:
    too_big = api.post("/api/v0/invoice/search", params={"limit": 5001}, json={})
    assert too_big.status_code == 400 and sub_error_fields(too_big) == ["limit"]
    paging = api.post(
        "/api/v0/invoice/search", params={"offset": -1, "orderBy": "colour", "direction": "UP"}, json={}
    )
    assert sub_error_fields(paging) == ["offset", "orderBy", "direction"]
    filters = api.post(
        "/api/v0/invoice/search", json={"createdOnFrom": "2025-01-01", "approvalStatuses": ["NOPE"]}
    )
    assert filters.status_code == 400
    assert sorted(sub_error_fields(filters)) == ["approvalStatuses", "createdOnFrom"]
