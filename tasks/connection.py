"""One EnKash client and one run ledger per process, shared by every task run in it.

Tasks take a block name (or nothing, for the ENKASH_* settings), never a client or a token: a client
as a task parameter would be hashed into cache keys and could be persisted with its token. The client
built here keeps its token in memory and is reused, so a flow run fetches one token, not one per task.
"""

from __future__ import annotations

import threading
from pathlib import Path

from ar_sync.run_ledger import DEFAULT_LEDGER_PATH, RunLedger
from enkash_ar.client import EnkashClient
from enkash_ar.settings import EnkashSettings

_lock = threading.Lock()
_clients: dict[tuple[str, ...], EnkashClient] = {}
_ledgers: dict[str, RunLedger] = {}


def enkash_client(credentials_block: str | None = None) -> EnkashClient:
    """The process-wide client for a credentials block, or for the ENKASH_* settings when no block is named.

    A block that changes (another base URL, user or seller) gets a new client; the key holds no secret.
    """
    if credentials_block:
        from blocks.credentials import EnkashCredentials

        block = EnkashCredentials.load(credentials_block, _sync=True)  # type: ignore[call-arg]
        assert isinstance(block, EnkashCredentials)
        key: tuple[str, ...] = ("block", credentials_block, block.base_url, block.username, block.seller_id)
        build = block.get_client
    else:
        settings = EnkashSettings()
        key = ("settings", str(settings.base_url), settings.username or "", settings.seller_id or "")

        def build() -> EnkashClient:
            return EnkashClient.from_settings(settings)

    with _lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = build()
        return client


def run_ledger(path: str | Path | None = None) -> RunLedger:
    """The process-wide ledger at ``path`` (default: ``.enkash-ar/ledger.sqlite3``)."""
    resolved = str(Path(path or DEFAULT_LEDGER_PATH).resolve())
    with _lock:
        ledger = _ledgers.get(resolved)
        if ledger is None:
            ledger = _ledgers[resolved] = RunLedger(resolved)
        return ledger


def close_all() -> None:
    """Close every shared client and ledger (tests and the CLI call this at exit)."""
    with _lock:
        for client in _clients.values():
            client.close()
        for ledger in _ledgers.values():
            ledger.close()
        _clients.clear()
        _ledgers.clear()
