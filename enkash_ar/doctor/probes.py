"""Doctor's requests: read-only by construction, one token request at most, every answer kept raw.

Three wrong passwords lock an EnKash account, so the token is asked for once: a refused or failed
token request is not repeated, and a 401 later on does not make the client ask for another one.
Every other request goes through :meth:`ReadOnlyProbes.call`, which refuses any operation that is not
a read (``enkash_ar.routes.READ_OPERATIONS``): doctor cannot write, whatever its checks ask for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from enkash_ar.auth import TOKEN_OPERATION, Fingerprint
from enkash_ar.client import EnkashClient
from enkash_ar.doctor.spec_schemas import SpecAnswers
from enkash_ar.errors import AuthenticationError, EnkashError
from enkash_ar.routes import READ_OPERATIONS


class OneTokenRequest:
    """A token guard that lets one token request through and refuses every later one."""

    def __init__(self) -> None:
        self.requested = False

    def before_token_request(self, fingerprint: Fingerprint) -> None:
        """Let the first request through; refuse the others (a second one could lock the account)."""
        if self.requested:
            raise AuthenticationError(
                f"{TOKEN_OPERATION}: doctor asks for one token only; the API refused the one it had "
                "(HTTP 401), so no further token is requested"
            )
        self.requested = True

    def token_refused(self, fingerprint: Fingerprint, error: AuthenticationError) -> None:
        """Nothing to remember: doctor stops at a refusal."""

    def token_granted(self, fingerprint: Fingerprint) -> None:
        """Nothing to remember."""


@dataclass(frozen=True)
class Exchange:
    """One request doctor sent and what came back."""

    operation: str
    params: Mapping[str, Any]
    status: int | None = None
    body: Any = None
    #: why no answer came back (transport error, refused token)
    failure: str | None = None
    #: what breaks the spec's schema (None: no schema for that status, or no answer)
    schema_problems: list[str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def answered(self) -> bool:
        """Whether an HTTP answer came back."""
        return self.status is not None

    @property
    def error_type(self) -> str | None:
        """The envelope's errorType, if the answer carries one."""
        err = self.body.get("errorResponse") if isinstance(self.body, dict) else None
        return err.get("errorType") if isinstance(err, dict) else None

    @property
    def succeeded(self) -> bool:
        """A 2xx answer without an errorType."""
        return self.status is not None and 200 <= self.status < 300 and self.error_type is None

    @property
    def payload(self) -> Any:
        """The envelope's payload."""
        return self.body.get("payload") if isinstance(self.body, dict) else None

    def summary(self) -> str:
        """``HTTP 404 RECORD_NOT_FOUND`` or the failure, for the report."""
        if self.status is None:
            return f"no answer ({self.failure})"
        return f"HTTP {self.status}" + (f" {self.error_type}" if self.error_type else "")


class ReadOnlyProbes:
    """Sends doctor's read requests through a client and keeps every exchange."""

    def __init__(self, client: EnkashClient, spec: SpecAnswers) -> None:
        self.client = client
        self.spec = spec
        self.exchanges: list[Exchange] = []

    def call(
        self,
        operation: str,
        *,
        path_params: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Exchange:
        """One read request, answered or not; never raises for what the server answers."""
        if operation not in READ_OPERATIONS or operation == TOKEN_OPERATION:
            raise ValueError(f"doctor only reads: {operation} is not a read operation")
        shown = {**(path_params or {}), **(params or {})}
        try:
            response = self.client.probe(operation, path_params=path_params, params=params, json=json)
        except (httpx.HTTPError, EnkashError) as exc:
            exchange = Exchange(operation, shown, failure=f"{type(exc).__name__}: {exc}")
            self.exchanges.append(exchange)
            return exchange
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        exchange = Exchange(
            operation,
            shown,
            status=response.status_code,
            body=body,
            schema_problems=self.spec.problems(operation, response.status_code, body),
            headers=dict(response.headers),
        )
        self.exchanges.append(exchange)
        return exchange
