"""The fleet's night in one table: a row per seller (how its run ended, what it did, what is owed, what
needs a person) and the fleet's totals. Pure functions over plain data; the ``ar_fleet`` flow publishes
them as an artifact and as files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import polars as pl

from ar_sync.csv_safety import write_safe_csv
from ar_sync.night_summary import NightSummary
from ar_sync.output_files import SUMMARY_FILE, run_report_file

#: Files the fleet writes in its summary folder.
FLEET_CSV_FILE: Final = "fleet_summary.csv"
FLEET_PARQUET_FILE: Final = "fleet_summary.parquet"
FLEET_JSON_FILE: Final = "fleet_summary.json"

#: A seller's status when its night could not even start (no run was created).
NOT_STARTED: Final = "NOT_STARTED"

FLEET_SCHEMA: Final = {
    "seller_id": pl.String,
    "status": pl.String,
    "customers_created": pl.Int64,
    "customers_updated": pl.Int64,
    "invoices_uploaded": pl.Int64,
    "invoices_already_present": pl.Int64,
    "invoices_dispatched": pl.Int64,
    "invoices_cancelled": pl.Int64,
    "rows_rejected": pl.Int64,
    "rows_failed": pl.Int64,
    "open_invoices": pl.Int64,
    "open_amount": pl.Float64,
    "dso": pl.Float64,
    "twins": pl.Int64,
    "warnings": pl.String,
    "message": pl.String,
    "flow_run": pl.String,
    "report": pl.String,
}
#: Counts summed into the fleet's totals.
_SUMMED: Final = (
    "customers_created",
    "customers_updated",
    "invoices_uploaded",
    "invoices_already_present",
    "invoices_dispatched",
    "invoices_cancelled",
    "rows_rejected",
    "rows_failed",
    "open_invoices",
    "twins",
)


@dataclass(frozen=True)
class SellerOutcome:
    """How one seller's night ended, as the fleet saw it."""

    seller_id: str
    #: the child flow run's final state type (COMPLETED, FAILED, CRASHED, CANCELLED ...) or NOT_STARTED
    status: str
    #: the state's message (a failure's one line), or why the night did not start
    message: str | None = None
    #: where to see the run (the Prefect UI page, else the flow run id)
    flow_run: str | None = None
    #: the night's summary.json, when the run wrote one for this seller and night
    summary: NightSummary | None = None
    #: the night's HTML report, when it is there
    report: str | None = None

    @property
    def failed(self) -> bool:
        """Whether the seller's night did not complete."""
        return self.status != "COMPLETED"


def read_night_summary(out_dir: str | Path, seller_id: str, night: date) -> NightSummary | None:
    """The summary.json a seller's night left in ``out_dir``; None when absent, unreadable, or another
    seller's or another night's (a folder reused across nights must not lend yesterday's numbers)."""
    path = Path(out_dir) / SUMMARY_FILE
    try:
        summary = NightSummary.model_validate_json(path.read_bytes())
    except (OSError, ValueError):
        return None
    return summary if summary.seller_id == seller_id and summary.as_of == night else None


def report_path(out_dir: str | Path, seller_id: str, night: date) -> str | None:
    """The night's HTML report in ``out_dir``, if it was written."""
    path = Path(out_dir) / run_report_file(seller_id, night)
    return str(path) if path.is_file() else None


def _warnings(outcome: SellerOutcome) -> str:
    notes = list(outcome.summary.attention()) if outcome.summary else []
    if outcome.message and "contract" in outcome.message.lower() and outcome.failed:
        notes.append("EnKash answered differently from what the project assumes (contract drift): run doctor")
    return " ".join(notes)


def seller_row(outcome: SellerOutcome) -> dict[str, Any]:
    """One row of the fleet table (counts are 0 and amounts empty when the night left no summary)."""
    s = outcome.summary
    row: dict[str, Any] = {
        "seller_id": outcome.seller_id,
        "status": outcome.status,
        "customers_created": s.customers_created if s else 0,
        "customers_updated": s.customers_updated if s else 0,
        "invoices_uploaded": s.invoices_uploaded if s else 0,
        "invoices_already_present": s.invoices_already_present if s else 0,
        "invoices_dispatched": s.invoices_dispatched if s else 0,
        "invoices_cancelled": s.invoices_cancelled if s else 0,
        "rows_rejected": s.customers_rejected + s.invoices_rejected if s else 0,
        "rows_failed": (
            s.customers_failed + s.invoices_failed + s.dispatch_failed + s.reminders_failed if s else 0
        ),
        "open_invoices": s.open_invoices if s else 0,
        "open_amount": s.open_amount if s else None,
        "dso": s.dso if s else None,
        "twins": len(s.invoice_twins) + len(s.customer_twins) if s else 0,
        "warnings": _warnings(outcome),
        "message": outcome.message or "",
        "flow_run": outcome.flow_run or "",
        "report": outcome.report or "",
    }
    return row


def fleet_table(outcomes: list[SellerOutcome]) -> pl.DataFrame:
    """A row per seller, in the fleet's order."""
    return pl.DataFrame([seller_row(o) for o in outcomes], schema=FLEET_SCHEMA, orient="row")


def fleet_dso(table: pl.DataFrame) -> float | None:
    """The fleet's DSO: all receivables over all credit sales, each seller's sales recovered from its own
    DSO (``open / dso * 90``); None when no seller has one."""
    known = table.filter(pl.col("dso").is_not_null() & (pl.col("dso") > 0) & (pl.col("open_amount") > 0))
    if known.is_empty():
        return None
    sales = float((known["open_amount"] / known["dso"]).sum())
    return round(float(known["open_amount"].sum()) / sales, 2) if sales else None


def fleet_totals(table: pl.DataFrame) -> dict[str, Any]:
    """The fleet's totals: sellers by outcome, summed counts, open amount and the fleet's DSO."""
    totals: dict[str, Any] = {
        "sellers": table.height,
        "completed": table.filter(pl.col("status") == "COMPLETED").height,
        "failed": table.filter(pl.col("status") != "COMPLETED").height,
        "failed_sellers": table.filter(pl.col("status") != "COMPLETED")["seller_id"].to_list(),
    }
    totals |= {name: int(table[name].sum()) for name in _SUMMED}
    totals["open_amount"] = round(float(table["open_amount"].fill_null(0).sum()), 2)
    totals["dso"] = fleet_dso(table)
    return totals


def fleet_markdown(night: date, table: pl.DataFrame, totals: dict[str, Any]) -> str:
    """The fleet's night for people: the headline, the sellers that failed and why, the table."""
    dso = "n/a" if totals["dso"] is None else f"{totals['dso']:.1f} days"
    lines = [
        f"# EnKash AR fleet, night {night.isoformat()}",
        "",
        f"**{totals['completed']} of {totals['sellers']} sellers completed**; "
        f"open {totals['open_invoices']} invoices, {totals['open_amount']:,.2f} INR; "
        f"fleet DSO {dso}.",
        "",
    ]
    failed = table.filter(pl.col("status") != "COMPLETED")
    if failed.height:
        lines += ["## Failed", ""]
        lines += [
            f"- **{r['seller_id']}** ({r['status']}): {r['message']}" for r in failed.iter_rows(named=True)
        ]
        lines.append("")
    warned = table.filter(pl.col("warnings") != "")
    if warned.height:
        lines += ["## Needs a person", ""]
        lines += [f"- **{r['seller_id']}**: {r['warnings']}" for r in warned.iter_rows(named=True)]
        lines.append("")
    lines += [
        "| seller | status | uploaded | dispatched | rejected | failed | open | open INR | DSO | twins "
        "| run |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in table.iter_rows(named=True):
        amount = "" if r["open_amount"] is None else f"{r['open_amount']:,.2f}"
        dso = "" if r["dso"] is None else f"{r['dso']:.1f}"
        run = f"[run]({r['flow_run']})" if r["flow_run"].startswith("http") else r["flow_run"]
        lines.append(
            f"| {r['seller_id']} | {r['status']} | {r['invoices_uploaded']} | {r['invoices_dispatched']} | "
            f"{r['rows_rejected']} | {r['rows_failed']} | {r['open_invoices']} | {amount} | {dso} | "
            f"{r['twins']} | {run} |"
        )
    return "\n".join(lines) + "\n"


def write_fleet_files(folder: str | Path, night: date, table: pl.DataFrame, totals: dict[str, Any]) -> Path:
    """Write the fleet table (CSV and Parquet) and ``fleet_summary.json`` (night, totals, sellers) into
    ``folder``; returns the JSON file's path."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    write_safe_csv(table, target / FLEET_CSV_FILE)
    table.write_parquet(target / FLEET_PARQUET_FILE)
    document = {"night": night.isoformat(), "totals": totals, "sellers": table.to_dicts()}
    path = target / FLEET_JSON_FILE
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


def failure_line(table: pl.DataFrame) -> str | None:
    """One line naming every seller whose night did not complete and why; None when all completed."""
    failed = table.filter(pl.col("status") != "COMPLETED")
    if not failed.height:
        return None
    named = "; ".join(
        f"{r['seller_id']} ({r['status'].lower()}: {r['message'] or 'no message'})"
        for r in failed.iter_rows(named=True)
    )
    return f"{failed.height} of {table.height} sellers failed: {named}. The other sellers' nights stand."
