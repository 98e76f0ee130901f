"""The sandbox's clock: records stamped a day earlier look a day old to date searches; reset puts it back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sandbox_helpers import new_customer, new_invoice

from sandbox.server import RunningSandbox
from tests.loopback import http

DAY = 86_400


def _clock(sandbox: RunningSandbox, **body: Any) -> httpx.Response:
    return http.post(f"{sandbox.base_url}/_sandbox/clock", json=body)


def _stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _search(api: httpx.Client, **filters: Any) -> list[str]:
    response = api.post("/api/v0/invoice/search", json=filters)
    response.raise_for_status()
    return [i["invoiceId"] for i in response.json()["payload"]]


def test_a_night_recorded_a_day_back_is_not_dispatched_since_the_last_hour(
    api: httpx.Client, sandbox: RunningSandbox
) -> None:
    moved = _clock(sandbox, offset_seconds=-DAY)
    assert moved.status_code == 200 and moved.json()["offset_seconds"] == -DAY
    customer = new_customer(api)["customerId"]
    old = new_invoice(api, customer, baseAmount=5)["invoiceId"]
    api.post("/api/v0/invoice/bulk/dispatch", json={"invoiceIds": [old]}).raise_for_status()

    assert _clock(sandbox, offset_seconds=0).json()["offset_seconds"] == 0
    new = new_invoice(api, customer, baseAmount=7)["invoiceId"]
    api.post("/api/v0/invoice/bulk/dispatch", json={"invoiceIds": [new]}).raise_for_status()

    held = {i: api.get(f"/api/v0/invoice/{i}").json()["payload"] for i in (old, new)}
    now = datetime.now(UTC)
    for member in ("createdOn", "dispatchedOn"):
        assert timedelta(hours=23) < now - _stamp(held[old][member]) < timedelta(hours=25), member
        assert now - _stamp(held[new][member]) < timedelta(hours=1), member
    an_hour_ago = (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    assert _search(api, dispatched=True, dispatchedOnFrom=an_hour_ago) == [new]
    assert sorted(_search(api, dispatched=True)) == sorted([old, new])


def test_reset_sets_the_clock_back_and_a_bad_offset_is_refused(sandbox: RunningSandbox) -> None:
    assert _clock(sandbox, offset_seconds=-2 * DAY).status_code == 200
    read = http.get(f"{sandbox.base_url}/_sandbox/clock").json()
    assert read["offset_seconds"] == -2 * DAY
    assert timedelta(hours=47) < datetime.now(UTC) - _stamp(read["now"]) < timedelta(hours=49)

    http.post(f"{sandbox.base_url}/_sandbox/reset").raise_for_status()
    assert http.get(f"{sandbox.base_url}/_sandbox/clock").json()["offset_seconds"] == 0

    for body in (
        {"offset_seconds": "yesterday"},
        {"offset_seconds": True},
        {},
        {"offset_seconds": 1, "x": 2},
    ):
        refused = _clock(sandbox, **body)
        assert refused.status_code == 400, body
        assert "offset_seconds" in refused.text
    assert http.get(f"{sandbox.base_url}/_sandbox/clock").json()["offset_seconds"] == 0
