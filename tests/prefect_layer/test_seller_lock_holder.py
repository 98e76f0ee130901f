"""The seller lock on a real Prefect server: its holder record survives a race with the previous holder
leaving, and a failure once the slot is taken gives the slot back (a leaked slot made the next night of
the seller wait for the whole lock timeout)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.variables import Variable

from tasks import seller_lock

SELLER = "CEKLOCKT01"


async def _active_slots(seller_id: str) -> int:
    async with get_client() as client:
        limit = await client.read_global_concurrency_limit_by_name(seller_lock.limit_name(seller_id))
        return limit.active_slots


async def _take_and_leave(seller_id: str) -> None:
    async with seller_lock._prefect_limit(seller_id, "test holder", timeout=5):
        assert await _active_slots(seller_id) == 1
        held = await Variable.aget(seller_lock._holder_variable(seller_id))
        assert held is not None and held["holder"] == "test holder"


def test_the_holder_record_is_written_even_when_the_previous_holder_removes_its_own_meanwhile(
    prefect_server: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The race as it happened: the next holder read the old record, the old holder removed it, and the
    # update answered 404. The write is tried again.
    real = Variable.aset
    calls: list[str] = []

    async def racing(name: str, value: Any, **options: Any) -> Any:
        calls.append(name)
        if len(calls) == 1:
            request = httpx.Request("PATCH", "http://prefect/api/variables/name/x")
            response = httpx.Response(404, request=request, json={"detail": "Variable not found."})
            raise httpx.HTTPStatusError("Variable not found.", request=request, response=response)
        return await real(name, value, **options)

    monkeypatch.setattr(Variable, "aset", racing)
    asyncio.run(_take_and_leave(SELLER))

    assert len(calls) == 2
    assert asyncio.run(_active_slots(SELLER)) == 0


def test_a_failure_after_the_slot_is_taken_gives_the_slot_back(
    prefect_server: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(seller_id: str, record: dict[str, Any]) -> None:
        raise RuntimeError("the Prefect API went away")

    monkeypatch.setattr(seller_lock, "_record_holder", broken)
    with pytest.raises(RuntimeError, match="went away"):
        asyncio.run(_take_and_leave(SELLER + "X"))
    assert asyncio.run(_active_slots(SELLER + "X")) == 0
    monkeypatch.undo()
    # And the seller can be taken again at once.
    asyncio.run(_take_and_leave(SELLER + "X"))
