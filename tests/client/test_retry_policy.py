"""The retry policy as tables: delays (Retry-After, backoff, jitter) and what is retried for whom."""

from __future__ import annotations

import email.utils
import random

import httpx
import pytest

from enkash_ar.retry import (
    Decision,
    OperationKind,
    backoff_delay,
    classify_exception,
    classify_status,
    parse_retry_after,
    retry_delay,
)

NOW = 1_750_000_000.0  # a fixed "current time" for HTTP-dates
IDEM = OperationKind.IDEMPOTENT
CREATE = OperationKind.CREATING


def http_date(offset: float) -> str:
    return email.utils.formatdate(NOW + offset, usegmt=True)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "0.25"}, 0.25),
        ({"Retry-After": " 7 "}, 7.0),
        ({"Retry-After": "0"}, 0.0),
        ({"Retry-After": "-5"}, 0.0),  # negative: do not wait a negative time
        ({"Retry-After": http_date(10)}, 10.0),
        ({"Retry-After": http_date(-30)}, 0.0),  # a date in the past: retry now
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": ""}, None),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "1500", "Retry-After": "9"}, 1.5),  # ms wins
        ({"retry-after-ms": "x", "Retry-After": "9"}, 9.0),  # unreadable ms falls back
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    got = parse_retry_after(headers, now=NOW)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("2", 2.0),  # honoured
        (http_date(5), 5.0),  # HTTP-date honoured
        ("59", 59.0),
        ("600", 60.0),  # above the cap: capped
        (http_date(3600), 60.0),
        ("-1", 0.0),
    ],
)
def test_retry_delay_honours_retry_after_up_to_the_cap(header: str, expected: float) -> None:
    assert retry_delay(0, header, now=NOW) == pytest.approx(expected)
    assert retry_delay(5, httpx.Headers({"Retry-After": header}), now=NOW) == pytest.approx(expected)


def test_retry_after_cap_is_configurable() -> None:
    assert retry_delay(0, "30", max_retry_after=5.0) == 5.0


@pytest.mark.parametrize("header", [None, "garbage", "", "Tue, 99 Foo"])
@pytest.mark.parametrize(("attempt", "ceiling"), [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)])
def test_without_usable_retry_after_backoff_is_jittered_below_a_growing_capped_ceiling(
    header: str | None, attempt: int, ceiling: float
) -> None:
    rng = random.Random(attempt)
    delays = [retry_delay(attempt, header, rng=rng, now=NOW) for _ in range(300)]
    assert all(0.0 <= d <= ceiling for d in delays)
    # Full jitter really spreads: the draws use most of [0, ceiling].
    assert max(delays) > 0.8 * ceiling
    assert min(delays) < 0.2 * ceiling


def test_backoff_parameters() -> None:
    rng = random.Random(1)
    assert all(backoff_delay(10, rng=rng, initial=0.01, cap=0.05) <= 0.05 for _ in range(100))
    assert backoff_delay(0, rng=random.Random(0), initial=0.0) == 0.0


# ---- classification --------------------------------------------------------------------------------

R, X, U = Decision.RETRY, Decision.RAISE, Decision.OUTCOME_UNKNOWN


@pytest.mark.parametrize(
    ("status", "idempotent", "creating"),
    [
        (400, X, X),
        (401, X, X),
        (403, X, X),
        (404, X, X),
        (409, X, X),
        (422, X, X),
        (408, R, U),  # the server timed out reading us: it may have started work
        (429, R, R),  # "not now": nothing was done
        (500, R, U),
        (502, R, U),
        (503, R, R),  # unavailable: refused before any work
        (504, R, U),
    ],
)
def test_status_classification(status: int, idempotent: Decision, creating: Decision) -> None:
    assert classify_status(IDEM, status) is idempotent
    assert classify_status(CREATE, status) is creating


_REQ = httpx.Request("POST", "https://example.invalid/api/v0/invoice")


@pytest.mark.parametrize(
    ("exc", "idempotent", "creating"),
    [
        (httpx.ConnectError("refused", request=_REQ), R, R),
        (httpx.ConnectTimeout("slow connect", request=_REQ), R, R),
        (httpx.PoolTimeout("pool full", request=_REQ), R, R),
        (httpx.ReadTimeout("slow answer", request=_REQ), R, U),
        (httpx.WriteTimeout("slow upload", request=_REQ), R, U),
        (httpx.ReadError("reset", request=_REQ), R, U),
        (httpx.WriteError("broken pipe", request=_REQ), R, U),
        (httpx.RemoteProtocolError("dropped", request=_REQ), R, U),
        (ValueError("a bug, not the network"), X, X),
    ],
)
def test_exception_classification(exc: Exception, idempotent: Decision, creating: Decision) -> None:
    assert classify_exception(IDEM, exc) is idempotent
    assert classify_exception(CREATE, exc) is creating
