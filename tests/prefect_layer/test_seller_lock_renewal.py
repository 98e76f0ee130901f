"""The seller's Prefect lease is renewed while a long synchronous task blocks the flow's event loop."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tasks import seller_lock


class RecordingClient:
    """Stands in for Prefect's sync client: records renewals, fails the first to show it is retried."""

    def __init__(self) -> None:
        self.renewals: list[float] = []

    def __enter__(self) -> RecordingClient:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        return None

    def renew_concurrency_lease(self, lease_id: Any, lease_duration: float) -> None:
        self.renewals.append(time.monotonic())
        if len(self.renewals) == 1:
            raise httpx.ConnectError("the server blinked")


def test_renewals_go_on_while_the_calling_thread_is_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    client = RecordingClient()
    monkeypatch.setattr(seller_lock, "get_client", lambda sync_client, **settings: client)
    monkeypatch.setattr(seller_lock, "PREFECT_LEASE_SECONDS", 0.2)
    renewer = seller_lock._LeaseRenewer("CEKSANDBX1", uuid4())
    renewer.start()
    time.sleep(0.6)  # a synchronous task holding the event loop's thread
    renewer.stop()

    assert len(client.renewals) >= 4  # every 0.05 s, the failed one included
    assert not renewer.is_alive()
