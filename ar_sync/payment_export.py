"""The night's payments file for the ERP, exported exactly once: ``payments.csv`` and ``payments.parquet``.

The order of the steps is what makes it exactly once, whatever moment a process is killed at:

1. in one ledger transaction (:func:`~ar_sync.payment_book.payment_book`, other writers wait): if the
   night already has an export, take its lines from the ledger; otherwise find tonight's lines
   (:func:`~ar_sync.payments.detect_payments` against the totals last exported), write them to
   hidden ``.pending`` files beside the final names, and put the export on the books (record, lines,
   new positions);
2. the transaction commits;
3. the pending files are renamed over ``payments.csv`` / ``payments.parquet``.

Killed before 2: nothing is on the books and no final file changed; the next run finds the same money
(and any that came since) and exports it. Killed between 2 and 3: the books say exported; the next run
of the night rewrites the same files from the recorded lines, byte for byte. A payment reaches a
final file only after the ledger holds it, and a recorded payment is never a line of a later night.

A rerun of the night therefore never adds lines: money EnKash received after the night's export goes
to the next night. ``payments.csv`` holds the latest exported night: a night older than the latest one
leaves the files alone (its lines stay in the ledger; the later night's file may not be imported yet).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Final

import polars as pl

from ar_sync.csv_safety import write_safe_csv
from ar_sync.output_files import PAYMENTS_CSV_FILE, PAYMENTS_PARQUET_FILE, durable_rename, write_replacing
from ar_sync.payment_book import payment_book
from ar_sync.payments import LINE_SCHEMA, detect_payments
from ar_sync.run_ledger import RunLedger

#: Money columns of the file: exact to the paisa.
MONEY: Final = pl.Decimal(18, 2)
#: The ERP import format: one line per invoice whose total received moved (README, "The payments file").
PAYMENT_FILE_SCHEMA: Final = pl.Schema(
    {
        "payment_ref": pl.String(),
        "night": pl.String(),
        "entry_type": pl.String(),
        "invoice_number": pl.String(),
        "customer_ref": pl.String(),
        "enkash_invoice_id": pl.String(),
        "amount_received": MONEY,
        "total_received": MONEY,
        "previous_total_received": MONEY,
        "balance": MONEY,
        "receivable_status": pl.String(),
        "paid_on": pl.String(),
        "payment_mode": pl.String(),
        "payment_reference": pl.String(),
        "currency": pl.String(),
    }
)
_PENDING: Final = ".pending"


class ExportState(StrEnum):
    """What the run did about the night's payments file."""

    #: the night's lines were found and recorded tonight, and the files written
    EXPORTED = "exported"
    #: the night was already exported: the files were rewritten from the ledger, identical
    REWRITTEN = "rewritten"
    #: the night was exported, but a later night too: its files hold the later one and are left alone
    KEPT = "kept"
    #: a later night has exported and this one never did: its money is in the later nights
    SUPERSEDED = "superseded"
    #: a dry run: the lines that would be exported, nothing recorded, no file written
    PREVIEW = "preview"


@dataclass(frozen=True)
class PaymentExport:
    """The night's payment lines (:data:`~ar_sync.payments.LINE_SCHEMA`) and what became of them."""

    night: date
    state: ExportState
    lines: pl.DataFrame
    #: the night before, whose export this one continues (None for the first export)
    previous_night: str | None
    #: where the files are (None when nothing was written)
    files: tuple[Path, ...] = ()
    #: the night whose export sits in the files, when a later one does
    latest_night: str | None = None


def payment_file_frame(lines: pl.DataFrame) -> pl.DataFrame:
    """Ledger lines as the ERP import file (:data:`PAYMENT_FILE_SCHEMA`): rupees with 2 decimals."""

    def rupees(column: str) -> pl.Expr:
        return pl.col(column).cast(MONEY) / 100

    return lines.select(
        "payment_ref",
        "night",
        "entry_type",
        "invoice_number",
        "customer_ref",
        pl.col("invoice_id").alias("enkash_invoice_id"),
        rupees("amount_paise").alias("amount_received"),
        rupees("total_paise").alias("total_received"),
        rupees("previous_paise").alias("previous_total_received"),
        rupees("balance_paise").alias("balance"),
        "receivable_status",
        "paid_on",
        "payment_mode",
        "payment_reference",
        pl.lit("INR").alias("currency"),
    ).cast(dict(PAYMENT_FILE_SCHEMA))  # type: ignore[arg-type]


def _targets(out_dir: Path) -> tuple[Path, Path]:
    return out_dir / PAYMENTS_CSV_FILE, out_dir / PAYMENTS_PARQUET_FILE


def _pending(target: Path) -> Path:
    return target.with_name(f".{target.name}{_PENDING}")


def _write_pending(lines: pl.DataFrame, out_dir: Path) -> tuple[Path, Path]:
    """Write the files under their hidden pending names (the ERP never reads those)."""
    csv, parquet = _targets(out_dir)
    frame = payment_file_frame(lines)
    write_safe_csv(frame, _pending(csv))
    write_replacing(_pending(parquet), lambda partial: frame.write_parquet(partial, statistics=False))
    return csv, parquet


def _publish(targets: tuple[Path, ...]) -> None:
    """Rename each pending file over its final name (one atomic step per file).

    Pending files are written only inside the payment book's transaction, so whatever pending file
    exists is complete and already recorded. When two runs publish at once, the first rename moves
    the latest recorded file and the second finds nothing left to move: that is not an error.
    """
    for target in targets:
        try:
            durable_rename(_pending(target), target)
        except FileNotFoundError:
            if not target.exists():
                raise


def _no_checkpoint(_: str) -> None:
    """The default of ``checkpoint``: nothing happens between the steps."""


def export_payments(
    ledger: RunLedger,
    seller_id: str,
    night: date,
    invoices: pl.DataFrame,
    customers: pl.DataFrame,
    out_dir: str | Path,
    *,
    dry_run: bool = False,
    checkpoint: Callable[[str], None] | None = None,
) -> PaymentExport:
    """Export the night's payments to ``out_dir`` exactly once (see the module docstring for how).

    Args:
        ledger: the run ledger that keeps what was exported.
        seller_id: whose payments.
        night: the night the lines belong to.
        invoices: EnKash's invoices of the seller, read tonight (``frames.INVOICE_SCHEMA``).
        customers: EnKash's customers (customerId, uniqueRefNo), for each line's customer_ref.
        out_dir: where ``payments.csv`` and ``payments.parquet`` go.
        dry_run: find the lines only: record nothing, write nothing.
        checkpoint: called with ``"written"`` (pending files written, nothing recorded yet) and
            ``"recorded"`` (committed, files not yet renamed); tests stop a process there.

    Example:
        >>> done = export_payments(ledger, "CEKSANDBX1", night, invoices, customers, "out")  # doctest: +SKIP
        >>> done.lines.height  # doctest: +SKIP
        3
    """
    folder = Path(out_dir)
    key = night.isoformat()
    checkpoint = checkpoint or _no_checkpoint
    with payment_book(ledger, seller_id) as book:
        previous, latest, record = book.previous_night(key), book.latest_night(), book.export_of(key)
        later = latest is not None and latest > key
        if later and record is None:
            return PaymentExport(night, ExportState.SUPERSEDED, _no_lines(), previous, latest_night=latest)
        if later:
            return PaymentExport(night, ExportState.KEPT, book.lines(key), previous, latest_night=latest)
        if dry_run:
            # Nothing new would be exported for a night already on the books.
            lines = _no_lines() if record else detect_payments(invoices, customers, book.positions(), night)
            return PaymentExport(night, ExportState.PREVIEW, lines, previous)
        positions = book.positions() if record is None else None
        if positions is None:
            state, lines = ExportState.REWRITTEN, book.lines(key)
        else:
            state, lines = ExportState.EXPORTED, detect_payments(invoices, customers, positions, night)
        folder.mkdir(parents=True, exist_ok=True)
        targets = _write_pending(lines, folder)
        checkpoint("written")
        if positions is not None:
            book.record(key, lines, [t.name for t in targets], positions)
    checkpoint("recorded")
    _publish(targets)
    return PaymentExport(night, state, lines, previous, targets)


def _no_lines() -> pl.DataFrame:
    return pl.DataFrame(schema=LINE_SCHEMA)
