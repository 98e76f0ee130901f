"""The machinery under ``EnkashClient``: one pooled httpx client, the token, the retrying send loop
and the decoding of the response envelope. Operation methods live in ``client.py``.
"""

from __future__ import annotations

import functools
import logging
import ssl
import time
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import SecretStr, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from enkash_ar._constants import (
    DEFAULT_CONNECTION_LIMITS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    MAX_RETRY_AFTER,
    USER_AGENT,
)
from enkash_ar.auth import (
    TOKEN_OPERATION,
    TokenAuth,
    TokenGuard,
    TokenInfo,
    authentication_error,
    fingerprint,
    token_from_response,
)
from enkash_ar.contract_profile import SHIPPED_PROFILE, ContractProfile
from enkash_ar.errors import (
    CONTRACT_PROFILE_HINT,
    AuthenticationError,
    EnkashError,
    OutcomeUnknownError,
    TransportError,
    UnexpectedResponseError,
    make_api_error,
    status_of_error_type,
)
from enkash_ar.models import PROFILE_CONTEXT
from enkash_ar.retry import (
    Decision,
    OperationKind,
    Sleeper,
    classify_exception,
    classify_status,
    provably_not_sent,
    retry_delay,
)
from enkash_ar.routes import Route, routes_for
from enkash_ar.settings import check_base_url

log = logging.getLogger("enkash_ar")

P = TypeVar("P")

_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(tp: Any) -> TypeAdapter[Any]:
    # Building a TypeAdapter is costly; the payload types are few and fixed.
    if tp not in _ADAPTERS:
        _ADAPTERS[tp] = TypeAdapter(tp)
    return _ADAPTERS[tp]


def _as_secret(value: str | SecretStr) -> SecretStr:
    return value if isinstance(value, SecretStr) else SecretStr(value)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The process's one TLS context for EnKash, built as httpx builds its default (certifi's bundle, or
    ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``).

    httpx builds a new one for every client, loading the whole bundle: ~35 ms of CPU each. A context is
    safe to share between clients and threads, so every client of the process uses this one.
    """
    return httpx.create_ssl_context()


class BaseClient:
    """Connection, credentials, retries and envelope decoding shared by every operation."""

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str | SecretStr,
        username: str,
        password: str | SecretStr,
        seller_id: str,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_after: float = MAX_RETRY_AFTER,
        transport: httpx.BaseTransport | None = None,
        sleeper: Sleeper = time.sleep,
        token_guard: TokenGuard | None = None,
        profile: ContractProfile | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        check_base_url(base_url)
        self.seller_id = seller_id
        #: What this client assumes about EnKash where the portal is silent (paths, paging, statuses ...).
        self.profile = profile or SHIPPED_PROFILE
        self._routes = routes_for(self.profile)
        self._last_token_answer: dict[str, Any] | None = None
        self.max_retries = max_retries
        self._client_id = client_id
        self._client_secret = _as_secret(client_secret)
        self._username = username
        self._password = _as_secret(password)
        self._max_retry_after = max_retry_after
        self._sleep = sleeper
        self._token_guard = token_guard
        if timeout is None:
            timeout = DEFAULT_TIMEOUT
        elif not isinstance(timeout, httpx.Timeout):
            timeout = httpx.Timeout(timeout, connect=min(float(timeout), 10.0))
        self._http = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            verify=_tls_context(),
            limits=DEFAULT_CONNECTION_LIMITS,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )
        self._auth = TokenAuth(self._fetch_token, origin=self._http.base_url)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={str(self._http.base_url)!r}, seller_id={self.seller_id!r})"

    @property
    def base_url(self) -> httpx.URL:
        """The API's base URL."""
        return self._http.base_url

    def close(self) -> None:
        """Close the pooled connections. The client is unusable afterwards."""
        self._http.close()

    def __enter__(self) -> BaseClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- token ---------------------------------------------------------------------------------

    def credentials_fingerprint(self, salt: bytes) -> str:
        """The salted scrypt fingerprint of this client's endpoint and credentials (never the secrets)."""
        return fingerprint(
            salt,
            str(self._http.base_url),
            self._client_id,
            self._client_secret.get_secret_value(),
            self._username,
            self._password.get_secret_value(),
            self.seller_id,
        )

    def _fetch_token(self) -> TokenInfo:
        guard = self._token_guard
        if guard is None:
            return self._request_token()
        guard.before_token_request(self.credentials_fingerprint)
        try:
            token = self._request_token()
        except AuthenticationError as exc:
            if exc.status_code is not None and exc.status_code < 500:
                guard.token_refused(self.credentials_fingerprint, exc)
            raise
        guard.token_granted(self.credentials_fingerprint)
        return token

    def _request_token(self) -> TokenInfo:
        started = time.monotonic()
        form = {
            "username": self._username,
            "password": self._password.get_secret_value(),
            "grant_type": "password",
            "clientId": self.seller_id,
        }
        basic = httpx.BasicAuth(self._client_id, self._client_secret.get_secret_value())
        response = self._send(self._routes[TOKEN_OPERATION], data=form, auth=basic)
        body = _json(response, TOKEN_OPERATION)
        self._last_token_answer = _redacted(body)
        err = body.get("errorResponse") if isinstance(body, dict) else None
        if isinstance(err, dict) and err.get("errorType"):
            # An API that answers errors with HTTP 200: the envelope, not the status, is the refusal.
            refusal = authentication_error(
                response, (self._password.get_secret_value(), self._client_secret.get_secret_value())
            )
            refusal.status_code = status_of_error_type(str(err["errorType"]))
            raise refusal
        settings = self.profile.token
        token = token_from_response(
            body, now_monotonic=started, default_lifetime=settings.default_lifetime_seconds
        )
        if not token.lifetime_given and settings.expires_in:
            log.warning(
                "%s: the answer has no expires_in; assuming %.0f s (contract profile "
                "token.default_lifetime_seconds). If that is how EnKash answers, set token.expires_in: "
                "false in the contract profile.",
                TOKEN_OPERATION,
                settings.default_lifetime_seconds,
            )
        return token

    @property
    def last_token_answer(self) -> dict[str, Any] | None:
        """The last token answer's members, with the token values replaced by ``"***"`` (for doctor)."""
        return self._last_token_answer

    # ---- sending -------------------------------------------------------------------------------

    def _url(self, route: Route, path_params: Mapping[str, str] | None) -> str:
        # Ids go into the path quoted, so an id with "/" or "?" cannot reach another endpoint.
        params = {k: quote(str(v), safe="") for k, v in (path_params or {}).items()}
        return route.path.format(**params)

    def _scoped(self, route: Route, params: Mapping[str, Any] | None) -> dict[str, Any]:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        if route.scope is not None:
            query.setdefault(route.scope, self.seller_id)
        return query

    def _send(
        self,
        route: Route,
        *,
        path_params: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        auth: httpx.Auth | None = None,
        missing_means_done: bool = False,
    ) -> httpx.Response:
        """Send one operation, retrying per ``retry.classify_*``; return the 2xx response.

        ``missing_means_done``: for deletes, a 404 after an attempt whose outcome was unknown means
        that attempt did the work.
        """
        op = route.operation_id
        url = self._url(route, path_params)
        query = self._scoped(route, params)
        ambiguous = False
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            request = self._http.build_request(
                route.method, url, params=query, json=json, data=data, files=files
            )
            try:
                response = self._http.send(request, auth=auth or self._auth)
            except EnkashError:
                raise  # the token call inside the auth flow failed; it already retried
            except httpx.TransportError as exc:
                decision = classify_exception(route.kind, exc)
                if decision is Decision.OUTCOME_UNKNOWN:
                    raise OutcomeUnknownError(
                        f"{op}: the request was sent but no answer came back ({type(exc).__name__}); it may "
                        "or may not have been processed: look up what EnKash holds before sending it again.",
                        operation=op,
                    ) from exc
                if decision is Decision.RETRY and not last:
                    ambiguous = ambiguous or not provably_not_sent(exc)
                    self._pause(op, attempt, type(exc).__name__, None)
                    continue
                raise TransportError(
                    f"{op}: no answer after {attempt + 1} attempt(s) ({type(exc).__name__}: {exc})",
                    operation=op,
                ) from exc
            if response.is_success:
                return response
            status = response.status_code
            request_id = response.headers.get("x-request-id")
            if status == 404 and missing_means_done and ambiguous:
                return response
            decision = classify_status(route.kind, status)
            if decision is Decision.RETRY and not last:
                ambiguous = ambiguous or status not in (429, 503)
                self._pause(op, attempt, f"HTTP {status}", response.headers)
                continue
            if decision is Decision.OUTCOME_UNKNOWN:
                raise OutcomeUnknownError(
                    f"{op}: HTTP {status} (requestId {request_id}) after the request was sent; it may or may "
                    "not have been processed: look up what EnKash holds before sending it again.",
                    operation=op,
                    status_code=status,
                )
            if op == TOKEN_OPERATION and status < 500 and status != 429:
                raise authentication_error(
                    response, (self._password.get_secret_value(), self._client_secret.get_secret_value())
                )
            raise make_api_error(op, status, _json_or_none(response), request_id=request_id)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _pause(self, op: str, attempt: int, reason: str, headers: httpx.Headers | None) -> None:
        delay = retry_delay(attempt, headers, max_retry_after=self._max_retry_after)
        log.info("%s: %s, retry %d/%d in %.2fs", op, reason, attempt + 1, self.max_retries, delay)
        self._sleep(delay)

    def probe(
        self,
        operation_id: str,
        *,
        path_params: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """Send one request of ``operation_id`` and return its raw answer, whatever its status.

        For diagnostics (``enkash-ar doctor``): no retry, no envelope decoding, no error mapping; the
        token, the URL and the seller scoping are those of every other call.
        """
        route = self._routes[operation_id]
        url = self._url(route, path_params)
        request = self._http.build_request(route.method, url, params=self._scoped(route, params), json=json)
        return self._http.send(request, auth=self._auth)

    def _payload(self, route: Route, **send_args: Any) -> tuple[Any, httpx.Response]:
        """Send, and unwrap the envelope: its ``payload`` (or ``"already deleted"``) and the response.

        An envelope carrying ``errorType`` is an error whatever the HTTP status (some APIs answer their
        errors with 200): it is raised as the status the errorType stands for.
        """
        response = self._send(route, **send_args)
        if response.status_code == 404:  # a retried delete whose first attempt did the work
            return "already deleted", response
        body = self._body(route, response)
        self._raise_envelope_error(route, response, body)
        return (body.get("payload") if isinstance(body, dict) else None), response

    def _raise_envelope_error(self, route: Route, response: httpx.Response, body: Any) -> None:
        """Raise the error an envelope carries (``errorResponse.errorType``), if it carries one.

        Some APIs answer their errors with HTTP 200: then the error is raised as the status its
        errorType stands for, and a server error after a creating write is an unknown outcome.
        """
        err = body.get("errorResponse") if isinstance(body, dict) else None
        if not (isinstance(err, dict) and err.get("errorType")):
            return
        op = route.operation_id
        request_id = err.get("requestId") or response.headers.get("x-request-id")
        status = response.status_code
        if response.is_success:
            status = status_of_error_type(str(err["errorType"]))
            if status >= 500 and route.kind is OperationKind.CREATING:
                raise OutcomeUnknownError(
                    f"{op}: answered {err['errorType']} with HTTP {response.status_code} (requestId "
                    f"{request_id}); it may or may not have been processed: look up what EnKash holds "
                    "before sending it again.",
                    operation=op,
                    status_code=status,
                )
        raise make_api_error(op, status, body, request_id=request_id)

    def _call(self, route: Route, payload_type: type[P] | Any, **send_args: Any) -> P:
        """Send, unwrap the envelope and validate the payload as ``payload_type``."""
        payload, _ = self._payload(route, **send_args)
        return self._validate(route, payload_type, payload)

    def _validate(self, route: Route, payload_type: type[P] | Any, payload: Any) -> P:
        """``payload`` as ``payload_type``, read with this client's contract profile.

        Raises:
            UnexpectedResponseError: a read's answer does not fit.
            OutcomeUnknownError: a write's answer does not fit: the server may have applied it.
        """
        try:
            return _adapter(payload_type).validate_python(payload, context={PROFILE_CONTEXT: self.profile})
        except PydanticValidationError as exc:
            # The message names the first problems; pydantic's own error (one entry per record, each with
            # the record's values) would only bury it in a log.
            raise self._unreadable(
                route, f"the answer's payload does not match the contract: {_short(exc)}"
            ) from None

    def _body(self, route: Route, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise self._unreadable(
                route,
                f"HTTP {response.status_code} answer is not JSON "
                f"(content-type {response.headers.get('content-type')!r})",
            ) from exc

    def _unreadable(self, route: Route, what: str) -> EnkashError:
        """The error for an answer that cannot be read: after a write, its outcome is unknown."""
        op = route.operation_id
        if route.reads_only:
            return UnexpectedResponseError(f"{op}: {what}. {CONTRACT_PROFILE_HINT}", operation=op)
        return OutcomeUnknownError(
            f"{op}: {what}. The server may have applied the request: look up what EnKash holds before "
            f"sending it again. {CONTRACT_PROFILE_HINT}",
            operation=op,
        )


def _short(exc: PydanticValidationError) -> str:
    """The first few problems of a validation error, by member path, without pydantic's URLs."""
    problems = [
        f"{'.'.join(str(p) for p in e['loc']) or 'payload'}: {str(e['msg']).removeprefix('Value error, ')}"
        for e in exc.errors()[:3]
    ]
    more = f" (and {exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
    return "; ".join(problems) + more


def _redacted(body: Any) -> Any:
    """A token answer with the token values replaced, so that it can be shown and validated."""
    if not isinstance(body, dict):
        return body
    return {k: ("***" if k in ("access_token", "refresh_token") and v else v) for k, v in body.items()}


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _json(response: httpx.Response, op: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise UnexpectedResponseError(
            f"{op}: HTTP {response.status_code} answer is not JSON "
            f"(content-type {response.headers.get('content-type')!r})",
            operation=op,
        ) from exc
