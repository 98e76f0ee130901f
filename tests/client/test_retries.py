"""The send loop end to end: what is retried, what becomes OutcomeUnknownError, what is raised.

The sandbox's faults give 500, 429 and dropped answers; a MockTransport stands in only for what the
sandbox cannot produce (connection refused, read timeout, 503, a lost answer followed by a 404).
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from enkash_ar import (
    Customer,
    EnkashClient,
    Invoice,
    OutcomeUnknownError,
    RateLimitError,
    ServerError,
    TransportError,
)
from tests.client.client_helpers import (
    RecordingSleeper,
    client_for,
    invoice_request,
    request_counts,
    set_faults,
    state_of,
)


def test_read_is_retried_through_500s_then_raised(client: EnkashClient, sandbox: Any, sleeper: Any) -> None:
    client.warm_token()
    set_faults(sandbox, error_500=1.0)
    with pytest.raises(ServerError, match=r"searchCustomer failed \((HTTP 500|SYSTEM_ERROR)"):
        client.search_customer()
    assert len(sleeper.delays) == client.max_retries
    assert all(0 <= d <= 8 for d in sleeper.delays)


def test_create_answered_500_is_outcome_unknown_and_not_resent(
    client: EnkashClient, customer: Customer, sandbox: Any, sleeper: Any
) -> None:
    assert customer.customer_id
    set_faults(sandbox, error_500=1.0)
    with pytest.raises(OutcomeUnknownError) as info:
        client.create_invoice(invoice_request(customer.customer_id))
    assert info.value.status_code == 500 and info.value.operation == "createInvoice"
    assert "look up what EnKash holds" in str(info.value)
    assert sleeper.delays == []


def test_create_with_dropped_answer_is_outcome_unknown_although_it_happened(
    client: EnkashClient, customer: Customer, sandbox: Any
) -> None:
    assert customer.customer_id
    request = invoice_request(customer.customer_id)
    set_faults(sandbox, drop=1.0)
    with pytest.raises(OutcomeUnknownError, match="RemoteProtocolError"):
        client.create_invoice(request)
    set_faults(sandbox, drop=0.0)
    externals = [i["externalId"] for i in state_of(sandbox)["invoices"]]
    assert externals.count(request.external_id) == 1  # processed once, reported unknown, never resent


def test_create_answered_429_waits_as_told_and_retries(
    client: EnkashClient, customer: Customer, sandbox: Any, sleeper: Any
) -> None:
    assert customer.customer_id
    set_faults(sandbox, error_429=1.0, retry_after=2)
    with pytest.raises(RateLimitError):
        client.create_invoice(invoice_request(customer.customer_id))
    assert sleeper.delays == [2.0] * client.max_retries
    assert state_of(sandbox, summary=True)["invoices_count"] == 0


def test_dropped_reads_are_retried_then_a_transport_error(client: EnkashClient, sandbox: Any) -> None:
    client.warm_token()
    set_faults(sandbox, drop=1.0)
    with pytest.raises(TransportError, match="searchCollectionInvoices: no answer after 4 attempt"):
        client.search_collection_invoices()
    assert request_counts(sandbox)["searchCollectionInvoices"] == 4


def test_token_call_is_retried_through_faults(sandbox: Any, sleeper: Any) -> None:
    set_faults(sandbox, error_500=1.0)
    with (
        client_for(sandbox, sleeper=sleeper) as c,
        pytest.raises(ServerError, match="getAuthenticationToken"),
    ):
        c.warm_token()
    assert len(sleeper.delays) == c.max_retries


def test_max_retries_zero_means_one_attempt(sandbox: Any, sleeper: Any) -> None:
    with client_for(sandbox, max_retries=0, sleeper=sleeper) as c:
        c.warm_token()
        set_faults(sandbox, error_500=1.0)
        with pytest.raises(ServerError):
            c.search_customer()
    assert sleeper.delays == []


def test_real_sleeper_is_used_by_default(sandbox: Any) -> None:
    with client_for(sandbox, sleeper=time.sleep) as c:
        c.warm_token()
        set_faults(sandbox, error_429=1.0, retry_after=0)
        with pytest.raises(RateLimitError):
            c.search_customer()


# ---- what only a fake transport can produce -----------------------------------------------------------


TOKEN_BODY = {
    "access_token": "tok-fake",
    "token_type": "bearer",
    "expires_in": 3600,
    "scope": "read write trust",
}


def fake_client(answer: Callable[[httpx.Request, int], httpx.Response], **options: Any) -> EnkashClient:
    """A client whose transport answers the token call itself and hands API calls to ``answer``."""
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json=TOKEN_BODY)
        calls["n"] += 1
        return answer(request, calls["n"])

    kwargs: dict[str, Any] = {
        "base_url": "https://enkash.test",
        "client_id": "id",
        "client_secret": "secret",
        "username": "u@example.in",
        "password": "pw",
        "seller_id": "CEKSANDBX1",
        "transport": httpx.MockTransport(handler),
        "sleeper": RecordingSleeper(),
    }
    kwargs.update(options)
    return EnkashClient(**kwargs)


INVOICE = {"invoiceId": "INV1", "externalId": "E1", "baseAmount": 10.0, "dueDate": "2030-01-01"}
OK = {"payload": INVOICE, "response_code": 0, "response_message": "SUCCESS"}


def test_create_is_retried_when_the_connection_never_opened() -> None:
    def answer(request: httpx.Request, n: int) -> httpx.Response:
        if n == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json=OK)

    with fake_client(answer) as c:
        assert isinstance(c.create_invoice(invoice_request("KC0000000000000A")), Invoice)


@pytest.mark.parametrize("exc", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.WriteError])
def test_create_without_an_answer_is_outcome_unknown(exc: type[httpx.TransportError]) -> None:
    def answer(request: httpx.Request, n: int) -> httpx.Response:
        raise exc("lost", request=request)

    with fake_client(answer) as c, pytest.raises(OutcomeUnknownError) as info:
        c.create_invoice(invoice_request("KC0000000000000A"))
    assert isinstance(info.value.__cause__, exc)


def test_create_answered_503_is_retried_honouring_an_http_date() -> None:
    later = email.utils.formatdate(time.time() + 30, usegmt=True)

    def answer(request: httpx.Request, n: int) -> httpx.Response:
        if n == 1:
            return httpx.Response(503, headers={"Retry-After": later})
        return httpx.Response(200, json=OK)

    sleeper = RecordingSleeper()
    with fake_client(answer, sleeper=sleeper) as c:
        c.create_invoice(invoice_request("KC0000000000000A"))
    assert len(sleeper.delays) == 1 and 28 <= sleeper.delays[0] <= 30


def test_delete_whose_first_answer_was_lost_reports_done() -> None:
    def answer(request: httpx.Request, n: int) -> httpx.Response:
        if n == 1:
            raise httpx.ReadTimeout("deleted, but the answer was lost", request=request)
        return httpx.Response(404, json={"errorResponse": {"errorType": "RECORD_NOT_FOUND"}})

    with fake_client(answer) as c:
        assert c.delete_customer_by_customer_id("KC0000000000000A") == "already deleted"


def test_the_token_goes_only_to_the_api_host() -> None:
    seen: dict[str, str | None] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json=TOKEN_BODY)
        seen[request.url.host] = request.headers.get("authorization")
        return httpx.Response(200, text="rowNumber,invoiceId\n1,INV1\n")

    with fake_client(lambda r, n: httpx.Response(500), transport=httpx.MockTransport(handler)) as c:
        assert c.download_result_file("https://files.elsewhere.test/r.csv")["invoiceId"].to_list() == ["INV1"]
        c.download_result_file("https://enkash.test/_files/r.csv")
    assert seen == {"files.elsewhere.test": None, "enkash.test": "Bearer tok-fake"}


def test_success_without_json_is_an_unexpected_response() -> None:
    from enkash_ar import UnexpectedResponseError

    with (
        fake_client(lambda r, n: httpx.Response(200, text="<html/>")) as c,
        pytest.raises(UnexpectedResponseError, match="getInvoice"),
    ):
        c.get_invoice("INV1")
