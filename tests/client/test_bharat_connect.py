"""Bharat Connect 2.0 requests against the sandbox."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from enkash_ar import (
    ChangeInvoiceStatusRequest,
    EnkashClient,
    Invoice,
    NotFoundError,
    PaymentConfirmationRequest,
    ValidationError,
)

PAYMENT_ID = "PMT" + "A1" * 16


def test_payment_confirmation_accept_settles_the_invoice(
    client: EnkashClient, make_invoice: Callable[..., Invoice]
) -> None:
    invoice = make_invoice()
    assert invoice.invoice_id
    answer = client.payment_confirmation_request(
        PaymentConfirmationRequest(
            invoice_ids=[invoice.invoice_id],
            payment_id=PAYMENT_ID,
            remarks="paid by NEFT",
            response="ACCEPT",
            type="OFFPLATFORM",
        )
    )
    assert answer.response_code == 0
    settled = client.get_invoice(invoice.invoice_id)
    assert settled.receivable_status and settled.receivable_status.name == "PAID"
    assert settled.balance_amount == 0


def test_payment_confirmation_of_unknown_invoice(client: EnkashClient) -> None:
    body = {
        "invoiceIds": ["INV-NOPE"],
        "paymentId": PAYMENT_ID,
        "remarks": "x",
        "response": "ACCEPT",
        "type": "ONPLATFORM",
    }
    with pytest.raises(NotFoundError, match="paymentConfirmationRequest"):
        client.payment_confirmation_request(body)


def test_change_invoice_status(client: EnkashClient, make_invoice: Callable[..., Invoice]) -> None:
    invoice = make_invoice()
    assert invoice.invoice_id
    answer = client.change_invoice_status_request(
        ChangeInvoiceStatusRequest(
            invoice_ids=[invoice.invoice_id], remarks="written off", status="CANCELLED"
        )
    )
    assert answer.response_code == 0
    got = client.get_invoice(invoice.invoice_id)
    assert got.receivable_status and got.receivable_status.name == "CANCELLED"


def test_change_invoice_status_to_an_unknown_status(
    client: EnkashClient, make_invoice: Callable[..., Invoice]
) -> None:
    invoice = make_invoice()
    assert invoice.invoice_id
    with pytest.raises(ValidationError, match="status"):
        client.change_invoice_status_request(
            {"invoiceIds": [invoice.invoice_id], "remarks": "?", "status": "LOST"}
        )
