"""The bearer token: fetched from ``POST /oauth/token``, kept in memory only, shared by all threads.

``TokenAuth`` is an ``httpx.Auth``: it puts ``Authorization: Bearer …`` on every request to the API's
origin, renews the token shortly before it expires, fetches it once when many threads need it at the
same moment, and on a 401 renews it once and replays the request. How the token is fetched (with
retries) is the client's business: ``TokenAuth`` is given a ``fetch`` callable.

Once the token endpoint has refused (``AuthenticationError``), every later token request of this
``TokenAuth``, from any thread, fails at once without reaching EnKash: three wrong passwords lock the
account, so one refusal must stop the whole run, not one worker at a time.

The token and the credentials never reach a log, a repr or an exception message.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Generator, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from enkash_ar._constants import TOKEN_SAFETY_MARGIN_FRACTION, TOKEN_SAFETY_MARGIN_MAX
from enkash_ar.errors import AuthenticationError

TOKEN_OPERATION = "getAuthenticationToken"  # noqa: S105 - an operationId, not a secret


class TokenInfo(BaseModel):
    """A bearer token and when it expires. ``repr`` shows the expiry, never the token.

    Example:
        >>> t = TokenInfo(access_token=SecretStr("abc"), expires_in=60,
        ...               expires_at=datetime(2030, 1, 1, tzinfo=UTC))
        >>> "abc" in repr(t)
        False
    """

    model_config = ConfigDict(frozen=True)

    access_token: SecretStr
    token_type: str = "bearer"  # noqa: S105 - the scheme name
    expires_in: float
    expires_at: datetime
    scope: str | None = None
    refresh_token: SecretStr | None = None
    #: False when the answer gave no usable ``expires_in`` and ``expires_in`` is the assumed default.
    lifetime_given: bool = True
    #: ``time.monotonic()`` reading after which the token is renewed (expiry minus a safety margin).
    renew_after: float = Field(default=0.0, repr=False)


#: A function of a salt that gives the fingerprint of the client's credentials (see :func:`fingerprint`).
Fingerprint = Callable[[bytes], str]


class TokenGuard(Protocol):
    """Told about every token request of a client, and may forbid one before it leaves.

    A guard lets an application remember refused credentials across runs (by fingerprint, never the
    secret), so that a stale password is not tried night after night until the account locks.
    """

    def before_token_request(self, fingerprint: Fingerprint) -> None:
        """Raise :class:`AuthenticationError` to stop the request from being sent."""

    def token_refused(self, fingerprint: Fingerprint, error: AuthenticationError) -> None:
        """The token endpoint refused these credentials."""

    def token_granted(self, fingerprint: Fingerprint) -> None:
        """The token endpoint accepted these credentials."""


def fingerprint(salt: bytes, *parts: str) -> str:
    """A slow, salted hash (scrypt) of credentials: comparable, but useless for guessing a password.

    Example:
        >>> fingerprint(b"salt", "user", "pw") == fingerprint(b"salt", "user", "pw")
        True
    """
    material = "\x1f".join(parts).encode()
    return hashlib.scrypt(material, salt=salt, n=2**14, r=8, p=1, dklen=32).hex()


def safety_margin(lifetime: float) -> float:
    """Seconds before expiry at which a token is renewed: min(30 s, 10 % of its lifetime).

    Example:
        >>> safety_margin(2.0)
        0.2
    """
    return min(TOKEN_SAFETY_MARGIN_MAX, TOKEN_SAFETY_MARGIN_FRACTION * max(lifetime, 0.0))


def token_from_response(
    body: Any, *, now_monotonic: float, now: datetime | None = None, default_lifetime: float = 300.0
) -> TokenInfo:
    """Build a TokenInfo from the token endpoint's JSON answer.

    An answer without a positive ``expires_in`` gets ``default_lifetime`` (the contract profile's
    ``token.default_lifetime_seconds``): taking it as 0 would fetch a new token for every request.

    Raises:
        AuthenticationError: the answer has no ``access_token`` (its values are not echoed).
    """
    if not isinstance(body, dict) or not body.get("access_token"):
        raise AuthenticationError(f"{TOKEN_OPERATION} answered without an access_token")
    given = _positive_seconds(body.get("expires_in"))
    lifetime = given if given is not None else default_lifetime
    issued = now or datetime.now(UTC)
    refresh = body.get("refresh_token")
    return TokenInfo(
        access_token=SecretStr(str(body["access_token"])),
        token_type=str(body.get("token_type") or "bearer"),
        expires_in=lifetime,
        expires_at=issued + timedelta(seconds=lifetime),
        scope=body.get("scope"),
        refresh_token=SecretStr(str(refresh)) if refresh else None,
        lifetime_given=given is not None,
        renew_after=now_monotonic + lifetime - safety_margin(lifetime),
    )


def _positive_seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None


def authentication_error(response: httpx.Response, secrets: Iterable[str]) -> AuthenticationError:
    """Turn a refused token request into an AuthenticationError that names no secret.

    Reads either an OAuth error (``error`` / ``error_description``) or the EnKash envelope; any
    secret that the server might echo is scrubbed from the text.
    """
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    raw_err = body.get("errorResponse")
    err: dict[str, Any] = raw_err if isinstance(raw_err, dict) else {}
    reason = (
        body.get("error_description")
        or err.get("errorMessage")
        or body.get("error")
        or body.get("response_message")
        or response.reason_phrase
    )
    request_id = err.get("requestId") or response.headers.get("x-request-id")
    text = str(reason)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    where = f"HTTP {response.status_code}" + (f", requestId {request_id}" if request_id else "")
    return AuthenticationError(
        f"{TOKEN_OPERATION} failed ({where}): {text}. Check ENKASH_CLIENT_ID, ENKASH_CLIENT_SECRET, "
        "ENKASH_USERNAME, ENKASH_PASSWORD and ENKASH_SELLER_ID; not retried, because repeated wrong "
        "passwords lock the account.",
        status_code=response.status_code,
    )


def _unauthorized_in_body(response: httpx.Response) -> bool:
    """A 200 answer whose envelope says UNAUTHORIZED (an API that answers its errors with HTTP 200)."""
    # The byte search keeps the JSON parse off every ordinary answer.
    if response.status_code != 200 or b"UNAUTHORIZED" not in response.content:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    err = body.get("errorResponse") if isinstance(body, dict) else None
    return isinstance(err, dict) and err.get("errorType") == "UNAUTHORIZED"


class TokenAuth(httpx.Auth):
    """Bearer-token authentication with in-memory caching, renewal and one replay on 401 (or on an
    HTTP 200 whose envelope says UNAUTHORIZED).

    Args:
        fetch: returns a fresh token (the client's retrying token call).
        origin: only requests to this origin get the token (result files on another host do not).
        clock: monotonic clock, injectable for tests.
    """

    # Read bodies before the flow continues so a replay can resend them and the connection of the
    # first answer is back in the pool before the token call needs one.
    requires_request_body = True
    requires_response_body = True

    def __init__(
        self,
        fetch: Callable[[], TokenInfo],
        *,
        origin: httpx.URL | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._origin = origin
        self._clock = clock
        self._lock = threading.Lock()
        self._token: TokenInfo | None = None
        self._refused: AuthenticationError | None = None

    def __repr__(self) -> str:
        state = "no token" if self._token is None else f"token expires {self._token.expires_at.isoformat()}"
        return f"{type(self).__name__}({state})"

    def _fresh(self, token: TokenInfo | None) -> bool:
        return token is not None and self._clock() < token.renew_after

    def token(self) -> TokenInfo:
        """A valid token: the cached one, or a new one fetched by exactly one thread."""
        token = self._token
        if self._fresh(token):
            assert token is not None
            return token
        with self._lock:
            # Another thread may have fetched it while we waited for the lock.
            if not self._fresh(self._token):
                self._token = self._fetch_once()
            assert self._token is not None
            return self._token

    def renew(self, stale: TokenInfo | None) -> TokenInfo:
        """Replace ``stale`` after a 401, unless another thread already did."""
        with self._lock:
            if self._token is None or self._token is stale:
                self._token = self._fetch_once()
            return self._token

    def fetch_now(self) -> TokenInfo:
        """Fetch a new token whatever the cached one's age (an explicit token call), and use it."""
        with self._lock:
            self._token = self._fetch_once()
            return self._token

    @property
    def refused(self) -> AuthenticationError | None:
        """The refusal that stopped this ``TokenAuth``, if any."""
        return self._refused

    def _fetch_once(self) -> TokenInfo:
        """Call ``fetch`` unless a refusal came before (caller holds the lock)."""
        if self._refused is not None:
            raise AuthenticationError(
                f"{self._refused} (refused earlier in this run: no further token request is made)",
                status_code=self._refused.status_code,
            )
        try:
            return self._fetch()
        except AuthenticationError as exc:
            self._refused = exc
            raise

    def _applies_to(self, request: httpx.Request) -> bool:
        if self._origin is None:
            return True
        url = request.url
        return (url.scheme, url.host, url.port) == (self._origin.scheme, self._origin.host, self._origin.port)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Attach the bearer token; on a 401 renew it once and replay the request."""
        if not self._applies_to(request):
            yield request
            return
        token = self.token()
        request.headers["Authorization"] = f"Bearer {token.access_token.get_secret_value()}"
        response = yield request
        if response.status_code == 401 or _unauthorized_in_body(response):
            token = self.renew(stale=token)
            request.headers["Authorization"] = f"Bearer {token.access_token.get_secret_value()}"
            yield request
