"""Configuration of one sandbox instance: where it listens, who may log in, which faults it injects,
which contract profile it plays.

The default credentials are fixed, well-known values on purpose: this is a local emulator, never a
place for real secrets.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Final

from enkash_ar.contract_profile import SHIPPED_PROFILE, ContractProfile

DEFAULT_CLIENT_ID = "enkash-client"
DEFAULT_CLIENT_SECRET = "sandbox-secret"  # noqa: S105 - a published, fake sandbox credential
DEFAULT_USERNAME = "ar-ops@example.in"
DEFAULT_PASSWORD = "sandbox-password"  # noqa: S105 - a published, fake sandbox credential
DEFAULT_SELLER_ID = "CEKSANDBX1"

#: Environment variables read by ``FaultConfig.from_env`` (``SANDBOX_FAULT_<FIELD>``).
FAULT_ENV_PREFIX = "SANDBOX_FAULT_"
#: The sellers a sandbox serves besides the default one (``sellers_from_env``).
SELLERS_ENV = "SANDBOX_SELLERS"


@dataclass(frozen=True)
class SellerAccount:
    """One EnKash seller the sandbox serves: its company id and the credentials that log in to it.

    Every value is a fake, published sandbox credential, never a real secret.
    """

    seller_id: str
    client_id: str
    client_secret: str
    username: str
    password: str

    @classmethod
    def derived(cls, seller_id: str) -> SellerAccount:
        """A seller whose credentials are made from its id (``enkash-client-<id>`` ...), for fleets of
        sandbox sellers named by id alone."""
        low = seller_id.lower()
        return cls(
            seller_id=seller_id,
            client_id=f"enkash-client-{low}",
            client_secret=f"sandbox-secret-{low}",
            username=f"ar-ops@{low}.example.in",
            password=f"sandbox-password-{low}",
        )

    @classmethod
    def from_mapping(cls, value: Mapping[str, Any]) -> SellerAccount:
        """From ``{"seller_id": ..., "client_id": ...}``; credentials left out are derived from the id.

        Raises:
            ValueError: no seller_id, an unknown key, or a value that is not text.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown seller settings {unknown}; known: {sorted(known)}")
        seller_id = value.get("seller_id")
        if not isinstance(seller_id, str) or not seller_id:
            raise ValueError("a seller needs a seller_id (its company id, CEK + 7 characters)")
        given = {k: v for k, v in value.items() if v is not None}
        bad = sorted(k for k, v in given.items() if not isinstance(v, str) or not v)
        if bad:
            raise ValueError(f"seller {seller_id}: {', '.join(bad)} must be non-empty text")
        return replace(cls.derived(seller_id), **given)


def sellers_from_env(environ: Mapping[str, str] | None = None) -> tuple[SellerAccount, ...]:
    """The extra sellers of ``SANDBOX_SELLERS``: seller ids separated by commas (credentials derived from
    each id, ``SellerAccount.derived``), or a JSON list of objects with ``seller_id`` and any of
    ``client_id``, ``client_secret``, ``username``, ``password``.

    Raises:
        ValueError: the value is neither (the message names SANDBOX_SELLERS).
    """
    raw = (os.environ if environ is None else environ).get(SELLERS_ENV, "").strip()
    if not raw:
        return ()
    try:
        if raw.startswith("["):
            items = json.loads(raw)
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise ValueError("must be a JSON list of objects")
            return tuple(SellerAccount.from_mapping(item) for item in items)
        return tuple(SellerAccount.derived(part.strip()) for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(f"{SELLERS_ENV}: {exc}") from None


@dataclass(frozen=True)
class FaultConfig:
    """Which faults to inject on /api/v0 and /oauth/token (never on /_sandbox).

    Fractions are probabilities in [0, 1]; one random draw per request decides among them, from a
    ``random.Random(seed)``, so the same seed and the same request order give the same faults.
    """

    #: answered 500 SYSTEM_ERROR, request not processed
    error_500: float = 0.0
    #: answered 429 with Retry-After, request not processed
    error_429: float = 0.0
    #: processed, then the connection is cut before a complete response
    drop: float = 0.0
    #: the request's bearer token is expired before it is processed (answer: 401)
    expire_token: float = 0.0
    #: added to every faultable request, in milliseconds
    latency_ms: int = 0
    #: the Retry-After value sent with 429, in seconds
    retry_after: int = 1
    seed: int | None = None
    #: operationIds the faults (not the latency) apply to; empty means every operation
    operations: tuple[str, ...] = ()
    #: search body members this EnKash does not know: a search naming one is answered 400
    #: CLIENT_REQUEST_ERROR, as an EnKash without that filter would (not a draw: every such search)
    refused_filters: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("error_500", "error_429", "drop", "expire_token"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"fault fraction {name}={value} must be within [0, 1]")
        total = self.error_500 + self.error_429 + self.drop + self.expire_token
        if total > 1.0:
            raise ValueError(f"fault fractions add up to {total}, more than 1")
        if self.latency_ms < 0 or self.retry_after < 0:
            raise ValueError("latency_ms and retry_after must not be negative")

    def updated(self, changes: Mapping[str, Any]) -> FaultConfig:
        """A copy with ``changes`` applied; unknown names raise ValueError."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown fault settings {sorted(unknown)}; known: {sorted(known)}")
        values = dict(changes)
        for name in _NAME_LISTS:
            if name in values:
                values[name] = _names(values[name], name)
        return replace(self, **values)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FaultConfig:
        """Read ``SANDBOX_FAULT_<FIELD>`` variables, e.g. ``SANDBOX_FAULT_ERROR_500=0.1``."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(FAULT_ENV_PREFIX + f.name.upper())
            if raw is None or raw == "":
                continue
            if f.name in _NAME_LISTS:
                values[f.name] = _names(raw, f.name)
            else:
                values[f.name] = (
                    float(raw) if f.name in {"error_500", "error_429", "drop", "expire_token"} else int(raw)
                )
        return cls(**values)


#: The :class:`FaultConfig` members that are lists of names (operationIds, search body members).
_NAME_LISTS: Final = ("operations", "refused_filters")


def _names(value: Any, setting: str) -> tuple[str, ...]:
    """Names (operationIds, search filters) from a list or a comma-separated string."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    if not all(isinstance(item, str) for item in items):
        raise ValueError(f"{setting} must be names (strings), got {value!r}")
    return tuple(item.strip() for item in items if item.strip())


@dataclass(frozen=True)
class SandboxConfig:
    """Everything one sandbox needs. ``port=0`` picks a free port; ``db=":memory:"`` keeps nothing."""

    host: str = "127.0.0.1"
    port: int = 0
    db: str = ":memory:"
    token_ttl: int = 300
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    username: str = DEFAULT_USERNAME
    password: str = DEFAULT_PASSWORD
    seller_id: str = DEFAULT_SELLER_ID
    seed: int | None = None
    faults: FaultConfig = field(default_factory=FaultConfig)
    #: wrong passwords in a row that lock the user
    max_failed_logins: int = 3
    #: what the sandbox plays where the portal is silent (``enkash_ar.alternative_profiles`` has the
    #: plausible alternatives): paths, file layouts, paging, status names, token and error answers
    profile: ContractProfile = field(default=SHIPPED_PROFILE)
    #: sellers served besides the one above, each with its own credentials and company id
    sellers: tuple[SellerAccount, ...] = ()

    def accounts(self) -> tuple[SellerAccount, ...]:
        """Every seller served at start-up: the default one first."""
        default = SellerAccount(
            self.seller_id, self.client_id, self.client_secret, self.username, self.password
        )
        return (default, *self.sellers)

    def initial_faults(self) -> FaultConfig:
        """The faults to start (and reset) with; ``seed`` fills in a fault seed left unset."""
        if self.faults.seed is None and self.seed is not None:
            return replace(self.faults, seed=self.seed)
        return self.faults
