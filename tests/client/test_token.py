"""The bearer token: fetched once, shared by threads, renewed before expiry and once on a 401."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from enkash_ar import (
    AuthenticationError,
    Customer,
    EnkashClient,
    EnkashSettings,
    TokenInfo,
    UnauthorizedError,
)
from sandbox.server import RunningSandbox, SandboxConfig, running_sandbox
from tests.client.client_helpers import client_for, request_counts, set_faults, state_of

TOKEN = "getAuthenticationToken"


@pytest.fixture(scope="module")
def short_token_sandbox() -> Iterator[RunningSandbox]:
    """A sandbox whose tokens live 2 seconds."""
    with running_sandbox(SandboxConfig(token_ttl=2)) as running:
        yield running


def test_one_token_serves_many_requests(client: EnkashClient, sandbox: Any) -> None:
    for _ in range(25):
        client.search_customer()
    counts = request_counts(sandbox)
    assert counts[TOKEN] == 1
    assert counts["searchCustomer"] == 25


def test_threads_needing_a_token_at_once_fetch_it_once(sandbox: Any) -> None:
    set_faults(sandbox, latency_ms=150)  # a slow token call widens the race window
    with client_for(sandbox) as shared:
        barrier = threading.Barrier(16)
        failures: list[BaseException] = []

        def work() -> None:
            try:
                barrier.wait()
                shared.search_collection_invoices()
            except BaseException as exc:  # surfaced by the assertion below
                failures.append(exc)

        threads = [threading.Thread(target=work) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert failures == []
    counts = request_counts(sandbox)
    assert counts[TOKEN] == 1
    assert counts["searchCollectionInvoices"] == 16


def test_token_is_renewed_before_it_expires(short_token_sandbox: RunningSandbox) -> None:
    with client_for(short_token_sandbox) as c:
        expiry = c.warm_token()
        assert expiry <= datetime.now(UTC) + timedelta(seconds=2)
        c.search_customer()
        time.sleep(2.0)
        c.search_customer()
    counts = request_counts(short_token_sandbox)
    assert counts[TOKEN] == 2
    # Renewed ahead of expiry: no request was refused with 401 and replayed.
    assert counts["searchCustomer"] == 2


def test_a_401_renews_the_token_once_and_replays(client: EnkashClient, sandbox: Any) -> None:
    client.warm_token()
    set_faults(sandbox, expire_tokens=True)  # the server forgets every token
    assert client.search_customer() == []
    assert request_counts(sandbox)[TOKEN] == 2


def test_a_401_on_a_file_upload_replays_the_file(
    client: EnkashClient, customer: Customer, sandbox: Any
) -> None:
    client.warm_token()
    set_faults(sandbox, expire_tokens=True)
    rows = pl.DataFrame(
        {"customerId": [customer.customer_id], "dueDate": ["2030-01-31"], "baseAmount": [10.0]}
    )
    assert client.invoice_bulk_upload(rows).success_count == 1
    assert state_of(sandbox, summary=True)["invoices_count"] == 1


def test_a_401_that_persists_is_raised_after_one_replay(client: EnkashClient, sandbox: Any) -> None:
    client.warm_token()
    set_faults(sandbox, expire_token=1.0)  # every request's token is expired on arrival
    with pytest.raises(UnauthorizedError, match="getInvoice failed \\(UNAUTHORIZED"):
        client.get_invoice("INV-1")
    assert request_counts(sandbox)[TOKEN] == 2  # the first token and one renewal, no loop


def test_wrong_password_raises_authentication_error_without_retry(sandbox: Any, sleeper: Any) -> None:
    with (
        client_for(sandbox, password="not-the-password", sleeper=sleeper) as wrong,
        pytest.raises(AuthenticationError) as info,
    ):
        wrong.search_customer()
    assert info.value.status_code == 401
    assert "getAuthenticationToken failed (HTTP 401" in str(info.value)
    assert "not retried" in str(info.value)
    assert request_counts(sandbox)[TOKEN] == 1
    assert sleeper.delays == []
    with client_for(sandbox) as right:  # one failure does not lock the account
        assert right.search_customer() == []


def test_wrong_client_secret_is_an_authentication_error(sandbox: Any) -> None:
    with (
        client_for(sandbox, client_secret="nope") as wrong,
        pytest.raises(AuthenticationError, match="client"),
    ):
        wrong.warm_token()


def test_get_authentication_token_returns_and_installs_a_fresh_token(
    client: EnkashClient, sandbox: Any
) -> None:
    info = client.get_authentication_token()
    assert isinstance(info, TokenInfo)
    assert info.token_type == "bearer" and info.expires_in == sandbox.config.token_ttl
    assert abs((info.expires_at - datetime.now(UTC)).total_seconds() - sandbox.config.token_ttl) < 5
    assert client.warm_token() == info.expires_at  # reused, not fetched again
    client.search_customer()
    assert request_counts(sandbox)[TOKEN] == 1


def test_from_settings_reads_the_environment(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = sandbox.config
    env = {
        "ENKASH_BASE_URL": sandbox.base_url,
        "ENKASH_CLIENT_ID": cfg.client_id,
        "ENKASH_CLIENT_SECRET": cfg.client_secret,
        "ENKASH_USERNAME": cfg.username,
        "ENKASH_PASSWORD": cfg.password,
        "ENKASH_SELLER_ID": cfg.seller_id,
        "ENKASH_TIMEOUT": "5",
        "ENKASH_MAX_RETRIES": "1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = EnkashSettings()
    assert settings.max_retries == 1 and settings.timeout == 5.0
    with EnkashClient.from_settings() as c:
        assert c.max_retries == 1
        assert c.search_collection_invoices() == []


def test_settings_reject_a_malformed_seller_id() -> None:
    with pytest.raises(ValueError, match="seller_id"):
        EnkashSettings(client_id="c", client_secret="s", username="u", password="p", seller_id="ACME")
