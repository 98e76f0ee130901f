"""Chunks fanned out to the task runner: in order, never more in flight than allowed, none abandoned."""

from __future__ import annotations

from typing import Any

import pytest

from tasks.host_limit import fanned_out, host_limit_name


class _Future:
    """A submitted chunk: done when its result is asked for (or waited on)."""

    def __init__(self, log: list[str], chunk: int, fail: bool) -> None:
        self.log, self.chunk, self.fail = log, chunk, fail
        self.settled = False

    def result(self) -> int:
        self.wait()
        if self.fail:
            raise RuntimeError(f"chunk {self.chunk} failed")
        return self.chunk * 10

    def wait(self) -> None:
        if not self.settled:
            self.settled = True
            self.log.append(f"done {self.chunk}")


def _submitter(log: list[str], in_flight: list[int], failing: int | None = None) -> Any:
    futures: list[_Future] = []

    def submit(chunk: int) -> _Future:
        log.append(f"sent {chunk}")
        futures.append(_Future(log, chunk, chunk == failing))
        in_flight.append(sum(not f.settled for f in futures))
        return futures[-1]

    submit.futures = futures  # type: ignore[attr-defined]
    return submit


def test_results_come_back_in_order_with_at_most_the_window_in_flight() -> None:
    log: list[str] = []
    in_flight: list[int] = []

    pairs = list(fanned_out(_submitter(log, in_flight), range(7), window=3))

    assert pairs == [(c, c * 10) for c in range(7)]
    assert max(in_flight) == 3
    assert log[:4] == ["sent 0", "sent 1", "sent 2", "done 0"]


def test_a_failed_chunk_waits_for_the_chunks_in_flight_then_raises() -> None:
    log: list[str] = []
    submit = _submitter(log, [], failing=1)

    with pytest.raises(RuntimeError, match="chunk 1 failed"):
        list(fanned_out(submit, range(6), window=3))

    # Chunks 2 and 3 were already sent when chunk 1 failed: both finished before the error surfaced,
    # and nothing more was sent.
    assert all(f.settled for f in submit.futures)
    assert "sent 4" not in log and log[-1] in {"done 2", "done 3"}


@pytest.mark.parametrize(
    ("base_url", "name"),
    [
        ("https://ekpayout-uat.enkash.in", "enkash-ar-host-ekpayout-uat-enkash-in"),
        ("https://api.enkash.in/", "enkash-ar-host-api-enkash-in"),
        ("http://127.0.0.1:8765", "enkash-ar-host-127-0-0-1-8765"),
    ],
)
def test_one_limit_per_host(base_url: str, name: str) -> None:
    assert host_limit_name(base_url) == name
