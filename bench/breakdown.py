"""Where a cycle's seconds go beyond the floor's: each stage subflow against the floor phase it matches."""

from __future__ import annotations

from typing import Any, Final

#: Cycle stage subflow -> the physical floor phases doing the same work (none: the floor has no such
#: stage, its whole time is beyond the floor).
STAGE_TO_PHASES: Final[dict[str, tuple[str, ...]]] = {
    "cancel-removed": (),
    "sync-customers": ("customers",),
    "upload-invoices": ("invoices_upload",),
    "dispatch-invoices": ("dispatch",),
    "collect-payments": (),
    "setup-reminders": ("reminders",),
    # The quiet floors read invoices and customers once, for the summary (aging, payments).
    "ar-summary": ("final_read", "read_invoices", "read_customers"),
}
#: The top flow's time outside its stage subflows: inputs, lock, token, rejected rows (floor: load).
OUTSIDE_STAGES: Final = "nightly-ar-cycle outside stages"
TOP_FLOW: Final = "nightly-ar-cycle"


def breakdown(
    cycle_seconds: float, stages: dict[str, float], phases: dict[str, float]
) -> list[dict[str, Any]]:
    """One row per cycle stage: its seconds, the matching floor seconds and the difference.

    The rows add up to ``cycle_seconds`` on the cycle side (the last row is what the process spent
    outside the top flow run: Prefect's engine start and the flow run's creation).

    Example:
        >>> stages = {"nightly-ar-cycle": 9.0, "setup-reminders": 5.0}
        >>> rows = breakdown(10.0, stages, {"reminders": 4.0, "load": 1.0})
        >>> [(r["stage"], r["extra_seconds"]) for r in rows if r["cycle_seconds"]]
        [('setup-reminders', 1.0), ('nightly-ar-cycle outside stages', 3.0), ('outside the flow run', 1.0)]
    """
    rows = []
    for stage, matched in STAGE_TO_PHASES.items():
        floor = sum(phases.get(p, 0.0) for p in matched)
        rows.append(_row(stage, stages.get(stage, 0.0), ", ".join(matched), floor))
    inside = sum(stages.get(stage, 0.0) for stage in STAGE_TO_PHASES)
    top = stages.get(TOP_FLOW, 0.0)
    rows.append(
        _row(OUTSIDE_STAGES, top - inside, "token, load", phases.get("token", 0.0) + phases.get("load", 0.0))
    )
    rows.append(_row("outside the flow run", cycle_seconds - top, "", 0.0))
    return rows


def _row(stage: str, cycle: float, phases: str, floor: float) -> dict[str, Any]:
    return {
        "stage": stage,
        "cycle_seconds": round(cycle, 3),
        "floor_phases": phases,
        "floor_seconds": round(floor, 3),
        "extra_seconds": round(cycle - floor, 3),
    }
