"""Defaults of the EnKash client, in one place so that a deployment changes them once."""

from __future__ import annotations

from typing import Final

import httpx

#: EnKash's test host as its Payouts pages publish it (NOTES.md section 2): the portal publishes no AR
#: host, so using it for AR is an assumption. Production is ``https://api.enkash.in`` (same caveat).
DEFAULT_BASE_URL: Final = "https://ekpayout-uat.enkash.in"

#: A slow bulk upload is still answered within a minute; connecting should be quick.
DEFAULT_TIMEOUT_SECONDS: Final = 60.0
DEFAULT_CONNECT_TIMEOUT_SECONDS: Final = 10.0
DEFAULT_TIMEOUT: Final = httpx.Timeout(DEFAULT_TIMEOUT_SECONDS, connect=DEFAULT_CONNECT_TIMEOUT_SECONDS)
DEFAULT_MAX_RETRIES: Final = 3
#: Enough connections for a thread pool of Prefect task runs sharing one client.
DEFAULT_CONNECTION_LIMITS: Final = httpx.Limits(max_connections=64, max_keepalive_connections=32)

#: Exponential backoff: first delay, growth factor, ceiling (seconds).
INITIAL_RETRY_DELAY: Final = 0.5
RETRY_BACKOFF_FACTOR: Final = 2.0
MAX_RETRY_DELAY: Final = 8.0
#: A server asking for a longer pause than this gets this long at most.
MAX_RETRY_AFTER: Final = 60.0

#: Refresh the token this long before it expires, so a request never leaves with a token that dies
#: in flight: min(30 s, 10 % of the lifetime).
TOKEN_SAFETY_MARGIN_MAX: Final = 30.0
TOKEN_SAFETY_MARGIN_FRACTION: Final = 0.1

#: One page of a plain search when the caller gives no limit.
DEFAULT_SEARCH_LIMIT: Final = 100

USER_AGENT: Final = "enkash-ar-python"
