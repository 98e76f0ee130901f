"""Customers, key contacts and reminders over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sandbox_helpers import customer_body, new_customer, sub_error_fields

UNKNOWN = "KCZZZZZZZZZZZZZZ"


def test_create_customer_answers_the_customer(api: httpx.Client) -> None:
    customer = new_customer(api, uniqueRefNo="ERP-1")
    assert customer["customerId"].startswith("KC") and len(customer["customerId"]) == 16
    assert customer["status"] == "ACTIVE"
    assert customer["companyId"] == "CEKSANDBX1"
    assert customer["customerKeyContacts"][0]["keyContactPersonId"]


def test_create_customer_reports_one_sub_error_per_bad_field(api: httpx.Client) -> None:
    body = customer_body(contactNumber="12", ifsc="BAD", accountNumber="x")
    del body["legalName"]
    body["customerKeyContacts"][0]["mobile"] = "abc"
    response = api.post("/api/v0/customer", json=body)
    assert response.status_code == 400
    assert response.json()["errorResponse"]["errorType"] == "VALIDATION_ERROR"
    assert sorted(sub_error_fields(response)) == sorted(
        ["legalName", "contactNumber", "accountNumber", "ifsc", "customerKeyContacts[0].mobile"]
    )
    rejected = {e["field"]: e["rejectedValue"] for e in response.json()["errorResponse"]["apiSubErrors"]}
    assert rejected["ifsc"] == "BAD"


def test_malformed_json_and_wrong_types_are_400(api: httpx.Client) -> None:
    broken = api.post("/api/v0/customer", content=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400
    assert broken.json()["errorResponse"]["errorType"] == "VALIDATION_ERROR"
    wrong = api.post("/api/v0/customer", json=customer_body(legalName=42, customerKeyContacts="x"))
    assert wrong.status_code == 400
    assert sub_error_fields(wrong) == ["legalName", "customerKeyContacts"]


def test_company_id_of_another_company_is_403(api: httpx.Client) -> None:
    response = api.post("/api/v0/customer", json=customer_body(companyId="CEKOTHER99"))
    assert response.status_code == 403
    assert response.json()["errorResponse"]["errorType"] == "INVALID_ACCESS"
    customer = new_customer(api)
    scoped = api.get(
        f"/api/v0/customer/{customer['customerId']}/contact", params={"parentCompanyId": "CEKOTHER99"}
    )
    assert scoped.status_code == 403


def test_update_customer_follows_json_nullable(api: httpx.Client) -> None:
    customer = new_customer(api, address="Old street", state="KA")
    url = f"/api/v0/customer/{customer['customerId']}"
    response = api.patch(url, json={"address": None, "legalName": "New Name"})
    assert response.status_code == 200
    updated = response.json()["payload"]
    assert updated["legalName"] == "New Name"
    assert "address" not in updated
    assert updated["state"] == "KA"
    refused = api.patch(url, json={"legalName": None, "ifsc": "nope"})
    assert refused.status_code == 400
    assert sub_error_fields(refused) == ["legalName", "ifsc"]


def test_activate_deactivate_and_delete(
    api: httpx.Client, sandbox_state: Callable[..., dict[str, Any]]
) -> None:
    cid = new_customer(api)["customerId"]
    assert api.put(f"/api/v0/customer/deactivate/{cid}").json()["payload"]["status"] == "INACTIVE"
    assert api.put(f"/api/v0/customer/activate/{cid}").json()["payload"]["status"] == "ACTIVE"
    deleted = api.delete(f"/api/v0/customer/{cid}")
    assert deleted.status_code == 200 and isinstance(deleted.json()["payload"], str)
    assert api.get(f"/api/v0/customer/{cid}/contact").status_code == 404
    assert sandbox_state()["customers"][0]["deleted"] is True


def test_unknown_and_malformed_customer_ids(api: httpx.Client) -> None:
    missing = api.put(f"/api/v0/customer/activate/{UNKNOWN}")
    assert missing.status_code == 404
    assert missing.json()["errorResponse"]["errorType"] == "RECORD_NOT_FOUND"
    malformed = api.delete("/api/v0/customer/nope")
    assert malformed.status_code == 400 and sub_error_fields(malformed) == ["customerId"]


def test_contact_details_list_the_key_contacts(api: httpx.Client) -> None:
    cid = new_customer(api)["customerId"]
    contacts = api.get(f"/api/v0/customer/{cid}/contact").json()["payload"]
    assert [c["name"] for c in contacts] == ["Asha"]


def test_reminder_crud(api: httpx.Client) -> None:
    cid = new_customer(api)["customerId"]
    base = f"/api/v0/customer/{cid}/reminder"
    body = {"dueDateDifference": -3, "reminderInterval": 0, "reminderTime": "10:30", "reminderType": "ONCE"}
    created = api.post(base, json=body).json()["payload"]
    rid = created["customerReminderId"]
    assert created["dueDateDifference"] == -3 and created["customerId"] == cid
    assert [r["customerReminderId"] for r in api.get(base).json()["payload"]] == [rid]
    changed = api.put(f"{base}/{rid}", json={**body, "reminderType": "RECURRING", "reminderInterval": 2})
    assert changed.json()["payload"]["reminderType"] == "RECURRING"
    assert api.get(f"{base}/{rid}").json()["payload"]["reminderInterval"] == 2
    assert api.delete(f"{base}/{rid}").status_code == 200
    assert api.get(f"{base}/{rid}").status_code == 404
    assert api.get(base).json()["payload"] == []


def test_reminder_validation_and_unknown_customer(api: httpx.Client) -> None:
    cid = new_customer(api)["customerId"]
    bad = api.post(
        f"/api/v0/customer/{cid}/reminder",
        json={
            "dueDateDifference": "x",
            "reminderTime": "25:00",
            "reminderType": "WEEKLY",
            "reminderInterval": -1,
        },
    )
    assert bad.status_code == 400
    assert sorted(sub_error_fields(bad)) == [
        "dueDateDifference",
        "reminderInterval",
        "reminderTime",
        "reminderType",
    ]
    good = {"dueDateDifference": 0, "reminderTime": "09:00", "reminderType": "ONCE"}
    assert api.post(f"/api/v0/customer/{UNKNOWN}/reminder", json=good).status_code == 404


def test_search_customer_filters_and_pages(api: httpx.Client) -> None:
    ids = [
        new_customer(api, uniqueRefNo=f"S-{i}", legalName=f"Search Co {i}")["customerId"] for i in range(5)
    ]
    page = api.post("/api/v0/customer/search", params={"limit": 2, "offset": 2}, json={}).json()["payload"]
    assert [c["customerId"] for c in page] == ids[2:4]
    by_ref = api.post("/api/v0/customer/search", json={"uniqueRefNos": ["S-1", "S-3"]}).json()["payload"]
    assert {c["uniqueRefNo"] for c in by_ref} == {"S-1", "S-3"}
    by_name = api.post("/api/v0/customer/search", json={"legalName": "co 4"}).json()["payload"]
    assert [c["customerId"] for c in by_name] == [ids[4]]
    desc = api.post("/api/v0/customer/search", params={"direction": "DESC", "limit": 1}, json={}).json()[
        "payload"
    ]
    assert desc[0]["customerId"] == ids[-1]
