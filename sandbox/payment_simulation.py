"""Days of customers paying, played against a running sandbox over HTTP, the way they reach EnKash.

The sandbox's admin API makes the payments (:mod:`sandbox.payment_admin`); those made over Bharat Connect
wait for the supplier, who confirms each one with the documented paymentConfirmationRequest through the
EnKash client, exactly as a seller's AR clerk would on the real API. The demo and the end-to-end tests
use this between two nights.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from enkash_ar.client import EnkashClient
from enkash_ar.request_models import PaymentConfirmationRequest

#: The status of a Bharat Connect payment waiting for the supplier (``sandbox.backend.payments``).
AWAITING_CONFIRMATION = "AWAITING_CONFIRMATION"


@dataclass
class SimulatedPayments:
    """The payments a simulation made, and the Bharat Connect ones the supplier confirmed."""

    payments: list[dict[str, Any]] = field(default_factory=list)
    confirmed: list[str] = field(default_factory=list)

    @property
    def received(self) -> float:
        """What EnKash now counts as received from them, INR (unconfirmed ones excluded)."""
        booked = [
            p["amount"]
            for p in self.payments
            if p["status"] != AWAITING_CONFIRMATION or p["paymentId"] in self.confirmed
        ]
        return round(sum(booked), 2)


def _admin(base_url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{base_url.rstrip('/')}/_sandbox/payments{path}", json=body, timeout=30)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


def confirm_bharat_connect(client: EnkashClient, payment: dict[str, Any]) -> None:
    """Accept one waiting Bharat Connect payment with paymentConfirmationRequest, as the supplier."""
    client.payment_confirmation_request(
        PaymentConfirmationRequest(
            invoice_ids=[payment["invoiceId"]],
            payment_id=payment["paymentId"],
            remarks=f"received by {payment['mode']} on {payment['paidOn'][:10]}",
            response="ACCEPT",
            type="ONPLATFORM",
        )
    )


def simulate_payments(
    base_url: str,
    client: EnkashClient,
    *,
    seed: int,
    start: date,
    days: int = 1,
    share: float = 0.5,
    partial_share: float = 0.3,
    bharat_connect_share: float = 0.25,
    confirm: bool = True,
) -> SimulatedPayments:
    """``days`` days of payments from ``start``: each day a ``share`` of the open dispatched invoices is
    paid (a ``partial_share`` of those in part, a ``bharat_connect_share`` over Bharat Connect, which
    the supplier then confirms unless ``confirm`` is false). Seeded: the same call on the same sandbox
    state pays the same invoices the same amounts.

    Example:
        >>> done = simulate_payments(url, client, seed=7, start=date(2026, 11, 25))  # doctest: +SKIP
        >>> done.received  # doctest: +SKIP
        412350.5
    """
    made = SimulatedPayments()
    for offset in range(days):
        day = start + timedelta(days=offset)
        body = {
            "seed": seed,
            "start": day.isoformat(),
            "days": 1,
            "share": share,
            "partialShare": partial_share,
            "bharatConnectShare": bharat_connect_share,
        }
        made.payments += _admin(base_url, "/simulate", body)["payments"]
    if confirm:
        for payment in made.payments:
            if payment["status"] == AWAITING_CONFIRMATION:
                confirm_bharat_connect(client, payment)
                made.confirmed.append(payment["paymentId"])
    return made


def pay(base_url: str, **payment: Any) -> dict[str, Any]:
    """One payment through the admin API (``invoiceId`` or ``externalId``, ``amount``, ``channel`` ...)."""
    return _admin(base_url, "", payment)


def reverse(base_url: str, payment_id: str) -> dict[str, Any]:
    """Refund (reverse) a settled payment through the admin API."""
    return _admin(base_url, f"/{payment_id}/reverse", {})
