"""The write tasks' retry delay: 10 s unless ENKASH_TASK_RETRY_DELAY_SECONDS says otherwise, refused when
it is not a number of seconds."""

from __future__ import annotations

import pytest

from tasks.customers import create_customers_chunk
from tasks.invoices import dispatch_invoices_chunk, upload_invoices_chunk
from tasks.lifecycle import deactivate_customers_chunk
from tasks.reminders import ensure_reminders_chunk
from tasks.retry_policy import RETRY_DELAY_SECONDS, RETRY_DELAY_VARIABLE, _retry_delay


@pytest.mark.parametrize(
    ("value", "seconds"), [(None, 10.0), ("", 10.0), ("0", 0.0), ("0.5", 0.5), (" 30 ", 30.0)]
)
def test_the_delay_is_read_from_the_environment_with_a_default_of_ten_seconds(
    value: str | None, seconds: float
) -> None:
    assert _retry_delay(value) == seconds


@pytest.mark.parametrize("value", ["ten", "-1", "nan", "4000"])
def test_a_delay_that_is_not_seconds_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(ValueError, match=f"{RETRY_DELAY_VARIABLE}='{value}'.*unset it"):
        _retry_delay(value)


def test_every_write_task_waits_the_configured_delay_before_each_of_its_two_retries() -> None:
    # The tests run with ENKASH_TASK_RETRY_DELAY_SECONDS=0.5 (tests/conftest.py).
    assert RETRY_DELAY_SECONDS == 0.5
    for task in (
        create_customers_chunk,
        upload_invoices_chunk,
        dispatch_invoices_chunk,
        deactivate_customers_chunk,
        ensure_reminders_chunk,
    ):
        assert task.retries == 2
        assert task.retry_delay_seconds == RETRY_DELAY_SECONDS, task.name
