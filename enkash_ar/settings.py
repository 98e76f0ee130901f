"""Configuration of the EnKash client, read from ``ENKASH_*`` environment variables (or a ``.env``).

This is the one place that reads the environment. Secrets stay ``SecretStr`` until the wire needs them.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from enkash_ar._constants import DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES
from enkash_ar.contract import COMPANY_ID_PATTERN


class EnkashSettings(BaseSettings):
    """Connection settings of the EnKash AR API.

    Environment variables: ``ENKASH_BASE_URL``, ``ENKASH_CLIENT_ID``, ``ENKASH_CLIENT_SECRET``,
    ``ENKASH_USERNAME``, ``ENKASH_PASSWORD``, ``ENKASH_SELLER_ID``, ``ENKASH_TIMEOUT`` (seconds),
    ``ENKASH_MAX_RETRIES``.

    Example:
        >>> s = EnkashSettings(client_id="c", client_secret="s", username="u", password="p",
        ...                    seller_id="CEKSANDBX1")
        >>> s.password
        SecretStr('**********')
    """

    model_config = SettingsConfigDict(env_prefix="ENKASH_", env_file=".env", extra="ignore")

    base_url: str = DEFAULT_BASE_URL
    client_id: str
    client_secret: SecretStr
    username: str
    password: SecretStr
    #: The seller's EnKash company id (CEK…); also the OAuth ``clientId`` form field.
    seller_id: str = Field(pattern=COMPANY_ID_PATTERN)
    #: Per-request timeout in seconds (connect is capped at 10 s).
    timeout: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=DEFAULT_MAX_RETRIES, ge=0)
