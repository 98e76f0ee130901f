"""Fixtures of the client tests: a client bound to the (function-scoped, reset) sandbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from enkash_ar import Customer, EnkashClient, Invoice
from tests.client.client_helpers import RecordingSleeper, client_for, customer_request, invoice_request


@pytest.fixture
def sleeper() -> RecordingSleeper:
    """The fake sleeper given to ``client``."""
    return RecordingSleeper()


@pytest.fixture
def client(sandbox: Any, sleeper: RecordingSleeper) -> Iterator[EnkashClient]:
    """A client of the freshly reset sandbox."""
    with client_for(sandbox, sleeper=sleeper) as c:
        yield c


@pytest.fixture
def customer(client: EnkashClient) -> Customer:
    """One customer created through the API."""
    return client.create_customer(customer_request())


@pytest.fixture
def make_invoice(client: EnkashClient, customer: Customer) -> Callable[..., Invoice]:
    """Create an invoice of ``customer`` (keyword overrides of the body)."""

    def make(**overrides: Any) -> Invoice:
        assert customer.customer_id
        return client.create_invoice(invoice_request(customer.customer_id, **overrides))

    return make
