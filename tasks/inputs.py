"""Load and validate the ERP export; write the rejected-rows report."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from ar_sync.erp_fields import DEFAULT_MAX_INVOICE_AMOUNT
from ar_sync.erp_input import (
    InputFileError,
    LoadResult,
    check_rejection_threshold,
    load_customers,
    load_invoices,
    write_rejected,
)
from ar_sync.night_summary import RejectedInput
from ar_sync.output_files import REJECTED_ROWS_FILE
from ar_sync.rejections import rejection_summary


@dataclass(frozen=True)
class ErpInputs:
    """Tonight's validated ERP export: customers and invoices, valid rows and rejected cells."""

    customers: LoadResult
    invoices: LoadResult | None

    def results(self) -> list[LoadResult]:
        """The loaded files (customers, then invoices when they were loaded)."""
        return [self.customers] if self.invoices is None else [self.customers, self.invoices]


def _file_digest(path: str | Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _content_key(
    customers_file: str,
    invoices_file: str | None,
    customer_columns: Mapping[str, str] | None,
    invoice_columns: Mapping[str, str] | None,
    max_invoice_amount: Decimal,
) -> str | None:
    """What the files hold and how they are read (never their path or mtime); None if unreadable."""
    try:
        files = [_file_digest(p) for p in (customers_file, invoices_file) if p]
    except OSError:
        return None  # a missing file is reported by the loader itself, with its name
    mappings = repr(sorted((customer_columns or {}).items())) + repr(sorted((invoice_columns or {}).items()))
    return hashlib.blake2b(
        "|".join([*files, mappings, str(max_invoice_amount)]).encode(), digest_size=16
    ).hexdigest()


# Loading is pure preparation, so it is safe to reuse: nightly_ar_cycle loads the export once and
# its stage subflows, in the same process, get the same validated frames back. The memo lives in
# process memory only. Prefect result persistence is deliberately not used here: it would pickle the
# customers' names, phones and GSTINs into result storage, and at 1M rows costs more than the load.
_memo_lock = threading.Lock()
_memo: dict[str, ErpInputs] = {}


# The task reaches the memo only through these functions: Prefect's runner pickles a served flow with
# cloudpickle, which copies the objects a task's code names (a lock cannot be copied) but refers to
# importable functions by name.
def _remembered(key: str | None) -> ErpInputs | None:
    with _memo_lock:
        return _memo.get(key) if key is not None else None


def _remember(key: str | None, inputs: ErpInputs) -> None:
    if key is None:
        return
    with _memo_lock:
        _memo.clear()  # one export at a time: a night's files, not a growing cache
        _memo[key] = inputs


@task(name="load-erp-inputs", cache_policy=NO_CACHE)
def load_erp_inputs(
    customers_file: str,
    invoices_file: str | None,
    customer_columns: Mapping[str, str] | None = None,
    invoice_columns: Mapping[str, str] | None = None,
    max_invoice_amount: Decimal = DEFAULT_MAX_INVOICE_AMOUNT,
) -> ErpInputs:
    """Load and validate the customer and invoice files of the ERP export.

    Invoices are checked against the customers that validated, so an invoice of a rejected or unknown
    customer is rejected too, naming the customer's row and reasons. An invoice whose amount or total
    is above ``max_invoice_amount`` is rejected. A file with a header but no data rows fails the run:
    the ERP's export is the whole ledger, never empty, so an empty one means the export job broke, and
    going on would make EnKash "match" a ledger we never saw.

    Example:
        >>> inputs = load_erp_inputs("erp/customers.csv", "erp/invoices.csv")  # doctest: +SKIP
    """
    key = _content_key(customers_file, invoices_file, customer_columns, invoice_columns, max_invoice_amount)
    if (known := _remembered(key)) is not None:
        return known
    customers = _not_empty(load_customers(customers_file, mapping=customer_columns))
    invoices = None
    if invoices_file is not None:
        invoices = _not_empty(
            load_invoices(
                invoices_file,
                customers=customers,
                mapping=invoice_columns,
                max_invoice_amount=max_invoice_amount,
            )
        )
    inputs = ErpInputs(customers=customers, invoices=invoices)
    _remember(key, inputs)
    return inputs


def _not_empty(result: LoadResult) -> LoadResult:
    if result.total_rows == 0:
        raise InputFileError(
            f"The {result.entity} file {result.file} has a header but no data rows; the ERP export "
            "probably stopped early: export it again. Nothing was sent to EnKash."
        )
    return result


@task(name="report-rejected-rows")
def report_rejected_rows(inputs: ErpInputs, out_dir: str, threshold: float) -> str:
    """Write ``rejected_rows.csv`` to ``out_dir``, then fail if too many rows were rejected.

    The report has one line per rejected record with every reason (:mod:`ar_sync.rejections`), its
    formula-like cells escaped. It is written first, so that the error can point the user at it.
    """
    path = write_rejected([r.rejected for r in inputs.results()], Path(out_dir) / REJECTED_ROWS_FILE)
    for result in inputs.results():
        check_rejection_threshold(
            result.total_rows,
            result.rejected_rows,
            threshold,
            entity=result.entity,
            file=result.file,
            rejected_path=path,
        )
    return str(path)


def rejected_input(inputs: ErpInputs, report: str) -> RejectedInput:
    """What the night's summary says about rejected rows: counts, the top reasons, where ``report`` is.

    Example:
        >>> rejected = rejected_input(inputs, "out/rejected_rows.csv")  # doctest: +SKIP
    """
    return RejectedInput.of(rejection_summary(inputs.results()), report)
