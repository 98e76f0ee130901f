"""Bulk uploads (CSV and XLSX): exact counts, per-row failures and downloadable result files."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import httpx
import polars as pl
import pytest
from sandbox_helpers import new_customer, sub_error_fields

from enkash_ar.bulk_template import CUSTOMER_CREATE, INVOICE_CREATE


def _csv(rows: list[dict[str, str]], columns: tuple[str, ...]) -> bytes:
    buffer = io.BytesIO()
    pl.DataFrame(
        [{c: r.get(c, "") for c in columns} for r in rows], schema=dict.fromkeys(columns, pl.String)
    ).write_csv(buffer)
    return buffer.getvalue()


def _xlsx(rows: list[dict[str, str]], columns: tuple[str, ...]) -> bytes:
    buffer = io.BytesIO()
    pl.DataFrame(
        [{c: r.get(c, "") for c in columns} for r in rows], schema=dict.fromkeys(columns, pl.String)
    ).write_excel(buffer)
    return buffer.getvalue()


def _download(api: httpx.Client, url: str) -> pl.DataFrame:
    response = api.get(url)
    assert response.status_code == 200
    return pl.read_csv(io.BytesIO(response.content), infer_schema=False)


@pytest.mark.parametrize(("encode", "name"), [(_csv, "invoices.csv"), (_xlsx, "invoices.xlsx")])
def test_invoice_bulk_upload_counts_and_files(
    api: httpx.Client, sandbox_state: Callable[..., dict[str, Any]], encode: Any, name: str
) -> None:
    cid = new_customer(api)["customerId"]
    rows = [
        {"customerId": cid, "externalId": "E1", "dueDate": "2025-08-01", "baseAmount": "100.50", "cgst": "9"},
        {"customerId": cid, "externalId": "E2", "dueDate": "2025-02-30", "baseAmount": "0.01"},
        {"customerId": "KCZZZZZZZZZZZZZZ", "externalId": "E3", "dueDate": "2025-08-01", "baseAmount": "5"},
        {
            "customerId": cid,
            "externalId": "E4",
            "dueDate": "2025-08-02",
            "baseAmount": "20",
            "invoiceDate": "2025-07-01",
            "partialPaymentAllowed": "true",
        },
    ]
    response = api.post(
        "/api/v0/invoice/bulk/create",
        params={"sellerId": "CEKSANDBX1"},
        files={"file": (name, encode(rows, INVOICE_CREATE.columns))},
    )
    assert response.status_code == 200, response.text
    payload = response.json()["payload"]
    assert (payload["total_count"], payload["success_count"], payload["failure_count"]) == (4, 2, 2)
    assert payload["warn_count"] == 0 and payload["failure_count_second_file"] == 0
    assert payload["total_amount"] == 120.5
    assert [(f["rowNumber"], f["field"]) for f in payload["failureRequests"]] == [
        (2, "dueDate"),
        (2, "baseAmount"),
        (3, "customerId"),
    ]
    assert [s["externalId"] for s in payload["successRequests"]] == ["E1", "E4"]
    success = _download(api, payload["success_file_url"])
    assert success.columns == list(INVOICE_CREATE.success_columns)
    assert success["rowNumber"].to_list() == ["1", "4"]
    assert success["invoiceId"].to_list() == [s["invoiceId"] for s in payload["successRequests"]]
    failure = _download(api, payload["failure_file_url"])
    assert failure.columns == list(INVOICE_CREATE.failure_columns)
    assert failure["externalId"].to_list() == ["E2", "E2", "E3"]
    invoices = {i["externalId"]: i for i in sandbox_state()["invoices"]}
    assert set(invoices) == {"E1", "E4"}
    assert invoices["E1"]["netAmount"] == 109.5


def test_bulk_header_and_file_errors(api: httpx.Client) -> None:
    no_file = api.post("/api/v0/invoice/bulk/create")
    assert no_file.status_code == 400 and sub_error_fields(no_file) == ["file"]
    missing = api.post(
        "/api/v0/invoice/bulk/create", files={"file": ("x.csv", b"customerId,externalId\nKC1,E\n")}
    )
    assert missing.status_code == 400
    assert sub_error_fields(missing) == ["baseAmount", "dueDate"]
    broken = api.post("/api/v0/invoice/bulk/create", files={"file": ("x.xlsx", b"PK\x03\x04garbage")})
    assert broken.status_code == 400 and sub_error_fields(broken) == ["file"]


def test_unknown_columns_are_ignored_with_a_warning(api: httpx.Client) -> None:
    cid = new_customer(api)["customerId"]
    content = f"customerId,dueDate,baseAmount,colour,size\n{cid},2025-08-01,10,red,L\n".encode()
    payload = api.post("/api/v0/invoice/bulk/create", files={"file": ("x.csv", content)}).json()["payload"]
    assert payload["warn_count"] == 2 and payload["success_count"] == 1


def test_bulk_customer_create_and_update(
    api: httpx.Client, sandbox_state: Callable[..., dict[str, Any]]
) -> None:
    rows = [
        {
            "legalName": "A Ltd",
            "uniqueRefNo": "A",
            "customerKeyContacts.name": "An",
            "customerKeyContacts.legalName": "An A",
            "customerKeyContacts.mobile": "9876543210",
        },
        {
            "legalName": "B Ltd",
            "uniqueRefNo": "B",
            "customerKeyContacts.name": "Bo",
            "customerKeyContacts.legalName": "Bo B",
            "customerKeyContacts.mobile": "12",
            "ifsc": "BAD",
        },
        {"uniqueRefNo": "C"},
    ]
    created = api.post(
        "/api/v0/customer/bulk",
        params={"companyId": "CEKSANDBX1"},
        files={"file": ("c.csv", _csv(rows, CUSTOMER_CREATE.columns))},
    ).json()["payload"]
    assert (created["success_count"], created["failure_count"], created["total_count"]) == (1, 2, 3)
    assert created["total_amount"] == 0
    assert {(f["rowNumber"], f["field"]) for f in created["failureRequests"]} == {
        (2, "ifsc"),
        (2, "customerKeyContacts.mobile"),
        (3, "legalName"),
        (3, "customerKeyContacts.name"),
        (3, "customerKeyContacts.legalName"),
        (3, "customerKeyContacts.mobile"),
    }
    cid = created["successRequests"][0]["customerId"]
    assert created["successRequests"][0]["uniqueRefNo"] == "A"
    update = (
        "customerId,legalName,state,customerKeyContacts.email\n"
        f"{cid},A Renamed,,a@example.in\nKCZZZZZZZZZZZZZZ,X,,\n"
    )
    updated = api.post("/api/v0/customer/bulk/update", files={"file": ("u.csv", update.encode())}).json()[
        "payload"
    ]
    assert (updated["success_count"], updated["failure_count"]) == (1, 1)
    assert updated["failureRequests"] == [
        {"rowNumber": 2, "field": "customerId", "reason": "customer not found for this company"}
    ]
    contact = api.get(f"/api/v0/customer/{cid}/contact").json()["payload"][0]
    assert contact["email"] == "a@example.in" and contact["name"] == "An"
    assert [c["legalName"] for c in sandbox_state()["customers"]] == ["A Renamed"]


def test_bulk_customer_requires_company_id(api: httpx.Client) -> None:
    content = _csv([], CUSTOMER_CREATE.columns)
    missing = api.post("/api/v0/customer/bulk", files={"file": ("c.csv", content)})
    assert missing.status_code == 400 and sub_error_fields(missing) == ["companyId"]
    other = api.post(
        "/api/v0/customer/bulk", params={"companyId": "CEKOTHER99"}, files={"file": ("c.csv", content)}
    )
    assert other.status_code == 403
