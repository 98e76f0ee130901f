"""The payments stage of a night, as plain Python: export what EnKash received, reconcile it with the ERP,
and keep the night's collections.

One call does the whole stage over what the flow read (the ERP export, EnKash's invoices and customers):

1. the payments file, exactly once (:func:`ar_sync.payment_export.export_payments`);
2. the invoices whose payment state the ERP and EnKash disagree on, in ``payment_mismatches.csv``
   (:mod:`ar_sync.payment_reconciliation`); nothing is changed on either side;
3. the night's collections (received, reversals, the ERP's credit sales, the mismatches) and one result
   row per payment line, in the run ledger, for the summary and the report.

A dry run finds the lines and the mismatches and records nothing: no payments file, no ledger change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

import polars as pl

from ar_sync.collection_summary import Collections, collections_of, erp_credit_sales
from ar_sync.convergence import invoice_twins
from ar_sync.csv_safety import write_safe_csv
from ar_sync.exactly_once import Night
from ar_sync.output_files import PAYMENT_MISMATCHES_FILE
from ar_sync.payment_book import night_collections as kept_collections
from ar_sync.payment_book import record_collections
from ar_sync.payment_export import ExportState, PaymentExport, export_payments
from ar_sync.payment_reconciliation import payment_mismatches
from ar_sync.payments import EntryType
from ar_sync.results import Stage, empty_results, result_rows

#: Result rows are kept for these states: the night's own export (tonight's, or found on the books).
_RECORDED = (ExportState.EXPORTED, ExportState.REWRITTEN, ExportState.KEPT)
#: The columns of the ERP's valid invoice rows the payments stage reads (:func:`payment_mismatches`, with
#: the optional amount_paid and status; :func:`erp_credit_sales`): the stage loads these alone.
PAYMENT_ERP_FIELDS: Final = (
    "invoice_number",
    "customer_ref",
    "invoice_date",
    "base_amount",
    "cgst",
    "sgst",
    "igst",
    "amount_paid",
    "status",
)

#: The columns of EnKash's invoices the reconciliation and the credit sales read: the keepers with these
#: only, not a copy of every column of every invoice (the night's memory peak at a million invoices).
_RECONCILED_COLUMNS = (
    "externalId",
    "invoiceId",
    "receivableStatus",
    "totalReceived",
    "balanceAmount",
    "invoiceDate",
)


@dataclass(frozen=True)
class NightPayments:
    """What the payments stage did: the export, the night's collections and its result rows."""

    export: PaymentExport
    collections: Collections
    results: pl.DataFrame


def payment_results(lines: pl.DataFrame) -> pl.DataFrame:
    """One result row per payment line (stage ``payments_export``): key = invoice number, amount = INR.

    Two EnKash copies of one invoice number paid the same night are told apart by their EnKash id, so
    each line stays one row of the night's record.
    """
    if lines.is_empty():
        return empty_results()
    number = pl.col("invoice_number")
    keys = lines.select(
        pl.when(number.is_null())
        .then(pl.col("invoice_id"))
        .when(pl.len().over("invoice_number") > 1)
        .then(pl.format("{} ({})", number, pl.col("invoice_id")))
        .otherwise(number)
    ).to_series()
    reasons = [
        f"reversal: EnKash now shows {total / 100:.2f} received, {-amount / 100:.2f} less than exported"
        if kind == EntryType.REVERSAL
        else None
        for kind, total, amount in lines.select("entry_type", "total_paise", "amount_paise").iter_rows()
    ]
    return result_rows(
        Stage.PAYMENTS_EXPORT,
        keys.to_list(),
        amounts=(lines.get_column("amount_paise") / 100).to_list(),
        reasons=reasons,
        remote_ids=lines.get_column("invoice_id").to_list(),
    )


def collect_night_payments(
    night: Night,
    erp_invoices: pl.DataFrame | pl.LazyFrame,
    enkash_invoices: pl.DataFrame,
    enkash_customers: pl.DataFrame,
    out_dir: str | Path,
    *,
    dry_run: bool = False,
    checkpoint: Callable[[str], None] | None = None,
) -> NightPayments:
    """Run the night's payments stage (see the module docstring).

    Args:
        night: the night, its seller and the run ledger.
        erp_invoices: the validated ERP invoices (with the optional amount_paid / status), or a plan
            reading them (``tasks.inputs.ErpInputs.invoice_rows``): only a few rows and a sum are read.
        enkash_invoices: all of the seller's EnKash invoices, read tonight.
        enkash_customers: the seller's EnKash customers (customerId, uniqueRefNo).
        out_dir: where payments.csv, payments.parquet and payment_mismatches.csv go.
        dry_run: find and reconcile only; record and export nothing.
        checkpoint: see :func:`~ar_sync.payment_export.export_payments`.

    Example:
        >>> done = collect_night_payments(night, erp, invoices, customers, "out")  # doctest: +SKIP
        >>> done.collections.received  # doctest: +SKIP
        12500.0
    """
    as_of = date.fromisoformat(night.date)
    export = export_payments(
        night.ledger,
        night.seller_id,
        as_of,
        enkash_invoices,
        enkash_customers,
        out_dir,
        dry_run=dry_run,
        checkpoint=checkpoint,
    )
    keepers = invoice_twins(enkash_invoices).keepers_of(*_RECONCILED_COLUMNS)
    mismatches = payment_mismatches(erp_invoices, keepers, export.lines)
    mismatches_path = write_safe_csv(mismatches, Path(out_dir) / PAYMENT_MISMATCHES_FILE)
    collections = collections_of(
        export,
        mismatches,
        erp_credit_sales=erp_credit_sales(erp_invoices, keepers, as_of),
        mismatches_file=str(mismatches_path),
    )
    results = payment_results(export.lines) if export.state in _RECORDED else empty_results()
    if not dry_run:
        night.record(results)
        record_collections(night.ledger, night.seller_id, night.date, collections.model_dump_json())
    return NightPayments(export, collections, results)


def night_collections(night: Night) -> Collections | None:
    """The collections the night's payments stage kept, or None when it did not run (or was a dry run)."""
    text = kept_collections(night.ledger, night.seller_id, night.date)
    return None if text is None else Collections.model_validate_json(text)
