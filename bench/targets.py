"""Issue 14's targets, and the verdict of a measured value against one of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final


@dataclass(frozen=True)
class Target:
    """An upper bound on a measured value (every target of issue 14 is a "no more than")."""

    name: str
    limit: float
    unit: str

    def verdict(self, value: float | None) -> dict[str, Any]:
        """``{"target", "limit", "value", "met"}``; ``met`` is None when the value was not measured.

        Example:
            >>> Target("S1 ratio", 1.25, "x").verdict(1.4)["met"]
            False
        """
        met = None if value is None else value <= self.limit
        return {"target": self.name, "limit": self.limit, "unit": self.unit, "value": value, "met": met}


S1_RATIO: Final = Target("S1 full night / physical floor", 1.25, "x")
S3_QUIET_RATIO: Final = Target("S3 quiet night / quiet floor", 1.5, "x")
S3_DELTA_RATIO: Final = Target("S3 1% changed + 1% new / (quiet floor + those writes)", 1.5, "x")
S3_QUIET_WRITES: Final = Target("S3 quiet night writes", 0, "calls")
S3_PAID_HISTORY_RATIO: Final = Target("S3 quiet night, 90% of invoices paid / quiet floor", 1.5, "x")
S4_SECONDS: Final = Target("S4 1M invoices wall time", 180, "s")
S4_RSS: Final = Target("S4 peak RSS of the cycle process", 1024, "MiB")
REMINDERS_RATIO: Final = Target("reminders phase / floor's reminder phase", 1.2, "x")
RETRY_FRACTION: Final = Target("retry after a dispatch failure / full night", 0.3, "x")
RETRY_UPLOADS: Final = Target("retry: invoice uploads redone", 0, "calls")


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator`` rounded to 3 places; None when either is missing or the base is 0.

    Example:
        >>> ratio(3.0, 2.0), ratio(1.0, 0.0), ratio(None, 2.0)
        (1.5, None, None)
    """
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 3)
