"""Every EnKash client of a process verifies TLS with one shared context (built once, not per client)."""

from __future__ import annotations

import ssl

from enkash_ar._base_client import _tls_context
from enkash_ar.client import EnkashClient


def _client() -> EnkashClient:
    return EnkashClient(
        base_url="https://api.enkash.example",
        client_id="id",
        client_secret="secret",
        username="user",
        password="password",
        seller_id="CEKSANDBX1",
    )


def test_clients_share_one_context_that_verifies_certificates_and_host_names() -> None:
    first, second = _client(), _client()
    try:
        context = _tls_context()
        assert context is _tls_context()
        assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
        assert context.cert_store_stats()["x509_ca"] > 0  # a bundle of authorities was loaded
        for client in (first, second):
            pool = client._http._transport._pool  # type: ignore[attr-defined]
            assert pool._ssl_context is context
    finally:
        first.close()
        second.close()
