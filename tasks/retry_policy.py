"""When a Prefect task retry is worth it: transient failures only.

The client already retries single HTTP exchanges; a task retry is for what is left after that (an
outage longer than the client's backoff, a write whose outcome stayed unknown, a token that expired
again right after its renewal). A 400, 403 or 404 will answer the same again, and a wrong password must
never be retried (three attempts lock the account), so those end the task at once.
"""

from __future__ import annotations

from typing import Any

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


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """``retry_condition_fn`` for Prefect tasks: retry only :data:`TRANSIENT_ERRORS`."""
    try:
        state.result()
    except TRANSIENT_ERRORS:
        return True
    except Exception:
        return False
    return False
