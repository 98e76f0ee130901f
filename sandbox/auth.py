"""Who may call the sandbox: the OAuth password grant, bearer tokens and the lock-out rule.

- ``POST /oauth/token`` checks ``Authorization: Basic base64(client_id:client_secret)`` and the form
  (``username``, ``password``, ``grant_type=password``, ``clientId`` = the configured seller id).
- Three wrong passwords in a row lock the user; a locked user is refused (403 INVALID_ACCESS, message
  says "locked") even with the right password, until ``POST /_sandbox/unlock`` or ``/_sandbox/reset``.
  A correct login resets the count.
- Tokens live in memory only; a restart logs everybody out, as an expired token would.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from enkash_ar.contract import COMPANY_ID_PATTERN, ErrorType
from sandbox.config import SandboxConfig
from sandbox.errors import ApiError, SubError, validation_error

_FORM_FIELDS = ("username", "password", "grant_type", "clientId")


@dataclass
class Token:
    """One issued bearer token."""

    company_id: str
    expires_at: float


class TokenBook:
    """Issued tokens and failed-login counts, safe to use from several threads."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._tokens: dict[str, Token] = {}
        self._failures: dict[str, int] = {}
        self._password = config.password

    def issue(self, company_id: str) -> dict[str, Any]:
        """A new access token for ``company_id``, as the OAuthTokenResponse body."""
        access = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[access] = Token(company_id, time.monotonic() + self.config.token_ttl)
        return {
            "access_token": access,
            "token_type": "bearer",
            "refresh_token": secrets.token_urlsafe(24),
            "expires_in": self.config.token_ttl,
            "scope": "read write trust",
        }

    def company_of(self, authorization: str | None) -> str:
        """The company of a valid ``Bearer`` header; 401 UNAUTHORIZED otherwise."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise ApiError(
                401, ErrorType.UNAUTHORIZED, "Missing bearer token (Authorization: Bearer <token>)"
            )
        access = authorization[7:].strip()
        with self._lock:
            token = self._tokens.get(access)
            if token is not None and token.expires_at <= time.monotonic():
                del self._tokens[access]
                token = None
        if token is None:
            raise ApiError(401, ErrorType.UNAUTHORIZED, "Invalid or expired access token; get a new one")
        return token.company_id

    def expire(self, authorization: str | None = None) -> int:
        """Expire the token in ``authorization``, or every token when None; returns how many."""
        with self._lock:
            if authorization is None:
                count = len(self._tokens)
                self._tokens.clear()
                return count
            access = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
            return 1 if self._tokens.pop(access, None) is not None else 0

    def unlock(self) -> None:
        """Forget every failed-login count (the admin reset)."""
        with self._lock:
            self._failures.clear()

    def reset(self) -> None:
        """Drop every token and every lock-out; the configured password applies again."""
        with self._lock:
            self._tokens.clear()
            self._failures.clear()
            self._password = self.config.password

    def change_password(self, password: str) -> None:
        """The user's password changed on the portal: tokens already issued stay valid until they expire."""
        with self._lock:
            self._password = password

    def login(self, authorization: str | None, form: Mapping[str, str]) -> dict[str, Any]:
        """Run the password grant; the answer body, or ApiError."""
        self._check_client(authorization)
        missing = [SubError(name, None, "is required") for name in _FORM_FIELDS if not form.get(name)]
        if missing:
            raise validation_error(missing, "Missing form fields")
        bad = []
        if form["grant_type"] != "password":
            bad.append(SubError("grant_type", form["grant_type"], "must be 'password'"))
        if not re.search(COMPANY_ID_PATTERN, form["clientId"]):
            bad.append(SubError("clientId", form["clientId"], f"must match {COMPANY_ID_PATTERN}"))
        if bad:
            raise validation_error(bad)
        if form["clientId"] != self.config.seller_id:
            raise ApiError(401, ErrorType.UNAUTHORIZED, "clientId is not the company of this user")
        if form["username"] != self.config.username:
            raise ApiError(401, ErrorType.UNAUTHORIZED, "Bad credentials")
        with self._lock:
            failures = self._failures.get(form["username"], 0)
            if failures >= self.config.max_failed_logins:
                raise ApiError(
                    403,
                    ErrorType.INVALID_ACCESS,
                    "User account is locked after 3 consecutive incorrect attempts; "
                    "ask an administrator to unlock it (POST /_sandbox/unlock)",
                )
            if not secrets.compare_digest(form["password"], self._password):
                self._failures[form["username"]] = failures + 1
                left = self.config.max_failed_logins - failures - 1
                raise ApiError(
                    401, ErrorType.UNAUTHORIZED, f"Bad credentials ({left} attempts left before lock)"
                )
            self._failures.pop(form["username"], None)
        return self.issue(self.config.seller_id)

    def _check_client(self, authorization: str | None) -> None:
        if not authorization or not authorization.lower().startswith("basic "):
            raise ApiError(
                401, ErrorType.UNAUTHORIZED, "Missing client credentials (Authorization: Basic ...)"
            )
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(401, ErrorType.UNAUTHORIZED, "Malformed Basic client credentials") from None
        client_id, _, secret = decoded.partition(":")
        if client_id != self.config.client_id or not secrets.compare_digest(
            secret, self.config.client_secret
        ):
            raise ApiError(401, ErrorType.UNAUTHORIZED, "Bad client credentials")
