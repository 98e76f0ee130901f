"""Who may call the sandbox: the OAuth password grant, bearer tokens and the lock-out rule.

- ``POST /oauth/token`` checks ``Authorization: Basic base64(client_id:client_secret)`` and the form
  (``username``, ``password``, ``grant_type=password``, ``clientId`` = the company of that client).
- Several sellers may be served at once (``SandboxConfig.sellers``, ``POST /_sandbox/sellers``), each
  with its own client, user and company id; a token carries its seller's company, and the backend
  scopes every record by it. One seller's credentials never open another seller's company.
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
from sandbox.config import SandboxConfig, SellerAccount
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
        self._accounts: dict[str, SellerAccount] = {}
        self._passwords: dict[str, str] = {}
        self._load_accounts()

    def _load_accounts(self) -> None:
        # Called with the lock held, or before the book is shared.
        self._accounts = {a.client_id: a for a in self.config.accounts()}
        self._passwords = {a.username: a.password for a in self._accounts.values()}
        if len(self._passwords) != len(self._accounts) or len(
            {a.seller_id for a in self._accounts.values()}
        ) != len(self._accounts):
            raise ValueError("sandbox sellers must have distinct seller ids, client ids and usernames")

    def register(self, account: SellerAccount) -> bool:
        """Serve one more seller; True if new, False if it was already served with these credentials.

        Raises:
            ApiError: 409 when its seller id, client id or username is another seller's (or the same
                seller's with other credentials).
        """
        with self._lock:
            if self._accounts.get(account.client_id) == account:
                return False
            clash = [
                name
                for name, taken in (
                    ("seller_id", {a.seller_id for a in self._accounts.values()}),
                    ("client_id", set(self._accounts)),
                    ("username", set(self._passwords)),
                )
                if getattr(account, name) in taken
            ]
            if clash:
                raise ApiError(
                    409,
                    ErrorType.VALIDATION_ERROR,
                    f"seller {account.seller_id}: {', '.join(clash)} already served with other credentials",
                )
            self._accounts[account.client_id] = account
            self._passwords[account.username] = account.password
            return True

    def sellers(self) -> list[dict[str, str]]:
        """The sellers served (company id, client id, username: never a secret)."""
        with self._lock:
            return [
                {"seller_id": a.seller_id, "client_id": a.client_id, "username": a.username}
                for a in self._accounts.values()
            ]

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
        """Drop every token, every lock-out and every seller registered at run time; the configured
        sellers and passwords apply again."""
        with self._lock:
            self._tokens.clear()
            self._failures.clear()
            self._load_accounts()

    def change_password(self, password: str, seller_id: str | None = None) -> None:
        """The user's password changed on the portal: tokens already issued stay valid until they expire.

        ``seller_id`` names whose (default: the configured seller's); 404 for a seller not served.
        """
        wanted = seller_id or self.config.seller_id
        with self._lock:
            for account in self._accounts.values():
                if account.seller_id == wanted:
                    self._passwords[account.username] = password
                    return
        raise ApiError(404, ErrorType.RECORD_NOT_FOUND, f"No seller {wanted} is served by this sandbox")

    def login(self, authorization: str | None, form: Mapping[str, str]) -> dict[str, Any]:
        """Run the password grant; the answer body, or ApiError."""
        account = self._check_client(authorization)
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
        if form["clientId"] != account.seller_id:
            raise ApiError(401, ErrorType.UNAUTHORIZED, "clientId is not the company of this user")
        if form["username"] != account.username:
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
            if not secrets.compare_digest(form["password"], self._passwords[account.username]):
                self._failures[form["username"]] = failures + 1
                left = self.config.max_failed_logins - failures - 1
                raise ApiError(
                    401, ErrorType.UNAUTHORIZED, f"Bad credentials ({left} attempts left before lock)"
                )
            self._failures.pop(form["username"], None)
        return self.issue(account.seller_id)

    def _check_client(self, authorization: str | None) -> SellerAccount:
        if not authorization or not authorization.lower().startswith("basic "):
            raise ApiError(
                401, ErrorType.UNAUTHORIZED, "Missing client credentials (Authorization: Basic ...)"
            )
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(401, ErrorType.UNAUTHORIZED, "Malformed Basic client credentials") from None
        client_id, _, secret = decoded.partition(":")
        with self._lock:
            account = self._accounts.get(client_id)
        if account is None or not secrets.compare_digest(secret, account.client_secret):
            raise ApiError(401, ErrorType.UNAUTHORIZED, "Bad client credentials")
        return account
