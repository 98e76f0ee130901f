"""The sandbox's admin API for payments under ``/_sandbox/payments`` (no bearer token, never faulted).

What customers do on the real EnKash (pay a link, pay over Bharat Connect, get refunded) the sandbox
does on request, so the payments export can be tested and demonstrated end to end:

- ``POST /_sandbox/payments``: one payment, ``{"invoiceId" | "externalId", "amount"?, "channel"?:
  "PAYMENT_LINK" | "BHARAT_CONNECT", "mode"?, "paidOn"?, "reference"?}``; a Bharat Connect payment
  waits for the supplier's paymentConfirmationRequest (its ``paymentId`` is in the answer);
- ``POST /_sandbox/payments/simulate``: seeded random payments over simulated days, ``{"seed",
  "share"?, "partialShare"?, "bharatConnectShare"?, "days"?, "start"?, "sellerId"?}``;
- ``POST /_sandbox/payments/{paymentId}/reverse``: a refund or charge-back of a settled payment;
- ``GET /_sandbox/payments``: every payment, oldest first.

The rules are ``sandbox.backend.payments``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from sandbox.backend.payments import Payment, PaymentBackend
from sandbox.errors import SubError, validation_error
from sandbox.state import SandboxState

router = APIRouter(prefix="/_sandbox/payments", include_in_schema=False)


def _payments(request: Request) -> PaymentBackend:
    state: SandboxState = request.app.state.sandbox
    return state.backend.payments


async def _body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise validation_error([SubError("body", None, "must be a JSON object")]) from None


@router.get("")
def list_payments(request: Request) -> dict[str, list[Payment]]:
    """Every payment the sandbox holds, oldest first."""
    return {"payments": _payments(request).list_all()}


@router.post("")
async def make_payment(request: Request) -> Payment:
    """One payment on one invoice (settled, or waiting for a Bharat Connect confirmation)."""
    return _payments(request).pay(await _body(request))


@router.post("/simulate")
async def simulate_payments(request: Request) -> dict[str, list[Payment]]:
    """Seeded random payments on a share of the dispatched open invoices."""
    return {"payments": _payments(request).simulate(await _body(request))}


@router.post("/{payment_id}/reverse")
def reverse_payment(request: Request, payment_id: str) -> Payment:
    """Take a settled payment back (a refund or a charge-back)."""
    return _payments(request).reverse(payment_id)
