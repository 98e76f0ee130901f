"""The live state of one sandbox (database, tokens, counters) and the ``Call`` a handler receives."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.auth import TokenBook
from sandbox.checks import MISSING
from sandbox.config import SandboxConfig
from sandbox.faults import FaultInjector
from sandbox.store import Store


class SandboxState:
    """Everything that one running sandbox holds; shared by all requests."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.store = Store(config.db)
        self.tokens = TokenBook(config)
        self.faults = FaultInjector(config.initial_faults())
        self._lock = threading.Lock()
        self.request_counts: Counter[str] = Counter()

    def count_request(self, operation_id: str) -> None:
        """Count one request that reached the handler of ``operation_id``."""
        with self._lock:
            self.request_counts[operation_id] += 1

    def counts(self) -> dict[str, int]:
        """A copy of the per-operation request counts."""
        with self._lock:
            return dict(self.request_counts)

    def reset(self) -> None:
        """Wipe data, tokens, lock-outs, counters and runtime faults; keep the configuration."""
        self.store.reset()
        self.tokens.reset()
        self.faults.configure(self.config.initial_faults(), clear_counts=True)
        with self._lock:
            self.request_counts.clear()


@dataclass(frozen=True)
class Upload:
    """The multipart ``file`` part of a bulk request."""

    filename: str
    content: bytes


@dataclass
class Call:
    """One authenticated request, as a handler sees it."""

    state: SandboxState
    company_id: str
    path: Mapping[str, str]
    query: Mapping[str, str]
    base_url: str
    request_id: str
    body: Any = MISSING
    upload: Upload | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def store(self) -> Store:
        """The sandbox database."""
        return self.state.store
