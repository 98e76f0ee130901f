"""A file database survives restarts; concurrent requests stay consistent; unknown paths answer 404."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from sandbox_helpers import get_token, new_customer, new_invoice

from sandbox.server import SandboxConfig, running_sandbox


def test_file_database_survives_a_restart(tmp_path: Path) -> None:
    config = SandboxConfig(db=str(tmp_path / "sandbox.db"))
    with (
        running_sandbox(config) as first,
        httpx.Client(base_url=first.base_url, headers={"Authorization": f"Bearer {get_token(first)}"}) as api,
    ):
        cid = new_customer(api)["customerId"]
        iid = new_invoice(api, cid)["invoiceId"]
    with (
        running_sandbox(config) as second,
        httpx.Client(
            base_url=second.base_url, headers={"Authorization": f"Bearer {get_token(second)}"}
        ) as api,
    ):
        assert api.get(f"/api/v0/invoice/{iid}").json()["payload"]["customerId"] == cid
        assert new_invoice(api, cid)["invoiceId"] != iid


def test_concurrent_creates_are_all_kept(
    api: httpx.Client, sandbox_state: Callable[..., dict[str, Any]]
) -> None:
    cid = new_customer(api)["customerId"]

    def create(n: int) -> str:
        return new_invoice(api, cid, externalId=f"T{n}")["invoiceId"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(create, range(80)))
    assert len(set(ids)) == 80
    state = sandbox_state()
    assert sorted(i["externalId"] for i in state["invoices"]) == sorted(f"T{n}" for n in range(80))
    assert state["request_counts"]["createInvoice"] == 80


def test_unknown_paths_answer_the_envelope(api: httpx.Client) -> None:
    response = api.get("/api/v0/nothing-here")
    assert response.status_code == 404
    assert response.json()["response_code"] == 1
    assert response.json()["errorResponse"]["errorType"] == "RECORD_NOT_FOUND"
    assert api.get("/docs").status_code == 404 and api.get("/openapi.json").status_code == 404
