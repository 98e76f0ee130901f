"""Answers that do not fit the contract: after a write they are an unknown outcome, never a bare error."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from enkash_ar import (
    AuthenticationError,
    EnkashClient,
    OutcomeUnknownError,
    ServerError,
    UnexpectedResponseError,
)

INVOICE = {"customer_id": "KC0000000000ABCD", "due_date": "2030-01-31", "base_amount": 100.0}


def client_of(handle: Callable[[httpx.Request], httpx.Response], password: str = "p") -> EnkashClient:  # noqa: S107
    """A client whose every request ``handle`` answers."""
    return EnkashClient(
        base_url="https://enkash.test",
        client_id="c",
        client_secret="s",
        username="u",
        password=password,
        seller_id="CEKSANDBX1",
        transport=httpx.MockTransport(handle),
        sleeper=lambda _: None,
    )


def client_answering(answer: Callable[[httpx.Request], httpx.Response], seen: list[str]) -> EnkashClient:
    """A client whose API answers tokens normally and everything else with ``answer``."""

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t0k3n", "expires_in": 300})
        return answer(request)

    return client_of(handle)


def envelope_error(error_type: str) -> httpx.Response:
    return httpx.Response(200, json={"errorResponse": {"errorType": error_type, "errorMessage": "boom"}})


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>gateway</html>"),
        httpx.Response(200, json={"payload": ["not", "an", "invoice"]}),
    ],
    ids=["not-json", "wrong-payload"],
)
def test_an_unreadable_answer_to_a_write_is_an_unknown_outcome(answer: httpx.Response) -> None:
    seen: list[str] = []
    with client_answering(lambda _: answer, seen) as client:
        with pytest.raises(OutcomeUnknownError, match=r"createInvoice: .*may have applied the request"):
            client.create_invoice(INVOICE)
        with pytest.raises(OutcomeUnknownError, match="updateInvoice"):
            client.update_invoice("IN1", {"description": "x"})
        with pytest.raises(UnexpectedResponseError) as caught:
            client.get_invoice("IN1")
        assert not isinstance(caught.value, OutcomeUnknownError)
    assert seen.count("POST /api/v0/invoice") == 1  # never resent blindly


def test_a_server_error_answered_200_after_a_creating_write_is_an_unknown_outcome() -> None:
    seen: list[str] = []
    with client_answering(lambda _: envelope_error("SYSTEM_ERROR"), seen) as client:
        with pytest.raises(OutcomeUnknownError, match="SYSTEM_ERROR with HTTP 200"):
            client.create_invoice(INVOICE)
        with pytest.raises(ServerError) as caught:
            client.update_invoice("IN1", {"description": "x"})
    assert caught.value.status_code == 500


def test_a_token_refusal_answered_200_is_a_refusal_and_is_not_repeated() -> None:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return envelope_error("UNAUTHORIZED")

    with client_of(handle, password="wrong-password") as client, pytest.raises(AuthenticationError) as caught:
        client.search_customer()
    assert caught.value.status_code == 401
    assert "wrong-password" not in str(caught.value)
    assert seen == ["/oauth/token"]


def test_a_token_answer_with_a_lifetime_of_zero_gets_the_default() -> None:
    def token(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"access_token": "t", "expires_in": 0})

    with client_of(token) as client:
        assert client.get_authentication_token().expires_in == client.profile.token.default_lifetime_seconds
