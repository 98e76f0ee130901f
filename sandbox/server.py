"""Running the sandbox: in a background thread for tests (``running_sandbox``) or in the foreground
for the CLI (``serve``).

Example:
    >>> with running_sandbox(SandboxConfig()) as sandbox:  # doctest: +SKIP
    ...     httpx.get(sandbox.base_url + "/_sandbox/health").json()
    {'status': 'ok'}
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import httpx
import uvicorn
from fastapi import FastAPI

from enkash_ar.alternative_profiles import ALTERNATIVES, name_of
from enkash_ar.contract_profile import ContractProfile
from sandbox.app import create_app
from sandbox.config import FaultConfig, SandboxConfig, SellerAccount

__all__ = ["FaultConfig", "RunningSandbox", "SandboxConfig", "running_sandbox", "serve"]


@dataclass(frozen=True)
class RunningSandbox:
    """A sandbox that answers at ``base_url`` (no trailing slash)."""

    base_url: str
    config: SandboxConfig

    def enkash_env(self, seller: SellerAccount | None = None) -> dict[str, str]:
        """The ``ENKASH_*`` environment that points a client (the CLI, a cycle, a benchmark) here, as
        ``seller`` (default: the configured seller)."""
        account = seller or self.config.accounts()[0]
        return {
            "ENKASH_BASE_URL": self.base_url,
            "ENKASH_CLIENT_ID": account.client_id,
            "ENKASH_CLIENT_SECRET": account.client_secret,
            "ENKASH_USERNAME": account.username,
            "ENKASH_PASSWORD": account.password,
            "ENKASH_SELLER_ID": account.seller_id,
        }


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _server(config: SandboxConfig, app: FastAPI | None = None) -> uvicorn.Server:
    # h11 is pinned so the dropped-response fault behaves the same on every machine.
    uv_config = uvicorn.Config(
        app or create_app(config),
        host=config.host,
        port=config.port,
        http="h11",
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    return uvicorn.Server(uv_config)


@contextmanager
def running_sandbox(
    config: SandboxConfig | None = None, *, timeout: float = 15.0
) -> Iterator[RunningSandbox]:
    """Start a sandbox in a background thread, wait until it answers, stop it on exit."""
    config = config or SandboxConfig()
    if config.port == 0:
        config = replace(config, port=_free_port(config.host))
    app = create_app(config)
    server = _server(config, app)
    thread = threading.Thread(target=server.run, name=f"sandbox:{config.port}", daemon=True)
    thread.start()
    base_url = f"http://{config.host}:{config.port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(base_url + "/_sandbox/health", timeout=1.0).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError(f"sandbox did not start on {base_url} within {timeout} s")
        time.sleep(0.05)
    try:
        yield RunningSandbox(base_url=base_url, config=config)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.sandbox.close()


def profile_label(profile: ContractProfile) -> str:
    """The profile's name and what it plays, or "custom" for a profile file of one's own."""
    name = name_of(profile)
    if name is None:
        return "custom (from a profile file)"
    return name if name not in ALTERNATIVES else f"{name}: {ALTERNATIVES[name][1]}"


def serve(config: SandboxConfig) -> None:
    """Run a sandbox in the foreground until interrupted; prints the URL and credentials first."""
    if config.port == 0:
        config = replace(config, port=_free_port(config.host))
    print(f"EnKash AR sandbox on http://{config.host}:{config.port}")
    print(f"  token:     POST /oauth/token  Basic {config.client_id}:{config.client_secret}")
    print(f"  user:      {config.username} / {config.password}   clientId (company): {config.seller_id}")
    for seller in config.sellers:
        print(
            f"  seller:    {seller.seller_id}  Basic {seller.client_id}:{seller.client_secret}  "
            f"user {seller.username} / {seller.password}"
        )
    print(
        f"  database:  {config.db}   token lifetime: {config.token_ttl} s   faults: {config.initial_faults()}"
    )
    print(f"  profile:   {profile_label(config.profile)}")
    print(
        "  admin:     /_sandbox/state /_sandbox/reset /_sandbox/faults /_sandbox/unlock /_sandbox/sellers",
        flush=True,
    )
    _server(config).run()
