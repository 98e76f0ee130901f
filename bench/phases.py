"""Wall time per named phase of a script, and the request counts a phase or a process made."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Phases:
    """Seconds spent in each named phase, in the order the phases first ran.

    Example:
        >>> phases = Phases()
        >>> with phases.phase("load"):
        ...     pass
        >>> list(phases.seconds)
        ['load']
    """

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the block and add it to ``name`` (a phase entered twice adds up)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def rounded(self) -> dict[str, float]:
        """The phases' seconds, rounded to milliseconds (for a JSON result)."""
        return {name: round(s, 3) for name, s in self.seconds.items()}


def request_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Requests per operationId made between two counter snapshots (operations with none left out).

    Example:
        >>> request_delta({"searchCustomer": 2}, {"searchCustomer": 5, "createInvoice": 1})
        {'createInvoice': 1, 'searchCustomer': 3}
    """
    ops = sorted(set(before) | set(after))
    delta = {op: after.get(op, 0) - before.get(op, 0) for op in ops}
    return {op: n for op, n in delta.items() if n}


def extra_requests(cycle: dict[str, int], floor: dict[str, int]) -> dict[str, int]:
    """Per operationId, how many more requests the cycle made than the floor (fewer: negative).

    Example:
        >>> extra_requests({"searchCustomer": 8, "getInvoice": 1}, {"searchCustomer": 2, "getInvoice": 1})
        {'searchCustomer': 6}
    """
    ops = sorted(set(cycle) | set(floor))
    diff = {op: cycle.get(op, 0) - floor.get(op, 0) for op in ops}
    return {op: n for op, n in diff.items() if n}
