"""When to retry a call and how long to wait: pure functions, so the whole policy is table-testable.

Two kinds of operation:

- ``IDEMPOTENT``: reads, searches, PATCH/PUT updates, deletes, bulkUpdate and the token call. Sending
  them twice leaves the same state as sending them once, so every transient failure is retried:
  408, 429, 5xx and any transport error.
- ``CREATING``: writes that create something or trigger a side effect (createInvoice, bulk uploads,
  dispatch, reminder create, Bharat Connect requests). EnKash has no idempotency key, so they are
  retried only when the server provably did not act: the connection never opened (connect error,
  connect/pool timeout), or the server said "not now" (429, 503). Any other failure after the body
  left (a dropped response, a read timeout, 500/502/504) means the outcome is unknown.
"""

from __future__ import annotations

import email.utils
import enum
import random
import time
from collections.abc import Callable, Mapping

import httpx

from enkash_ar._constants import (
    INITIAL_RETRY_DELAY,
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
    RETRY_BACKOFF_FACTOR,
)

#: Something that waits the given number of seconds; tests inject a fake.
Sleeper = Callable[[float], None]


class OperationKind(enum.Enum):
    """Whether repeating an operation is harmless."""

    IDEMPOTENT = "idempotent"
    CREATING = "creating"


class Decision(enum.Enum):
    """What the send loop does with a failed attempt."""

    RETRY = "retry"
    RAISE = "raise"
    OUTCOME_UNKNOWN = "outcome_unknown"


_TRANSIENT_STATUSES = frozenset({408, 429})
#: Answers that say the request was refused before any work was done.
_NOT_ACTED_STATUSES = frozenset({429, 503})
#: Transport errors raised before a single byte of the request reached the server.
_NOT_SENT_ERRORS: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def provably_not_sent(exc: BaseException) -> bool:
    """True when ``exc`` was raised before any byte of the request reached the server."""
    return isinstance(exc, _NOT_SENT_ERRORS)


def classify_status(kind: OperationKind, status_code: int) -> Decision:
    """Decide what to do with an error status.

    Args:
        kind: the operation's kind.
        status_code: HTTP status of the answer (>= 400).

    Returns:
        RETRY, RAISE (a definite error: 4xx) or OUTCOME_UNKNOWN (creating write, server may have acted).

    Example:
        >>> classify_status(OperationKind.CREATING, 500)
        <Decision.OUTCOME_UNKNOWN: 'outcome_unknown'>
    """
    transient = status_code in _TRANSIENT_STATUSES or status_code >= 500
    if not transient:
        return Decision.RAISE
    if kind is OperationKind.IDEMPOTENT or status_code in _NOT_ACTED_STATUSES:
        return Decision.RETRY
    return Decision.OUTCOME_UNKNOWN


def classify_exception(kind: OperationKind, exc: BaseException) -> Decision:
    """Decide what to do with an exception raised while sending.

    Args:
        kind: the operation's kind.
        exc: the exception (httpx transport errors are the interesting ones).

    Returns:
        RETRY, RAISE (not a transport problem) or OUTCOME_UNKNOWN.

    Example:
        >>> classify_exception(OperationKind.CREATING, httpx.ReadTimeout("slow"))
        <Decision.OUTCOME_UNKNOWN: 'outcome_unknown'>
    """
    if not isinstance(exc, httpx.TransportError):
        return Decision.RAISE
    if kind is OperationKind.IDEMPOTENT or provably_not_sent(exc):
        return Decision.RETRY
    return Decision.OUTCOME_UNKNOWN


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Read how long the server asks us to wait, in seconds.

    ``retry-after-ms`` (milliseconds, non-standard but common) wins over ``Retry-After``, which is
    either delta-seconds or an HTTP-date.

    Args:
        headers: response headers (case-insensitive mapping such as ``httpx.Headers``).
        now: current Unix time, for HTTP-dates; defaults to ``time.time()``.

    Returns:
        Seconds to wait (never negative), or None when absent or unreadable.

    Example:
        >>> parse_retry_after({"retry-after": "2"})
        2.0
    """
    ms = _header(headers, "retry-after-ms")
    if ms is not None:
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    value = _header(headers, "retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    current = time.time() if now is None else now
    return max(email.utils.mktime_tz(parsed) - current, 0.0)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None and not isinstance(headers, httpx.Headers):
        # Plain dicts in tests are case-sensitive; accept any spelling.
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value.strip() if value is not None else None


def backoff_delay(
    attempt: int,
    *,
    rng: random.Random | None = None,
    initial: float = INITIAL_RETRY_DELAY,
    factor: float = RETRY_BACKOFF_FACTOR,
    cap: float = MAX_RETRY_DELAY,
) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, initial * factor**attempt)].

    Full jitter spreads the retries of many clients hit by the same outage.

    Args:
        attempt: 0 for the first retry, 1 for the second ...
        rng: random source (seed it in tests).
        initial: ceiling of the first delay.
        factor: growth per attempt.
        cap: largest ceiling.

    Returns:
        Seconds to wait.
    """
    ceiling = min(cap, initial * factor ** max(attempt, 0))
    return (rng or random).uniform(0.0, ceiling)


def retry_delay(
    attempt: int,
    retry_after_header: Mapping[str, str] | str | None,
    *,
    now: float | None = None,
    rng: random.Random | None = None,
    max_retry_after: float = MAX_RETRY_AFTER,
    initial: float = INITIAL_RETRY_DELAY,
    cap: float = MAX_RETRY_DELAY,
) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based).

    The server's Retry-After is honoured, capped at ``max_retry_after`` (a server asking for an hour
    does not stall a nightly run for an hour); without a usable one (absent or unparseable) the delay
    is exponential backoff with full jitter.

    Args:
        attempt: 0 for the first retry.
        retry_after_header: the response headers, a bare ``Retry-After`` value, or None.
        now: current Unix time for HTTP-dates.
        rng: random source for the jitter.
        max_retry_after: longest server-requested wait.
        initial: backoff ceiling of the first retry.
        cap: largest backoff ceiling.

    Returns:
        Seconds to wait.

    Example:
        >>> retry_delay(0, "3")
        3.0
    """
    if isinstance(retry_after_header, str):
        retry_after_header = {"retry-after": retry_after_header}
    asked = parse_retry_after(retry_after_header, now=now) if retry_after_header is not None else None
    if asked is not None:
        return min(asked, max_retry_after)
    return backoff_delay(attempt, rng=rng, initial=initial, cap=cap)
