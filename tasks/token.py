"""fetch_token: make sure the process holds a valid EnKash token before the stages start."""

from __future__ import annotations

from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.connection import enkash_client
from tasks.retry_policy import RETRY_DELAY_SECONDS, retry_transient


@task(
    name="fetch-token",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=RETRY_DELAY_SECONDS / 2,
    retry_condition_fn=retry_transient,
)
def fetch_token(credentials_block: str | None = None, ledger_path: str | None = None) -> datetime:
    """Fetch (or reuse) the in-process EnKash token and return when it expires.

    The token itself stays inside the process's client; only its expiry is returned, so nothing
    secret reaches Prefect's results, logs or UI. Wrong credentials fail at once, without a retry, and
    are remembered (by fingerprint) so the next nights do not try them again: three wrong attempts lock
    the EnKash account.

    Example:
        >>> expires_at = fetch_token("enkash-prod")  # doctest: +SKIP
    """
    return enkash_client(credentials_block, ledger_path).warm_token()
