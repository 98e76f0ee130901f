"""Credentials: one refusal stops every thread, refused ones are not tried again, no clear-text http."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from pydantic import ValidationError as PydanticValidationError

from ar_sync.credential_memory import RefusedCredentialsMemory
from ar_sync.run_ledger import RunLedger
from enkash_ar import EnkashClient, EnkashSettings
from enkash_ar.auth import TokenAuth, TokenInfo
from enkash_ar.errors import AuthenticationError, ConfigurationError
from tests.client.client_helpers import client_for
from tests.loopback import http

SELLER = "CEKSANDBX1"


def test_after_one_refusal_no_thread_asks_for_a_token_again() -> None:
    calls = 0
    lock = threading.Lock()

    def refuse() -> TokenInfo:
        nonlocal calls
        with lock:
            calls += 1
        raise AuthenticationError(
            "getAuthenticationToken failed (HTTP 401): Bad credentials", status_code=401
        )

    auth = TokenAuth(refuse)
    with ThreadPoolExecutor(max_workers=8) as pool:
        errors = list(pool.map(lambda _: _refused(auth), range(200)))
    assert calls == 1
    assert all(isinstance(e, AuthenticationError) for e in errors)
    assert sum("refused earlier in this run" in str(e) for e in errors) == 199
    assert auth.refused is not None and auth.refused.status_code == 401


def _refused(auth: TokenAuth) -> Exception | None:
    try:
        auth.token()
    except AuthenticationError as exc:
        return exc
    return None


def test_a_granted_token_is_shared_and_renewal_happens_once() -> None:
    issued: list[int] = []

    def grant() -> TokenInfo:
        issued.append(1)
        return TokenInfo(
            access_token=SecretStr("t"),
            expires_in=60,
            expires_at=datetime.now(UTC) + timedelta(seconds=60),
            renew_after=60.0,
        )

    auth = TokenAuth(grant, clock=lambda: 0.0)
    first = auth.token()
    assert auth.token() is first and len(issued) == 1
    renewed = auth.renew(first)
    assert renewed is not first and auth.renew(first) is renewed and len(issued) == 2
    assert auth.fetch_now() is not renewed and len(issued) == 3


def test_refused_credentials_are_remembered_by_fingerprint_and_not_sent_again(sandbox: Any) -> None:
    ledger = RunLedger(":memory:")
    wrong = client_for(
        sandbox, password="not-the-password", token_guard=RefusedCredentialsMemory(ledger, SELLER)
    )
    with pytest.raises(AuthenticationError, match="Bad credentials"):
        wrong.warm_token()
    assert len(ledger.refused_credentials(SELLER)) == 1
    stored = ledger.refused_credentials(SELLER)[0]
    assert "not-the-password" not in repr(stored) and stored.fingerprint != "not-the-password"

    # The next night, a new process with the same stale password: refused here, nothing reaches EnKash.
    again = client_for(
        sandbox, password="not-the-password", token_guard=RefusedCredentialsMemory(ledger, SELLER)
    )
    before = _token_requests(sandbox)
    with pytest.raises(AuthenticationError, match="have not changed since") as caught:
        again.warm_token()
    assert _token_requests(sandbox) == before
    assert "not-the-password" not in str(caught.value)

    # The password is fixed: tried at once, and the memory is cleared.
    fixed = client_for(sandbox, token_guard=RefusedCredentialsMemory(ledger, SELLER))
    assert fixed.warm_token() is not None
    assert ledger.refused_credentials(SELLER) == []


def _token_requests(sandbox: Any) -> int:

    counts = http.get(f"{sandbox.base_url}/_sandbox/state", params={"summary": "true"}).json()[
        "request_counts"
    ]
    return int(counts.get("getAuthenticationToken", 0))


@pytest.mark.parametrize(
    "url", ["http://ekpayout-uat.enkash.in", "http://10.0.0.7:8080", "http://[2001:db8::1]", "ftp://x"]
)
def test_plain_http_to_another_machine_is_refused_before_anything_is_sent(url: str) -> None:
    with pytest.raises(PydanticValidationError, match="base URL"):
        EnkashSettings(
            base_url=url, client_id="c", client_secret="s", username="u", password="p", seller_id=SELLER
        )
    with pytest.raises(ConfigurationError, match="base URL"):
        EnkashClient(
            base_url=url, client_id="c", client_secret="s", username="u", password="p", seller_id=SELLER
        )


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8765", "http://localhost:1", "http://[::1]:9", "https://api.enkash.in"]
)
def test_https_and_loopback_http_are_accepted(url: str) -> None:
    settings = EnkashSettings(
        base_url=url, client_id="c", client_secret="s", username="u", password="p", seller_id=SELLER
    )
    assert EnkashClient.from_config(settings).base_url.host
