"""Helpers of the sandbox tests: credentials and record factories."""

from __future__ import annotations

import base64
import itertools
from typing import Any

import httpx

from sandbox.server import RunningSandbox
from tests.loopback import http

_serial = itertools.count(1)


def token_form(sandbox: RunningSandbox, **overrides: str) -> dict[str, str]:
    """The password-grant form with the sandbox's credentials."""
    cfg = sandbox.config
    form = {
        "username": cfg.username,
        "password": cfg.password,
        "grant_type": "password",
        "clientId": cfg.seller_id,
    }
    form.update(overrides)
    return form


def basic_header(sandbox: RunningSandbox, secret: str | None = None) -> dict[str, str]:
    """``Authorization: Basic`` with the sandbox's client credentials."""
    cfg = sandbox.config
    raw = f"{cfg.client_id}:{cfg.client_secret if secret is None else secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def get_token(sandbox: RunningSandbox) -> str:
    """A fresh access token."""
    response = http.post(
        f"{sandbox.base_url}/oauth/token", headers=basic_header(sandbox), data=token_form(sandbox)
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def customer_body(**overrides: Any) -> dict[str, Any]:
    """A valid createCustomer body."""
    n = next(_serial)
    body: dict[str, Any] = {
        "legalName": f"Customer {n} Pvt Ltd",
        "uniqueRefNo": f"REF-{n}",
        "contactNumber": "9876543210",
        "customerKeyContacts": [
            {
                "name": "Asha",
                "legalName": "Asha Rao",
                "mobile": "9876543210",
                "email": "asha@example.in",
                "deleted": False,
            }
        ],
    }
    body.update(overrides)
    return body


def new_customer(api: httpx.Client, **overrides: Any) -> dict[str, Any]:
    """Create a customer; its payload."""
    response = api.post("/api/v0/customer", json=customer_body(**overrides))
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()["payload"]
    return payload


def new_invoice(api: httpx.Client, customer_id: str, **overrides: Any) -> dict[str, Any]:
    """Create an invoice; its payload."""
    body: dict[str, Any] = {"customerId": customer_id, "dueDate": "2025-08-01", "baseAmount": 100.0}
    body.update(overrides)
    response = api.post("/api/v0/invoice", json=body)
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()["payload"]
    return payload


def sub_error_fields(response: httpx.Response) -> list[str]:
    """The ``field`` of every apiSubErrors entry of an error response."""
    return [e["field"] for e in response.json()["errorResponse"]["apiSubErrors"]]
