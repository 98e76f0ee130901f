"""Injected faults: each kind observable, and the same seed gives the same faults."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sandbox_helpers import new_customer

from sandbox.config import FaultConfig
from sandbox.server import RunningSandbox
from tests.loopback import http


def _faults(sandbox: RunningSandbox, **settings: Any) -> None:
    http.post(f"{sandbox.base_url}/_sandbox/faults", json=settings).raise_for_status()


def test_500_and_429_are_not_processed(
    api: httpx.Client, sandbox: RunningSandbox, sandbox_state: Callable[..., dict[str, Any]]
) -> None:
    _faults(sandbox, error_500=1.0)
    response = api.post("/api/v0/customer/search", json={})
    assert response.status_code == 500
    assert response.json()["errorResponse"]["errorType"] == "SYSTEM_ERROR"
    _faults(sandbox, error_500=0.0, error_429=1.0, retry_after=7)
    limited = api.post("/api/v0/customer", json={})
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    state = sandbox_state()
    assert state["customers_count"] == 0
    assert "createCustomer" not in state["request_counts"]
    assert state["fault_counts"] == {"error_500": {"searchCustomer": 1}, "error_429": {"createCustomer": 1}}


def test_dropped_response_is_a_transport_error_but_processed(
    api: httpx.Client, sandbox: RunningSandbox, sandbox_state: Callable[..., dict[str, Any]]
) -> None:
    cid = new_customer(api)["customerId"]
    _faults(sandbox, drop=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/api/v0/invoice", json={"customerId": cid, "dueDate": "2025-08-01", "baseAmount": 5})
    _faults(sandbox, drop=0.0)
    state = sandbox_state(summary=True)
    assert state["invoices_count"] == 1
    # Done though its answer was lost: what EnKash did is counted, not what the client heard.
    assert state["answered_counts"]["createInvoice"] == state["request_counts"]["createInvoice"] == 1


def test_only_requests_done_count_as_answered(
    api: httpx.Client, sandbox_state: Callable[..., dict[str, Any]]
) -> None:
    new_customer(api)
    assert api.post("/api/v0/customer", json={"legalName": ""}).status_code == 400
    assert api.get("/api/v0/invoice/NOSUCHINVOICE").status_code == 404
    state = sandbox_state(summary=True)
    assert state["request_counts"]["createCustomer"] == 2 and state["answered_counts"]["createCustomer"] == 1
    assert state["request_counts"]["getInvoice"] == 1 and "getInvoice" not in state["answered_counts"]


def test_latency_is_added(api: httpx.Client, sandbox: RunningSandbox) -> None:
    _faults(sandbox, latency_ms=300)
    started = time.monotonic()
    assert api.post("/api/v0/customer/search", json={}).status_code == 200
    assert time.monotonic() - started >= 0.3
    admin_started = time.monotonic()
    http.get(f"{sandbox.base_url}/_sandbox/faults")
    assert time.monotonic() - admin_started < 0.3


def test_expire_token_fault_answers_401(api: httpx.Client, sandbox: RunningSandbox) -> None:
    _faults(sandbox, expire_token=1.0)
    assert api.post("/api/v0/customer/search", json={}).status_code == 401
    _faults(sandbox, expire_token=0.0)
    assert api.post("/api/v0/customer/search", json={}).status_code == 401


def test_same_seed_same_faults(api: httpx.Client, sandbox: RunningSandbox) -> None:
    def run() -> list[int]:
        _faults(sandbox, error_500=0.3, error_429=0.2, seed=42)
        return [api.post("/api/v0/customer/search", json={}).status_code for _ in range(30)]

    first, second = run(), run()
    assert first == second
    assert {200, 429, 500} <= set(first)


def test_bad_fault_settings_are_refused(sandbox: RunningSandbox) -> None:
    response = http.post(f"{sandbox.base_url}/_sandbox/faults", json={"error_500": 2})
    assert response.status_code == 400
    assert http.post(f"{sandbox.base_url}/_sandbox/faults", json={"colour": 1}).status_code == 400


def test_faults_can_target_some_operations_only(
    api: httpx.Client, sandbox: RunningSandbox, sandbox_state: Callable[..., dict[str, Any]]
) -> None:
    _faults(sandbox, error_500=1.0, operations=["createCustomer"])
    assert api.post("/api/v0/customer/search", json={}).status_code == 200
    assert api.post("/api/v0/customer", json={}).status_code == 500
    assert sandbox_state()["fault_counts"] == {"error_500": {"createCustomer": 1}}
    _faults(sandbox, operations=[])
    assert api.post("/api/v0/customer/search", json={}).status_code == 500


def test_search_filters_can_be_refused_as_an_enkash_without_them_would(
    api: httpx.Client, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    _faults(sandbox, refused_filters="dispatchedOnFrom, customerIds")
    refused = api.post(
        "/api/v0/invoice/search", json={"dispatched": True, "dispatchedOnFrom": "2026-11-24 00:00:00"}
    )
    assert refused.status_code == 400
    assert refused.json()["errorResponse"]["errorType"] == "CLIENT_REQUEST_ERROR"
    assert "dispatchedOnFrom" in refused.text
    assert api.post("/api/v0/customer/search", json={"customerIds": ["X"]}).status_code == 400
    # Searches without them, and every other call, are answered as before.
    assert api.post("/api/v0/invoice/search", json={"dispatched": False}).status_code == 200
    assert api.post("/api/v0/customer/search", json={}).status_code == 200
    _faults(sandbox, refused_filters=[])
    assert (
        api.post("/api/v0/invoice/search", json={"dispatchedOnFrom": "2026-11-24 00:00:00"}).status_code
        == 200
    )
    # The same setting from the environment, as `enkash-ar sandbox serve` reads it.
    monkeypatch.setenv("SANDBOX_FAULT_REFUSED_FILTERS", "dispatched,dispatchedOnFrom")
    assert FaultConfig.from_env().refused_filters == ("dispatched", "dispatchedOnFrom")
