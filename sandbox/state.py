"""The live state of one sandbox: its backend, tokens, faults, request counters and answer wording."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from sandbox.answers import Answers
from sandbox.auth import TokenBook
from sandbox.backend import ArBackend
from sandbox.backend.store import CLOCK, Store
from sandbox.config import SandboxConfig
from sandbox.faults import FaultInjector


class SandboxState:
    """Everything that one running sandbox holds; shared by all requests."""

    def __init__(self, config: SandboxConfig, answers: Answers | None = None) -> None:
        self.config = config
        self.backend = ArBackend(Store(config.db), config.profile)
        self.answers = answers or Answers(config.profile)
        self.tokens = TokenBook(config)
        self.faults = FaultInjector(config.initial_faults())
        self._lock = threading.Lock()
        self.request_counts: Counter[str] = Counter()
        self.answered_counts: Counter[str] = Counter()

    def count_request(self, operation_id: str) -> None:
        """Count one request that reached the handler of ``operation_id``."""
        with self._lock:
            self.request_counts[operation_id] += 1

    def count_answer(self, operation_id: str) -> None:
        """Count one request of ``operation_id`` whose handler finished without an error (a write done)."""
        with self._lock:
            self.answered_counts[operation_id] += 1

    def answered(self) -> dict[str, int]:
        """A copy of the per-operation counts of requests answered with success."""
        with self._lock:
            return dict(self.answered_counts)

    def counts(self) -> dict[str, int]:
        """A copy of the per-operation request counts."""
        with self._lock:
            return dict(self.request_counts)

    def reset(self) -> None:
        """Wipe data, tokens, lock-outs, counters and runtime faults, and set the clock back to the
        machine's; keep the configuration."""
        self.backend.reset()
        CLOCK.offset = timedelta(0)
        self.tokens.reset()
        self.faults.configure(self.config.initial_faults(), clear_counts=True)
        with self._lock:
            self.request_counts.clear()
            self.answered_counts.clear()

    def close(self) -> None:
        """Release the database."""
        self.backend.close()
