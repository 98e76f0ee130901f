"""Customers paying the sandbox's invoices: links, Bharat Connect confirmations, refunds, seeded days."""

from __future__ import annotations

from typing import Any

import pytest
from backend_helpers import SELLER, add_customer, add_invoice, refused, sub_error_fields

from sandbox.backend import ArBackend
from sandbox.backend.store import Store

LINKS = "http://sandbox.test/"


@pytest.fixture
def customer_id(backend: ArBackend) -> str:
    return str(add_customer(backend, legalName="Kaveri Steels")["customerId"])


def _dispatched(backend: ArBackend, customer_id: str, **members: Any) -> str:
    invoice_id = str(add_invoice(backend, customer_id, baseAmount=1000.0, cgst=90.0, sgst=90.0)["invoiceId"])
    backend.invoices.dispatch(SELLER, {"invoiceIds": [invoice_id], **members}, LINKS)
    return invoice_id


def _money(backend: ArBackend, invoice_id: str) -> tuple[Any, ...]:
    invoice = backend.invoices.get(SELLER, invoice_id)
    return invoice["totalReceived"], invoice["balanceAmount"], invoice["receivableStatus"]


def test_a_link_payment_in_two_parts_settles_the_invoice(backend: ArBackend, customer_id: str) -> None:
    invoice_id = _dispatched(backend, customer_id)

    backend.payments.pay({"invoiceId": invoice_id, "amount": 180.0, "mode": "NEFT", "paidOn": "2026-11-25"})
    assert _money(backend, invoice_id) == (180.0, 1000.0, "PARTIALLY_PAID")
    backend.payments.pay({"invoiceId": invoice_id, "reference": "UTR123"})

    assert _money(backend, invoice_id) == (1180.0, 0.0, "PAID")
    last = backend.invoices.get(SELLER, invoice_id)
    assert (last["lastPaymentMode"], last["lastPaymentReference"]) == ("UPI", "UTR123")
    assert refused(lambda: backend.payments.pay({"invoiceId": invoice_id})).status == 400


def test_payments_the_invoice_cannot_take_are_refused(backend: ArBackend, customer_id: str) -> None:
    undispatched = str(add_invoice(backend, customer_id)["invoiceId"])
    whole_only = _dispatched(backend, customer_id, partialPaymentAllowed=False)

    no_link = refused(lambda: backend.payments.pay({"invoiceId": undispatched}))
    assert "payment link" in no_link.sub_errors[0].message
    too_much = refused(lambda: backend.payments.pay({"invoiceId": whole_only, "amount": 5000.0}))
    partial = refused(lambda: backend.payments.pay({"invoiceId": whole_only, "amount": 100.0}))
    assert (sub_error_fields(too_much), sub_error_fields(partial)) == (["amount"], ["amount"])
    assert refused(lambda: backend.payments.pay({})).status == 400
    assert refused(lambda: backend.payments.pay({"externalId": "NOPE"})).status == 404
    assert _money(backend, whole_only) == (0.0, 1180.0, "UNPAID")


def test_a_bharat_connect_payment_waits_for_the_suppliers_confirmation(
    backend: ArBackend, customer_id: str
) -> None:
    accepted, rejected = _dispatched(backend, customer_id), _dispatched(backend, customer_id)
    first = backend.payments.pay({"invoiceId": accepted, "amount": 500.0, "channel": "BHARAT_CONNECT"})
    second = backend.payments.pay({"invoiceId": rejected, "channel": "BHARAT_CONNECT"})
    assert first["status"] == "AWAITING_CONFIRMATION" and first["paymentId"].startswith("PMT")
    assert len(first["paymentId"]) == 35
    assert _money(backend, accepted) == (0.0, 1180.0, "UNPAID")

    body = {"remarks": "received", "type": "ONPLATFORM"}
    backend.bharat_connect.confirm_payment(
        SELLER, {**body, "invoiceIds": [accepted], "paymentId": first["paymentId"], "response": "ACCEPT"}
    )
    backend.bharat_connect.confirm_payment(
        SELLER, {**body, "invoiceIds": [rejected], "paymentId": second["paymentId"], "response": "REJECT"}
    )

    assert _money(backend, accepted) == (500.0, 680.0, "PARTIALLY_PAID")
    assert _money(backend, rejected) == (0.0, 1180.0, "UNPAID")
    again = {**body, "invoiceIds": [accepted], "paymentId": first["paymentId"], "response": "ACCEPT"}
    assert refused(lambda: backend.bharat_connect.confirm_payment(SELLER, again)).status == 400
    assert _money(backend, accepted) == (500.0, 680.0, "PARTIALLY_PAID"), "a confirmation books once"


def test_a_reversal_takes_the_money_back(backend: ArBackend, customer_id: str) -> None:
    invoice_id = _dispatched(backend, customer_id)
    payment = backend.payments.pay({"invoiceId": invoice_id})

    assert backend.payments.reverse(payment["paymentId"])["status"] == "REVERSED"

    assert _money(backend, invoice_id) == (0.0, 1180.0, "UNPAID")
    assert refused(lambda: backend.payments.reverse(payment["paymentId"])).status == 400


def test_the_simulation_is_seeded_and_pays_only_dispatched_open_invoices() -> None:
    def simulated() -> tuple[list[tuple[Any, ...]], list[str]]:
        backend = ArBackend(Store(":memory:"))
        customer = str(add_customer(backend)["customerId"])
        invoices = [_dispatched(backend, customer) for _ in range(40)]
        add_invoice(backend, customer)  # never dispatched: never paid
        body = {"seed": 3, "start": "2026-11-25", "days": 3, "share": 0.5, "partialShare": 0.5}
        made = backend.payments.simulate({**body, "bharatConnectShare": 0.3})
        paid = [(p["invoiceId"], p["amount"], p["channel"], p["paidOn"]) for p in made]
        return paid, invoices

    first, invoices = simulated()
    second, _ = simulated()

    assert first == second
    assert 10 <= len(first) <= 30 and {p[0] for p in first} <= set(invoices)
    assert {p[2] for p in first} == {"PAYMENT_LINK", "BHARAT_CONNECT"}
    assert any(p[1] < 1180.0 for p in first) and any(p[1] == 1180.0 for p in first)
    assert {p[3][:10] for p in first} <= {"2026-11-25", "2026-11-26", "2026-11-27"}
