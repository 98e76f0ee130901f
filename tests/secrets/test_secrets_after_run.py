"""After full cycles, no token, client secret or password is anywhere a user, an operator or a reader
of the Prefect server can see: logs, results, artifacts, run records, the ledger, the report files.

Which tokens to look for: a spy on the sandbox's ``TokenBook.issue`` (the sandbox runs in this process,
in a thread) records every access and refresh token it hands out; the shared client's in-memory token
after the run must be one of them, which proves the spy saw what the product used. The cycles run on a
sandbox of their own, started with random credentials, so no other test's data can match by chance,
and with token expiry faults so the run renews its token (several tokens, 401 replays logged).

Everything Prefect would persist is forced to persist (``PREFECT_RESULTS_PERSIST_BY_DEFAULT``), into a
result-storage folder of this test, and every file there is scanned raw and with its base64 payloads
decoded: a cached value holding a token is written as a base64 pickle (see DESIGN.md).
"""

from __future__ import annotations

import base64
import binascii
import bz2
import json
import logging
import lzma
import re
import secrets
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import cloudpickle
import polars as pl
import pytest
from prefect.client.orchestration import get_client
from prefect.settings import (
    PREFECT_LOCAL_STORAGE_PATH,
    PREFECT_RESULTS_PERSIST_BY_DEFAULT,
    PREFECT_SERVER_DATABASE_CONNECTION_URL,
    temporary_settings,
)
from pydantic import SecretStr

import tasks.connection
from ar_sync.night_summary import NightSummary
from blocks.credentials import EnkashCredentials
from flows.nightly_ar_cycle import nightly_ar_cycle
from flows.options import CycleOptions
from sandbox.auth import TokenBook
from sandbox.sample_data import generate_erp_files
from sandbox.server import RunningSandbox, SandboxConfig, running_sandbox
from tests.loopback import http

AS_OF = date(2026, 11, 24)
BLOCK_NAME = "enkash-leak-check"
_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/=_-]{24,}")
_LOGGERS = ("", "httpx", "httpcore", "prefect", "prefect._internal", "prefect.extra", "enkash_ar", "sandbox")


@dataclass
class Secrets:
    """What must never be seen: the credentials and every token the sandbox issued."""

    fixed: list[str]
    tokens: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        """Every secret value, plus the HTTP Basic header value of the client credentials."""
        return [*self.fixed, *self.tokens]


def _decoded(data: bytes, depth: int = 0) -> Iterator[bytes]:
    """``data`` and what it may hide: base64 runs decoded, compressed payloads inflated (recursively)."""
    yield data
    if depth >= 3:
        return
    for inflate in (zlib.decompress, bz2.decompress, lzma.decompress):
        with suppress(zlib.error, OSError, ValueError, lzma.LZMAError, EOFError):
            yield from _decoded(inflate(data), depth + 1)
    for run in _BASE64_RUN.findall(data):
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            with suppress(binascii.Error, ValueError):
                yield from _decoded(decode(run + b"=" * (-len(run) % 4)), depth + 1)


def _file_texts(path: Path) -> Iterator[bytes]:
    """Every readable form of a file: raw bytes (decoded as above) and, for Parquet, its cells."""
    data = path.read_bytes()
    yield from _decoded(data)
    if path.suffix == ".parquet":
        # Parquet pages are compressed: compare cell values, not bytes.
        yield from _decoded(pl.read_parquet(path).cast(pl.String).write_csv().encode())


def find_secrets(texts: Iterable[bytes | str], secret_values: list[str]) -> set[str]:
    """The secrets that appear in any of ``texts`` (reported by position, never by value)."""
    wanted = [s.encode() for s in secret_values if s]
    found: set[str] = set()
    for text in texts:
        blob = text.encode() if isinstance(text, str) else text
        found |= {f"secret #{i}" for i, s in enumerate(wanted) if s in blob}
    return found


def scan_files(paths: Iterable[Path], secret_values: list[str]) -> dict[str, set[str]]:
    """The files under ``paths`` (files or folders) that hold a secret, with which ones."""
    leaks: dict[str, set[str]] = {}
    for root in paths:
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for file in files:
            if hits := find_secrets(_file_texts(file), secret_values):
                leaks[str(file)] = hits
    return leaks


@pytest.fixture
def issued_tokens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every access and refresh token the in-process sandbox issues during the test."""
    issued: list[str] = []
    original = TokenBook.issue

    def spy(self: TokenBook, company_id: str) -> dict[str, Any]:
        body = original(self, company_id)
        issued.extend([body["access_token"], body["refresh_token"]])
        return body

    monkeypatch.setattr(TokenBook, "issue", spy)
    return issued


@pytest.fixture
def own_sandbox() -> Iterator[RunningSandbox]:
    """A sandbox of this test with random credentials, so a match can only be a leak of this run."""
    config = replace(
        SandboxConfig(),
        client_id=f"leak-client-{secrets.token_hex(4)}",
        client_secret=f"cs-{secrets.token_urlsafe(18)}",
        password=f"pw-{secrets.token_urlsafe(18)}",
    )
    with running_sandbox(config) as running:
        yield running


@contextmanager
def _debug_logs_captured(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """caplog at DEBUG on every logger that could see a request, including non-propagating ones."""
    for name in _LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    detached = [logging.getLogger(n) for n in ("prefect._internal", "prefect.extra")]
    for logger in detached:
        logger.addHandler(caplog.handler)
    try:
        yield
    finally:
        for logger in detached:
            logger.removeHandler(caplog.handler)


def _prefect_records(since_flow_names: set[str]) -> list[str]:
    """Everything the Prefect server holds that a UI user can read: logs, runs, artifacts, blocks."""
    with get_client(sync_client=True) as client:
        flow_runs = _every_page(client.read_flow_runs)
        since_flow_names |= {run.name for run in flow_runs}
        records = [
            *_every_page(client.read_logs),
            *flow_runs,
            *_every_page(client.read_task_runs),
            *_every_page(client.read_artifacts),
            *client.read_block_documents(include_secrets=False),
        ]
    return [record.model_dump_json() for record in records]


def _every_page(read: Callable[..., list[Any]]) -> list[Any]:
    """Every record a Prefect read returns, page by page (one read stops at the API's default limit)."""
    records: list[Any] = []
    while page := read(limit=200, offset=len(records)):
        records += page
    return records


def _project_log_records() -> list[str]:
    """The Prefect log records the project's own loggers wrote (SDK, engine, seller lock, progress)."""
    with get_client(sync_client=True) as client:
        logs = _every_page(client.read_logs)
    ours = [log for log in logs if log.name.split(".")[0] in ("enkash_ar", "ar_sync")]
    ours += [log for log in logs if log.name.startswith("prefect.enkash_ar")]
    return [log.model_dump_json() for log in ours]


def _server_database() -> list[Path]:
    url = str(PREFECT_SERVER_DATABASE_CONNECTION_URL.value())
    database = Path(url.split(":///", 1)[1])
    return [p for p in database.parent.glob(database.name + "*") if p.is_file()]


def _run_cycle(customers: Path, invoices: Path, options: CycleOptions) -> NightSummary:
    import asyncio

    return asyncio.run(nightly_ar_cycle(str(customers), str(invoices), AS_OF, options))


def _held_tokens() -> list[str]:
    """The tokens the shared clients hold in memory now (read before they are closed)."""
    held = []
    for client in tasks.connection._clients.values():
        token = client._auth._token
        if token is not None:
            held.append(token.access_token.get_secret_value())
    return held


def test_scanner_finds_a_planted_secret(tmp_path: Path) -> None:
    """The scanner must see a token in the forms a leak would take, or the real test proves nothing."""
    token = secrets.token_urlsafe(24)
    pickled = base64.b64encode(cloudpickle.dumps({"auth": SecretStr(token)})).decode()
    (tmp_path / "result").write_text(json.dumps({"serializer": {"type": "pickle"}, "data": pickled}))
    pl.DataFrame({"note": [f"Bearer {token}"]}).write_parquet(tmp_path / "bulk.parquet")
    (tmp_path / "compressed").write_bytes(zlib.compress(f"token={token}".encode()))
    (tmp_path / "clean.json").write_text('{"open_amount": 1.5}')

    leaks = scan_files([tmp_path], [token])

    assert set(leaks) == {str(tmp_path / n) for n in ("result", "bulk.parquet", "compressed")}
    assert find_secrets([f"x {token} y"], [token]) and not find_secrets(["nothing"], [token])


@pytest.mark.slow
def test_no_secret_anywhere_after_full_cycles_from_settings_and_from_a_block(
    own_sandbox: RunningSandbox,
    issued_tokens: list[str],
    prefect_server: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    sandbox, config = own_sandbox, own_sandbox.config
    for name, value in {**sandbox.enkash_env(), "ENKASH_MAX_RETRIES": "6"}.items():
        monkeypatch.setenv(name, value)
    basic = base64.b64encode(f"{config.client_id}:{config.client_secret}".encode()).decode()
    found = Secrets(fixed=[config.client_secret, config.password, basic])
    # Expired tokens force renewals and 401 replays, which are logged: more tokens, more chances to leak.
    # Server errors make the SDK retry and the engine reconcile, and both log it, into the runs' logs
    # in Prefect: their records are scanned too.
    http.post(
        f"{sandbox.base_url}/_sandbox/faults", json={"expire_token": 0.05, "error_500": 0.05, "seed": 3}
    ).raise_for_status()
    customers, invoices = generate_erp_files(
        tmp_path / "erp", customers=25, invoices=150, seed=4, as_of=AS_OF
    )
    storage = tmp_path / "result-storage"
    started = time.time()
    held: list[str] = []

    with (
        _debug_logs_captured(caplog),
        temporary_settings(
            updates={PREFECT_LOCAL_STORAGE_PATH: storage, PREFECT_RESULTS_PERSIST_BY_DEFAULT: True}
        ),
    ):
        try:
            from_settings = _run_cycle(
                customers,
                invoices,
                CycleOptions(
                    out_dir=str(tmp_path / "out-settings"), ledger_path=str(tmp_path / "ledger.sqlite3")
                ),
            )
            held += _held_tokens()
            EnkashCredentials(
                base_url=sandbox.base_url,
                client_id=config.client_id,
                client_secret=config.client_secret,
                username=config.username,
                password=config.password,
                seller_id=config.seller_id,
            ).save(BLOCK_NAME, overwrite=True)
            from_block = _run_cycle(
                customers,
                invoices,
                CycleOptions(
                    out_dir=str(tmp_path / "out-block"),
                    ledger_path=str(tmp_path / "ledger.sqlite3"),
                    credentials_block=BLOCK_NAME,
                ),
            )
            held += _held_tokens()
        finally:
            tasks.connection.close_all()
    found.tokens = list(issued_tokens)

    # The runs did real work, with several tokens, and the spy saw the ones the clients used. Both ran
    # the same night, so the second (which found everything in EnKash) reports the night's totals.
    assert from_settings.invoices_uploaded > 0
    assert from_block.invoices_uploaded == from_settings.invoices_uploaded
    assert from_block.invoices_already_present == 0
    assert len(issued_tokens) >= 2 * 2
    assert held and set(held) <= set(issued_tokens)
    assert any(storage.rglob("*")), "results were persisted: the storage scan is not vacuous"

    assert find_secrets([r.getMessage() for r in caplog.records], found.all()) == set()
    assert find_secrets(caplog.text.splitlines(), found.all()) == set()
    run_names: set[str] = set()
    assert find_secrets(_prefect_records(run_names), found.all()) == set()
    assert run_names  # the read was not empty
    # The project's own log lines (token renewals, retries) reach the runs' logs in Prefect too: the
    # scan above read them, at the DEBUG level set here.
    project_logs = _project_log_records()
    assert any('"name":"enkash_ar"' in record for record in project_logs), "no SDK record reached Prefect"
    assert find_secrets(project_logs, found.all()) == set()
    assert scan_files([storage, tmp_path / "out-settings", tmp_path / "out-block"], found.all()) == {}
    assert scan_files([p for p in tmp_path.glob("ledger.sqlite3*")], found.all()) == {}
    assert scan_files(_server_database(), found.all()) == {}
    default_storage = Path("~/.prefect/storage").expanduser()
    recent = [p for p in default_storage.glob("*") if p.is_file() and p.stat().st_mtime >= started]
    assert scan_files(recent, found.all()) == {}
