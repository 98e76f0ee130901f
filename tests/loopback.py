"""One HTTP client for the tests' own calls to the sandbox and the Prefect server on loopback.

``httpx.get(...)`` builds a client for the one call, and with it a TLS context loaded from certifi's
whole bundle, even for plain http: about 35 ms of CPU a call here. Every test resets the sandbox and
the crash tests poll its counters every 20 ms, so those calls alone kept a core busy during the suite
(and a poll took 55 ms, not 20). Through this shared client a call costs about 1 ms. httpx clients
are thread-safe; the sandbox sets no cookies, so no call sees another's state.

Example:
    >>> from tests.loopback import http
    >>> http.post(f"{sandbox.base_url}/_sandbox/reset").raise_for_status()  # doctest: +SKIP
"""

from __future__ import annotations

import httpx

#: The shared client (httpx's default 5 s timeout, as ``httpx.get`` had).
http = httpx.Client()
