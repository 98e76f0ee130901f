"""The token endpoint, bearer checks and the lock-out rule, over HTTP."""

from __future__ import annotations

import time

import httpx
from sandbox_helpers import basic_header, get_token, token_form

from sandbox.server import RunningSandbox, SandboxConfig, running_sandbox
from tests.loopback import http


def _token(sandbox: RunningSandbox, headers: dict[str, str] | None = None, **form: str) -> httpx.Response:
    return http.post(
        f"{sandbox.base_url}/oauth/token",
        headers=basic_header(sandbox) if headers is None else headers,
        data=token_form(sandbox, **form),
    )


def test_token_answers_the_documented_shape(sandbox: RunningSandbox) -> None:
    body = _token(sandbox).json()
    assert body["token_type"] == "bearer"
    assert body["scope"] == "read write trust"
    assert body["expires_in"] == 300
    assert body["access_token"] and body["refresh_token"]


def test_bad_client_credentials_are_401(sandbox: RunningSandbox) -> None:
    response = _token(sandbox, headers=basic_header(sandbox, secret="wrong"))
    assert response.status_code == 401
    assert response.json()["errorResponse"]["errorType"] == "UNAUTHORIZED"
    assert _token(sandbox, headers={}).status_code == 401


def test_missing_form_fields_are_400_one_sub_error_each(sandbox: RunningSandbox) -> None:
    response = http.post(
        f"{sandbox.base_url}/oauth/token", headers=basic_header(sandbox), data={"username": "x"}
    )
    assert response.status_code == 400
    fields = [e["field"] for e in response.json()["errorResponse"]["apiSubErrors"]]
    assert fields == ["password", "grant_type", "clientId"]


def test_client_id_must_be_the_configured_company(sandbox: RunningSandbox) -> None:
    assert _token(sandbox, clientId="CEKOTHER99").status_code == 401
    malformed = _token(sandbox, clientId="nope")
    assert malformed.status_code == 400
    assert malformed.json()["errorResponse"]["apiSubErrors"][0]["field"] == "clientId"


def test_three_wrong_passwords_lock_until_admin_unlock(sandbox: RunningSandbox) -> None:
    for _ in range(3):
        assert _token(sandbox, password="wrong").status_code == 401
    locked = _token(sandbox)
    assert locked.status_code == 403
    assert locked.json()["errorResponse"]["errorType"] == "INVALID_ACCESS"
    assert "locked" in locked.json()["errorResponse"]["errorMessage"]
    http.post(f"{sandbox.base_url}/_sandbox/unlock").raise_for_status()
    assert _token(sandbox).status_code == 200


def test_reset_also_lifts_the_lock(sandbox: RunningSandbox) -> None:
    for _ in range(3):
        _token(sandbox, password="wrong")
    http.post(f"{sandbox.base_url}/_sandbox/reset").raise_for_status()
    assert _token(sandbox).status_code == 200


def test_a_correct_login_resets_the_failure_count(sandbox: RunningSandbox) -> None:
    for _ in range(2):
        _token(sandbox, password="wrong")
    assert _token(sandbox).status_code == 200
    for _ in range(2):
        _token(sandbox, password="wrong")
    assert _token(sandbox).status_code == 200


def test_missing_and_unknown_bearer_are_401_envelopes(sandbox: RunningSandbox) -> None:
    url = f"{sandbox.base_url}/api/v0/invoice/search"
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = http.post(url, json={}, headers=headers)
        assert response.status_code == 401
        body = response.json()
        assert body["response_code"] == 1
        assert body["errorResponse"]["errorType"] == "UNAUTHORIZED"
        assert body["errorResponse"]["requestId"] == response.headers["X-Request-Id"]


def test_tokens_expire_after_their_lifetime() -> None:
    with running_sandbox(SandboxConfig(token_ttl=1)) as short:
        headers = {"Authorization": f"Bearer {get_token(short)}"}
        url = f"{short.base_url}/api/v0/customer/search"
        assert http.post(url, json={}, headers=headers).status_code == 200
        time.sleep(1.2)
        response = http.post(url, json={}, headers=headers)
        assert response.status_code == 401
        assert response.json()["errorResponse"]["errorType"] == "UNAUTHORIZED"


def test_admin_can_expire_every_token(sandbox: RunningSandbox) -> None:
    headers = {"Authorization": f"Bearer {get_token(sandbox)}"}
    url = f"{sandbox.base_url}/api/v0/customer/search"
    assert http.post(url, json={}, headers=headers).status_code == 200
    http.post(f"{sandbox.base_url}/_sandbox/faults", json={"expire_tokens": True}).raise_for_status()
    assert http.post(url, json={}, headers=headers).status_code == 401


def test_a_password_changed_on_the_portal_refuses_the_old_one_and_keeps_issued_tokens(
    sandbox: RunningSandbox,
) -> None:
    url = f"{sandbox.base_url}/oauth/token"
    issued = http.post(url, data=token_form(sandbox), headers=basic_header(sandbox)).json()["access_token"]
    http.post(f"{sandbox.base_url}/_sandbox/password", json={"password": "rotated-1"}).raise_for_status()

    assert http.post(url, data=token_form(sandbox), headers=basic_header(sandbox)).status_code == 401
    new = http.post(url, data=token_form(sandbox, password="rotated-1"), headers=basic_header(sandbox))
    assert new.status_code == 200
    search = http.post(
        f"{sandbox.base_url}/api/v0/customer/search", json={}, headers={"Authorization": f"Bearer {issued}"}
    )
    assert search.status_code == 200
    http.post(f"{sandbox.base_url}/_sandbox/reset").raise_for_status()
    assert http.post(url, data=token_form(sandbox), headers=basic_header(sandbox)).status_code == 200
