"""Stage progress as the CLI's bar and the Prefect artifact receive it (here, outside any flow run, only
the listeners: the artifact is checked on a real night in test_flow_operations.py)."""

from __future__ import annotations

import pytest

from tasks.progress import listening, percent, progress_key, tracked


def test_each_finished_chunk_adds_its_rows() -> None:
    heard: list[tuple[str, int, int]] = []
    chunks = [[1, 2, 3], [4, 5, 6], [7]]

    with listening(lambda *event: heard.append(event)):
        seen = list(tracked(chunks, 7, "invoices_upload"))

    assert seen == chunks
    assert heard == [("invoices_upload", n, 7) for n in (0, 3, 6, 7)]


def test_a_failing_chunk_is_not_counted_and_nothing_planned_says_nothing() -> None:
    heard: list[tuple[str, int, int]] = []

    with listening(lambda *event: heard.append(event)):
        with pytest.raises(RuntimeError):
            for chunk in tracked([[1, 2], [3, 4]], 4, "reminders"):
                if chunk == [3, 4]:
                    raise RuntimeError("EnKash refused the chunk")
        assert list(tracked([], 0, "customers_update")) == []

    assert heard == [("reminders", 0, 4), ("reminders", 2, 4)]


def test_percent_and_key() -> None:
    assert (percent(0, 7), percent(3, 7), percent(7, 7), percent(9, 7), percent(0, 0)) == (
        0.0,
        42.86,
        100.0,
        100.0,
        100.0,
    )
    assert progress_key("invoices_upload") == "ar-progress-invoices-upload"
