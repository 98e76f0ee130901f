"""EnkashCredentials: the Prefect block that holds how to reach EnKash, and builds the client."""

from __future__ import annotations

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from enkash_ar.client import EnkashClient


class EnkashCredentials(Block):
    """Credentials and endpoint of one EnKash seller account, for the AR cycle.

    The secrets are stored encrypted by Prefect and only leave this block inside the
    ``EnkashClient`` built by :meth:`get_client`, which keeps its bearer token in memory.

    Example:
        Load a saved block and talk to EnKash:
        ```python
        from blocks.credentials import EnkashCredentials

        credentials = EnkashCredentials.load("BLOCK_NAME")
        with credentials.get_client() as client:
            print(client.warm_token())
        ```
    """

    _block_type_name = "EnKash Credentials"
    _block_type_slug = "enkash-credentials"
    _logo_url = "https://www.enkash.com/favicon.ico"  # type: ignore[assignment]
    _documentation_url = "https://docs.enkash.com/api-18880668"  # type: ignore[assignment]
    _description = "Credentials and base URL of an EnKash seller account for the Accounts Receivable APIs."

    base_url: str = Field(
        default="https://ekpayout-uat.enkash.in",
        description="Base URL of the EnKash API (the UAT host by default; https://api.enkash.in for live).",
    )
    client_id: str = Field(description="OAuth client id sent with HTTP Basic auth to /oauth/token.")
    client_secret: SecretStr = Field(description="OAuth client secret sent with HTTP Basic auth.")
    username: str = Field(description="Registered e-mail (or mobile) of the EnKash API user.")
    password: SecretStr = Field(description="Password of the EnKash API user.")
    seller_id: str = Field(
        pattern=r"^CEK[A-Z0-9]{7}$",
        description="EnKash company id of the seller (CEK followed by 7 characters), e.g. CEKFOWV7UQ.",
    )
    timeout: float = Field(default=30.0, gt=0, description="Seconds to wait for one HTTP exchange.")
    max_retries: int = Field(default=5, ge=0, description="Retries of a transient HTTP failure per call.")

    def get_client(self) -> EnkashClient:
        """Build an ``EnkashClient`` for this account (the caller closes it, e.g. with ``with``)."""
        return EnkashClient(
            base_url=self.base_url,
            client_id=self.client_id,
            client_secret=self.client_secret,
            username=self.username,
            password=self.password,
            seller_id=self.seller_id,
            timeout=self.timeout,
            max_retries=self.max_retries,
        )
