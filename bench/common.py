"""What every benchmark needs: the sandbox as a separate process on loopback, and its admin API."""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from sandbox.config import SandboxConfig
from sandbox.routes import WRITE_OPERATIONS
from sandbox.server import RunningSandbox

RESULTS = Path(__file__).parent / "results"


@dataclass(frozen=True)
class SandboxProcess:
    """A sandbox running in its own process."""

    base_url: str
    config: SandboxConfig

    def reset(self) -> None:
        """Wipe the sandbox's data and counters."""
        httpx.post(f"{self.base_url}/_sandbox/reset", timeout=60).raise_for_status()

    def request_counts(self) -> dict[str, int]:
        """Requests per operationId since the last reset."""
        response = httpx.get(f"{self.base_url}/_sandbox/state", params={"summary": "true"}, timeout=60)
        response.raise_for_status()
        counts: dict[str, int] = response.json()["request_counts"]
        return counts

    def env(self) -> dict[str, str]:
        """ENKASH_* settings that point a cycle at this sandbox."""
        return RunningSandbox(base_url=self.base_url, config=self.config).enkash_env()


def writes_between(before: dict[str, int], after: dict[str, int]) -> int:
    """Write calls made between two request-count snapshots."""
    return sum(after.get(op, 0) - before.get(op, 0) for op in WRITE_OPERATIONS)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def sandbox_process(token_ttl: int = 3600) -> Iterator[SandboxProcess]:
    """Start ``enkash-ar sandbox serve`` in a separate process and stop it afterwards."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "cli.main",
        "sandbox",
        "serve",
        "--port",
        str(port),
        "--token-ttl",
        str(token_ttl),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base_url}/_sandbox/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"the sandbox did not start on {base_url}")
            time.sleep(0.2)
        yield SandboxProcess(base_url, SandboxConfig(token_ttl=token_ttl))
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def prefect_server(home: Path, *, stock: bool = False) -> Iterator[str]:
    """Start ``enkash-ar prefect-server`` (``stock``: ``prefect server start``) on loopback (PREFECT_HOME
    under ``home``); yield its API URL.

    A real server, shared by the cycle in this process and the S4 cycle subprocess, instead of the
    per-process ephemeral one, as the README deploys it: Prefect's server on SQLite with its
    transactions begun IMMEDIATE (``cli/prefect_server.py``). Stopped (by its process id) at the end.
    """
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_API_URL": api_url,
        # Log each request SQLite refused as "database is locked" (answered 503; the client sleeps and
        # retries): the nights count them in server.log (``locked_answers``).
        "PREFECT_SERVER_LOG_RETRYABLE_ERRORS": "true",
    }
    log_file = (home / SERVER_LOG).open("wb")
    server = [sys.executable, "-m", "prefect", "server", "start"]
    if not stock:
        server = [sys.executable, "-c", "from cli.main import app; app()", "prefect-server"]
    command = [*server, "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"the Prefect server did not start on {api_url} (see {home}/server.log)")
            time.sleep(0.5)
        yield api_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        log_file.close()


#: The Prefect server's output, in its PREFECT_HOME.
SERVER_LOG = "server.log"
#: The line that ends each request Prefect's SQLite database refused (the server answers it 503).
LOCKED = b"sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database is locked"


def locked_answers(server_log: Path, since: int) -> tuple[int, int]:
    """How many requests the server answered "database is locked" after byte ``since`` of its log, and
    the log's size now (the next call's ``since``)."""
    if not server_log.exists():
        return 0, since
    with server_log.open("rb") as file:
        file.seek(since)
        tail = file.read()
    return tail.count(LOCKED), since + len(tail)


def log(message: str) -> None:
    """A progress line on stderr (results go to stdout and bench/results)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB."""
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def machine() -> dict[str, Any]:
    """The machine a result was measured on."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(memory / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).date().isoformat(),
        # The machine is shared: a load above the core count means the timings carry others' work.
        "load_average_1_5_15_min": [round(x, 2) for x in os.getloadavg()],
    }


def write_result(name: str, result: dict[str, Any], folder: Path = RESULTS) -> Path:
    """Write one benchmark's result to ``folder``/<name>.json (default bench/results) and print it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    payload = {"benchmark": name, "machine": machine(), **result}
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    print(json.dumps(payload, indent=2, sort_keys=True), flush=True)
    return path
