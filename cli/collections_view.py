"""How the command line shows a night's collections: money received, the payments file, disagreements."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from ar_sync.night_summary import NightSummary


def print_collections(summary: NightSummary, console: Console) -> None:
    """Print what EnKash received since the last export and what the ERP and EnKash disagree on."""
    collections = summary.collections
    if collections is None:
        return
    since = collections.period_start.isoformat() if collections.period_start else "the first export"
    table = Table(title=f"Collections of {summary.as_of} (received on EnKash since {since})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rate = "n/a" if collections.collection_rate is None else f"{collections.collection_rate:.1%}"
    table.add_row("invoices_paid", str(collections.invoices_paid))
    table.add_row("received", f"{collections.received:,.2f}")
    table.add_row("reversed", f"{collections.reversed:,.2f}")
    table.add_row("collection_rate", rate)
    table.add_row("payment_mismatches", str(collections.mismatch_count))
    console.print(table)
    where = collections.payments_file or f"not written ({collections.export_state})"
    console.print(f"Payments file for the ERP: {escape(where)}")
    for mismatch in collections.mismatches[:10]:
        console.print(
            f"[yellow]ERP and EnKash disagree:[/] {escape(mismatch.invoice_number)}: "
            f"{escape(mismatch.kind.replace('_', ' '))} ({escape(mismatch.what_to_do)})"
        )
