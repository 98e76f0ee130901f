"""The nights before this one, for the run report's trend: each night's summary kept in the run ledger.

``summary.json`` in ``out_dir`` is replaced every night, so the ledger keeps one summary per seller and
night (a rerun of the night replaces it). A dry run is not kept: it sends nothing, and a preview run
after the real night must not stand in for what the night recorded.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

from ar_sync.night_summary import NightSummary
from ar_sync.run_ledger import RunLedger

logger = logging.getLogger(__name__)

#: Nights the trend looks back over (this one included).
TREND_NIGHTS: Final = 30


@dataclass(frozen=True)
class TrendPoint:
    """What one night ended with: the open amount and the DSO (None when it was undefined)."""

    night: date
    open_amount: float
    dso: float | None

    @classmethod
    def of(cls, summary: Mapping[str, Any]) -> TrendPoint:
        """The point of a kept ``summary.json`` (its ``as_of``, ``open_amount`` and ``dso``)."""
        dso = summary.get("dso")
        return cls(
            night=date.fromisoformat(str(summary["as_of"])),
            open_amount=float(summary.get("open_amount") or 0.0),
            dso=None if dso is None else float(dso),
        )


def remember_night(ledger: RunLedger, summary: NightSummary, *, left_behind: Path | None = None) -> None:
    """Keep ``summary`` in the ledger for the trend of later nights (not a dry run's).

    ``left_behind`` is the ``summary.json`` an earlier night left in ``out_dir``, read before it is
    replaced: it joins the history when the ledger lacks that night (a ledger newer than the reports,
    or moved), and never overwrites what the ledger kept.
    """
    if left_behind is not None and (earlier := _earlier_summary(left_behind, summary)) is not None:
        ledger.record_night_summary(summary.seller_id, earlier["as_of"], json.dumps(earlier), replace=False)
    if not summary.dry_run:
        ledger.record_night_summary(summary.seller_id, summary.as_of.isoformat(), summary.to_json())


def _earlier_summary(path: Path, current: NightSummary) -> dict[str, Any] | None:
    """The summary in ``path`` when it is a real earlier night of the same seller, else None."""
    if not path.is_file():
        return None
    try:
        earlier = json.loads(path.read_text(encoding="utf-8"))
        night = date.fromisoformat(str(earlier["as_of"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        # Only a trend point is lost: the night itself goes on.
        logger.warning("%s is not a readable night summary (%s): the trend leaves it out", path, exc)
        return None
    if earlier.get("seller_id") != current.seller_id or earlier.get("dry_run") or night >= current.as_of:
        return None
    return {**earlier, "as_of": night.isoformat()}


def trend_points(summaries: Iterable[Mapping[str, Any]], current: NightSummary) -> list[TrendPoint]:
    """One point per night, oldest first: the kept ``summaries`` with ``current`` in place of its night."""
    points = {point.night: point for point in map(TrendPoint.of, summaries)}
    points[current.as_of] = TrendPoint.of(current.model_dump(mode="json"))
    return [points[night] for night in sorted(points)]


def night_trend(ledger: RunLedger, current: NightSummary, *, nights: int = TREND_NIGHTS) -> list[TrendPoint]:
    """The trend up to ``current``'s night: the last ``nights`` nights kept in the ledger, it included."""
    kept = ledger.night_summaries(current.seller_id, until=current.as_of.isoformat(), limit=nights)
    return trend_points(kept, current)[-nights:]
