"""One EnKash client and one run ledger per process, shared by every task run in it.

Tasks take a block name (or nothing, for the ENKASH_* settings) and a ledger path, never a client or a
token: a client as a task parameter would be hashed into cache keys and could be persisted with its
token. The client built here keeps its token in memory and is reused, so a flow run fetches one token,
not one per task; it remembers refused credentials in the ledger (``ar_sync.credential_memory``), so
a refused password is tried once, not once per night until the account locks.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from pydantic import ValidationError as PydanticValidationError

from ar_sync.credential_memory import RefusedCredentialsMemory
from ar_sync.exactly_once import Night
from ar_sync.run_ledger import DEFAULT_LEDGER_PATH, RunLedger
from enkash_ar.client import EnkashClient
from enkash_ar.errors import ConfigurationError
from enkash_ar.settings import ConnectionFields, EnkashSettings

_lock = threading.Lock()
_clients: dict[tuple[str, ...], EnkashClient] = {}
_ledgers: dict[str, RunLedger] = {}


def connection(credentials_block: str | None = None) -> ConnectionFields:
    """The connection of a credentials block, or the ENKASH_* settings when no block is named.

    Raises:
        ConfigurationError: a setting is missing or invalid (one line naming each, never a value).
    """
    if credentials_block:
        from blocks.credentials import EnkashCredentials

        block = EnkashCredentials.load(credentials_block, _sync=True)  # type: ignore[call-arg]
        assert isinstance(block, EnkashCredentials)
        return block
    try:
        return EnkashSettings()
    except PydanticValidationError as exc:
        raise ConfigurationError(settings_problems(exc)) from None


def settings_problems(exc: PydanticValidationError) -> str:
    """The ENKASH_* settings that are missing or wrong, in one line (values are never repeated)."""
    problems = []
    for error in exc.errors():
        name = "ENKASH_" + "_".join(str(part) for part in error["loc"]).upper()
        reason = (
            "is not set"
            if error["type"] == "missing"
            else str(error["msg"]).removeprefix("Value error, ").rstrip(".")
        )
        problems.append(f"{name} {reason}")
    return "EnKash connection settings: " + "; ".join(problems) + "."


def _identity(fields: ConnectionFields) -> str:
    # In memory only: a block whose password, secret or contract profile changed gets a new client (the
    # old one may have been refused), without the secrets themselves becoming a dict key.
    material = "\x1f".join(
        [
            fields.base_url,
            fields.client_id,
            fields.client_secret.get_secret_value(),
            fields.username,
            fields.password.get_secret_value(),
            fields.seller_id,
            fields.contract_profile or "",
        ]
    )
    return hashlib.sha256(material.encode()).hexdigest()


def enkash_client(credentials_block: str | None = None, ledger_path: str | None = None) -> EnkashClient:
    """The process-wide client of a connection, guarded by the refused-credentials memory of the ledger."""
    fields = connection(credentials_block)
    ledger = run_ledger(ledger_path)
    key = (credentials_block or "settings", _identity(fields), ledger.path)
    with _lock:
        client = _clients.get(key)
        if client is None:
            guard = RefusedCredentialsMemory(ledger, fields.seller_id)
            client = _clients[key] = EnkashClient.from_config(fields, token_guard=guard)
        return client


def run_ledger(path: str | Path | None = None) -> RunLedger:
    """The process-wide ledger at ``path`` (default: ``.enkash-ar/ledger.sqlite3``)."""
    resolved = str(Path(path or DEFAULT_LEDGER_PATH).resolve())
    with _lock:
        ledger = _ledgers.get(resolved)
        if ledger is None:
            ledger = _ledgers[resolved] = RunLedger(resolved)
        return ledger


def night_of(night: str, credentials_block: str | None, ledger_path: str | None) -> Night:
    """The ``Night`` a write task records into: the seller of the connection, on its ledger."""
    return Night(run_ledger(ledger_path), connection(credentials_block).seller_id, night)


def close_all() -> None:
    """Close every shared client and ledger (tests and the CLI call this at exit)."""
    with _lock:
        for client in _clients.values():
            client.close()
        for ledger in _ledgers.values():
            ledger.close()
        _clients.clear()
        _ledgers.clear()
