"""Helpers of the client tests: building clients and bodies, reading and steering the sandbox."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

from enkash_ar import CreateCustomerRequest, CreateInvoiceRequest, EnkashClient
from tests.loopback import http

_serial = itertools.count(1)


class RecordingSleeper:
    """A sleeper that remembers the delays it was asked for and does not wait."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def client_for(sandbox: Any, **options: Any) -> EnkashClient:
    """An EnkashClient with the sandbox's credentials; ``options`` override constructor options."""
    cfg = sandbox.config
    kwargs: dict[str, Any] = {
        "base_url": sandbox.base_url,
        "client_id": cfg.client_id,
        "client_secret": cfg.client_secret,
        "username": cfg.username,
        "password": cfg.password,
        "seller_id": cfg.seller_id,
        "timeout": 10.0,
        "max_retries": 3,
        "sleeper": RecordingSleeper(),
    }
    kwargs.update(options)
    return EnkashClient(**kwargs)


def state_of(sandbox: Any, *, summary: bool = False) -> dict[str, Any]:
    """GET /_sandbox/state."""
    params = {"summary": "true"} if summary else None
    response = http.get(f"{sandbox.base_url}/_sandbox/state", params=params, timeout=30)
    response.raise_for_status()
    state: dict[str, Any] = response.json()
    return state


def request_counts(sandbox: Any) -> dict[str, int]:
    """Requests per operationId that reached the sandbox's handlers."""
    return dict(state_of(sandbox, summary=True).get("request_counts", {}))


def dispatch_counts(sandbox: Any) -> dict[str, int]:
    """invoiceId -> how many times the sandbox dispatched it."""
    return {i["invoiceId"]: int(i["dispatch_count"]) for i in state_of(sandbox)["invoices"]}


def set_faults(sandbox: Any, **faults: Any) -> None:
    """POST /_sandbox/faults."""
    http.post(f"{sandbox.base_url}/_sandbox/faults", json=faults, timeout=30).raise_for_status()


def unique(prefix: str) -> str:
    """A value never used before in this test session."""
    return f"{prefix}{next(_serial):06d}"


def customer_request(**overrides: Any) -> CreateCustomerRequest:
    """A valid createCustomer body with a fresh uniqueRefNo."""
    body: dict[str, Any] = {
        "legal_name": "Acme Traders Pvt Ltd",
        "unique_ref_no": unique("CUST"),
        "contact_number": "9876543210",
        "state": "Karnataka",
        "customer_key_contacts": [
            {"name": "Asha Rao", "legal_name": "Asha Rao", "mobile": "9876543210", "email": "asha@acme.in"}
        ],
    }
    body.update(overrides)
    return CreateCustomerRequest.model_validate(body)


def invoice_request(customer_id: str, **overrides: Any) -> CreateInvoiceRequest:
    """A valid createInvoice body with a fresh externalId."""
    external = unique("INV-")
    body: dict[str, Any] = {
        "customer_id": customer_id,
        "due_date": date.today() + timedelta(days=30),
        "base_amount": 1000.0,
        "cgst": 90.0,
        "sgst": 90.0,
        "external_id": external,
        "invoice_number": external,
    }
    body.update(overrides)
    return CreateInvoiceRequest.model_validate(body)
