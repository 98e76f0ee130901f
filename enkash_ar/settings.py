"""How to reach one EnKash seller account: one set of fields, one set of defaults, two ways to fill them.

``ConnectionFields`` declares the fields once (defaults in ``_constants``). ``EnkashSettings`` reads them
from ``ENKASH_*`` environment variables (or a ``.env``); the Prefect block ``EnkashCredentials`` stores
them encrypted. Both build their client with ``EnkashClient.from_config``, so a seller behaves the same
whichever way it is configured. This is the one place that reads the environment.
"""

from __future__ import annotations

import ipaddress

import httpx
from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from enkash_ar._constants import DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_SECONDS
from enkash_ar.contract import COMPANY_ID_PATTERN
from enkash_ar.errors import ConfigurationError
from enkash_ar.profile_files import load_profile


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost``, 127.0.0.0/8 or ``::1``)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str) -> str:
    """``base_url`` if it is safe to send credentials to; :class:`ConfigurationError` otherwise.

    The token call sends the client secret (HTTP Basic) and the password (form) in the request: over
    plain http they would cross the network in clear. Plain http is accepted for loopback only (the
    sandbox on this machine).

    Example:
        >>> check_base_url("http://127.0.0.1:8765")
        'http://127.0.0.1:8765'
    """
    url = httpx.URL(base_url)
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(
            f"EnKash base URL {base_url!r} is not an http(s) URL; use e.g. https://ekpayout-uat.enkash.in"
        )
    if url.scheme == "http" and not is_loopback(url.host):
        raise ConfigurationError(
            f"EnKash base URL {base_url!r} is plain http to another machine: the client secret and the "
            "password would be sent in clear. Use https:// (plain http is accepted only for a sandbox on "
            "this machine: localhost, 127.0.0.1, ::1)."
        )
    return base_url


class ConnectionFields(BaseModel):
    """The fields of one EnKash seller connection, shared by the settings and the Prefect block."""

    base_url: str = Field(
        default=DEFAULT_BASE_URL,
        description="Base URL of the EnKash API. Default: the UAT host EnKash publishes for Payouts (no AR "
        "host is published; https://api.enkash.in is the live one).",
    )
    client_id: str = Field(description="OAuth client id sent with HTTP Basic auth to /oauth/token.")
    client_secret: SecretStr = Field(description="OAuth client secret sent with HTTP Basic auth.")
    username: str = Field(description="Registered e-mail (or mobile) of the EnKash API user.")
    password: SecretStr = Field(description="Password of the EnKash API user.")
    seller_id: str = Field(
        pattern=COMPANY_ID_PATTERN,
        description="EnKash company id of the seller (CEK followed by 7 characters), e.g. CEKFOWV7UQ.",
    )
    timeout: float = Field(
        default=DEFAULT_TIMEOUT_SECONDS, gt=0, description="Seconds to wait for one HTTP exchange."
    )
    max_retries: int = Field(
        default=DEFAULT_MAX_RETRIES, ge=0, description="Retries of a transient HTTP failure per call."
    )
    contract_profile: str | None = Field(
        default=None,
        description="What to assume where the EnKash portal is silent (paths, bulk and result file layouts, "
        "paging, status names): a profile file (YAML) or a shipped profile's name; empty for the shipped "
        "guesses. `enkash-ar doctor` writes one that fits your EnKash.",
    )

    @field_validator("base_url")
    @classmethod
    def _safe_base_url(cls, value: str) -> str:
        return check_base_url(value)

    @field_validator("contract_profile")
    @classmethod
    def _loadable_profile(cls, value: str | None) -> str | None:
        # Read it now, so a typo in the file or its name stops the run before any request is sent.
        load_profile(value)
        return value or None


class EnkashSettings(ConnectionFields, BaseSettings):
    """The connection read from ``ENKASH_*`` environment variables (or a ``.env`` file).

    Variables: ``ENKASH_BASE_URL``, ``ENKASH_CLIENT_ID``, ``ENKASH_CLIENT_SECRET``, ``ENKASH_USERNAME``,
    ``ENKASH_PASSWORD``, ``ENKASH_SELLER_ID``, ``ENKASH_TIMEOUT`` (seconds), ``ENKASH_MAX_RETRIES``,
    ``ENKASH_CONTRACT_PROFILE`` (a contract profile file or name).

    Example:
        >>> s = EnkashSettings(client_id="c", client_secret="s", username="u", password="p",
        ...                    seller_id="CEKSANDBX1")
        >>> s.password
        SecretStr('**********')
    """

    model_config = SettingsConfigDict(env_prefix="ENKASH_", env_file=".env", extra="ignore")
