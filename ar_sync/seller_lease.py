"""One cycle per seller at a time on one run ledger: a lease in the ledger, renewed while the cycle runs.

Two cycles of one seller must never run at once: both would upload the same invoices and dispatch both
copies (EnKash does not deduplicate). Across machines sharing a Prefect server, a Prefect global
concurrency limit keeps them apart; this lease does it for runs that share only the ledger file (two
CLI runs on one machine with no Prefect server, an ad-hoc ``asyncio.run`` next to a scheduled run).

The lease is a row in the ledger, taken in a SQLite write transaction (so two processes cannot both
take it), renewed by a background thread every third of its duration, and given up at the end. A
holder that died without giving it up (SIGKILL, power cut) loses it when its time runs out, or at once
when its process is gone from this machine.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

from ar_sync.run_ledger import Lease, RunLedger

#: How long a lease lasts without renewal; a killed holder blocks others at most this long.
DEFAULT_LEASE_SECONDS: Final = 120.0
#: How often a waiting cycle looks at the lease again.
POLL_SECONDS: Final = 1.0


class SellerBusyError(RuntimeError):
    """Another cycle of the same seller holds the lock; the message names it and what to do."""


def busy_message(seller_id: str, holder: str, since: datetime | None, waited: float) -> str:
    """The one line a second cycle fails with: which seller, held by whom since when, what to do."""
    when = f" since {since.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S')} UTC" if since else ""
    return (
        f"seller {seller_id} is busy: another AR cycle ({holder}) has held it{when}; waited {waited:.0f} s. "
        "Nothing was sent by this run. Let that cycle finish (or cancel it) and run again; raise "
        "lock_timeout_seconds to wait longer."
    )


class SellerLease:
    """Hold ``seller_id``'s lease on ``ledger`` while a cycle runs (a context manager).

    Args:
        ledger: the run ledger shared by the competing cycles.
        seller_id: the seller to hold.
        description: who holds it, as the other cycle's error message will name it (flow run, host).
        timeout: seconds to wait for the lease before :class:`SellerBusyError`.
        duration: seconds the lease lasts without renewal.
        clock, sleep: injectable for tests.
    """

    def __init__(
        self,
        ledger: RunLedger,
        seller_id: str,
        description: str,
        *,
        timeout: float,
        duration: float = DEFAULT_LEASE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ledger = ledger
        self.seller_id = seller_id
        self.description = description
        self.timeout = timeout
        self.duration = timedelta(seconds=duration)
        self.holder = uuid.uuid4().hex
        self.host = socket.gethostname()
        self._clock = clock
        self._sleep = sleep
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self, on_wait: Callable[[Lease], None] | None = None) -> None:
        """Take the lease, waiting up to ``timeout``; :class:`SellerBusyError` naming the holder if not.

        ``on_wait`` is told once, with the holder's lease, when the lease is found held.
        """
        started = self._clock()
        told = False
        while True:
            current = self._take()
            if current is None:
                break
            if on_wait is not None and not told:
                on_wait(current)
                told = True
            waited = self._clock() - started
            if waited >= self.timeout:
                raise SellerBusyError(
                    busy_message(self.seller_id, current.description, current.acquired_at, waited)
                )
            self._sleep(min(POLL_SECONDS, max(self.timeout - waited, 0.01)))
        self._renewer = threading.Thread(target=self._renew, name=f"lease:{self.seller_id}", daemon=True)
        self._renewer.start()

    def release(self) -> None:
        """Stop renewing and give the lease up."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        self.ledger.release_lease(self.seller_id, self.holder)

    def _take(self) -> Lease | None:
        return self.ledger.try_lease(
            self.seller_id, self.holder, self.description, self.duration, host=self.host
        )

    def _renew(self) -> None:
        interval = self.duration.total_seconds() / 3
        while not self._stop.wait(interval):
            # A renewal that finds another holder means ours ran out (the process was stopped for longer
            # than the lease); nothing more can be done from this thread than to stop renewing.
            if self._take() is not None:
                return

    def __enter__(self) -> SellerLease:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
