"""The token and the credentials never show up in logs, reprs or exception messages."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
from pydantic import SecretStr

from enkash_ar import AuthenticationError, EnkashError, EnkashSettings, NotFoundError, ValidationError
from enkash_ar.auth import TokenInfo
from tests.client.client_helpers import client_for, customer_request, set_faults


def _secrets_of(token: TokenInfo | None) -> list[str]:
    if token is None:
        return []
    found = [token.access_token.get_secret_value()]
    if token.refresh_token is not None:
        found.append(token.refresh_token.get_secret_value())
    return found


def test_no_secret_in_logs_reprs_or_errors(sandbox: Any, caplog: pytest.LogCaptureFixture) -> None:
    cfg = sandbox.config
    for name in ("", "httpx", "httpcore", "enkash_ar"):
        caplog.set_level(logging.DEBUG, logger=name)
    texts: list[str] = []
    tokens: list[str] = []
    with client_for(sandbox) as client:
        info = client.get_authentication_token()
        tokens += _secrets_of(info)
        texts += [repr(info), str(info), info.model_dump_json(), repr(client), repr(client._auth)]
        client.create_customer(customer_request())
        set_faults(sandbox, expire_tokens=True)  # forces a 401, a renewal and a replay
        client.search_customer()
        tokens += _secrets_of(client._auth._token)
        set_faults(sandbox, error_429=1.0, retry_after=0)  # retries get logged
        with pytest.raises(EnkashError) as limited:
            client.search_customer()
        set_faults(sandbox, error_429=0.0)
        for call in (
            lambda: client.get_invoice("INV-NOPE"),
            lambda: client.create_customer(customer_request().model_copy(update={"contact_number": "1"})),
        ):
            with pytest.raises((NotFoundError, ValidationError)) as err:
                call()
            texts += [str(err.value), repr(err.value)]
        texts += [str(limited.value), repr(limited.value)]
    with (
        client_for(sandbox, password=cfg.password + "-wrong") as wrong,
        pytest.raises(AuthenticationError) as auth,
    ):
        wrong.warm_token()
    texts += [str(auth.value), repr(auth.value), repr(wrong)]
    settings = EnkashSettings(
        base_url=sandbox.base_url,
        client_id=cfg.client_id,
        client_secret=SecretStr(cfg.client_secret),
        username=cfg.username,
        password=SecretStr(cfg.password),
        seller_id=cfg.seller_id,
    )
    texts += [repr(settings), str(settings), settings.model_dump_json()]

    texts.append(caplog.text)
    # httpx, httpcore and the client did log, so the check below means something.
    assert "HTTP Request" in caplog.text and "send_request_headers" in caplog.text
    assert "searchCustomer: HTTP 429, retry 1/3" in caplog.text
    everything = "\n".join(texts)
    basic = base64.b64encode(f"{cfg.client_id}:{cfg.client_secret}".encode()).decode()
    forbidden = [*tokens, cfg.password, cfg.password + "-wrong", cfg.client_secret, basic, "Bearer "]
    assert len(tokens) >= 3
    for secret in forbidden:
        assert secret not in everything, f"a secret leaked: {secret[:3]}…"
