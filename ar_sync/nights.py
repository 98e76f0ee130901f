"""Which night a run belongs to: the seller's business date, in India's time zone.

A night is one seller's business date (``as_of``). Every attempt of it (a retry from the Prefect UI, a
rerun of the same command) adds to the same record in the run ledger, so the night's summary says what
the night did in total. A retried flow run keeps its scheduled start time, so a retry after midnight
still belongs to the night it was scheduled for.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

#: Nightly runs are scheduled in India; "today" means today there.
TIMEZONE: Final = ZoneInfo("Asia/Kolkata")


def today() -> date:
    """Today's date in Asia/Kolkata."""
    return datetime.now(TIMEZONE).date()


def night_of(as_of: date | None, scheduled_start: datetime | None = None) -> date:
    """The night of a run: ``as_of`` when given, else the (scheduled) start date in Asia/Kolkata.

    Example:
        >>> from datetime import UTC
        >>> night_of(None, datetime(2026, 11, 23, 20, 0, tzinfo=UTC))  # 01:30 IST on the 24th
        datetime.date(2026, 11, 24)
    """
    if as_of is not None:
        return as_of
    if scheduled_start is not None:
        return scheduled_start.astimezone(TIMEZONE).date()
    return today()
