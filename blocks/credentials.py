"""EnkashCredentials: the Prefect block that holds how to reach EnKash, and builds the client."""

from __future__ import annotations

from typing import Any

from prefect.blocks.core import Block

from enkash_ar.client import EnkashClient
from enkash_ar.settings import ConnectionFields


class EnkashCredentials(ConnectionFields, Block):
    """Credentials and endpoint of one EnKash seller account, for the AR cycle.

    The fields and their defaults are those of the ``ENKASH_*`` settings (``ConnectionFields``), so a
    seller behaves the same configured either way. The secrets are stored encrypted by Prefect and only
    leave this block inside the ``EnkashClient`` built by :meth:`get_client`, which keeps its bearer
    token in memory.

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

    def get_client(self, **options: Any) -> EnkashClient:
        """Build an ``EnkashClient`` for this account (the caller closes it, e.g. with ``with``).

        ``options`` are further keyword options of the client (``token_guard``, ``transport`` ...).
        """
        return EnkashClient.from_config(self, **options)
