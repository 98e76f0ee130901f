"""When a Prefect task retry is worth it: transient failures only.

The client already retries single HTTP exchanges; a task retry is for what is left after that (an
outage longer than the client's backoff, a write whose outcome stayed unknown, a token that expired
again right after its renewal). A 400, 403 or 404 will answer the same again, and a wrong password must
never be retried (three attempts lock the account), so those end the task at once.
"""

from __future__ import annotations

import os
from typing import Any, Final

from enkash_ar.errors import (
    OutcomeUnknownError,
    RateLimitError,
    ServerError,
    TransportError,
    UnauthorizedError,
)

#: Failures that may pass. OutcomeUnknownError is safe to retry because every write looks up what
#: EnKash already holds before it sends anything (see ar_sync.exactly_once). UnauthorizedError is a 401 on
#: an API call although the client had just renewed its token (the new token died in flight too): the
#: credentials are good and nothing was processed. A wrong password is an AuthenticationError from the
#: token call, which is not in this list and so is never retried.
TRANSIENT_ERRORS = (TransportError, RateLimitError, ServerError, UnauthorizedError, OutcomeUnknownError)


#: The environment variable that sets :data:`RETRY_DELAY_SECONDS`.
RETRY_DELAY_VARIABLE: Final = "ENKASH_TASK_RETRY_DELAY_SECONDS"


def _retry_delay(value: str | None) -> float:
    if value is None or not value.strip():
        return 10.0
    try:
        delay = float(value)
    except ValueError:
        delay = -1.0
    if not 0 <= delay <= 3600:
        raise ValueError(
            f"{RETRY_DELAY_VARIABLE}={value!r} is not a number of seconds from 0 to 3600; "
            "unset it for the default of 10 s."
        )
    return delay


#: Seconds a write task waits before each of its two retries (default 10: long enough for a brief
#: outage of EnKash to pass). Set through ``ENKASH_TASK_RETRY_DELAY_SECONDS`` in the environment of the
#: process that runs the flows; it is read when the tasks are defined, at import.
RETRY_DELAY_SECONDS: Final = _retry_delay(os.environ.get(RETRY_DELAY_VARIABLE))


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """``retry_condition_fn`` for Prefect tasks: retry only :data:`TRANSIENT_ERRORS`."""
    try:
        state.result()
    except TRANSIENT_ERRORS:
        return True
    except Exception:
        return False
    return False
