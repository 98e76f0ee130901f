"""Load and validate the ERP export; write the rejected-rows report."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext, TaskRunContext

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
from ar_sync.validated_exports import (
    DEFAULT_CACHE_DIR,
    KEEP_DAYS,
    entry_folder,
    prune,
    read_validated,
    save_validated,
    scan_valid_rows,
    validation_key,
)


@dataclass(frozen=True)
class ErpInputs:
    """Tonight's validated ERP export: customers and invoices, valid rows and rejected cells."""

    customers: LoadResult
    invoices: LoadResult | None
    #: the folder :func:`validate_erp_export` kept them in (None: validated here, not kept)
    folder: str | None = None

    def results(self) -> list[LoadResult]:
        """The loaded files (customers, then invoices when they were loaded)."""
        return [self.customers] if self.invoices is None else [self.customers, self.invoices]

    def invoice_rows(self, fields: Sequence[str]) -> pl.LazyFrame:
        """``fields`` of the valid invoice rows (those they have) as a plan, read when it runs: over the
        kept file when the export was kept (only the columns and rows the plan needs are read), else
        over the rows held. A stage that reduces a large export to a few rows or a sum this way never
        holds the export's columns.

        Raises:
            InputFileError: the kept file is gone (cleared or pruned meanwhile): run the stage again.
        """
        if self.invoices is None:
            raise ValueError("no invoice file was loaded")
        if self.folder is None:
            return _only(self.invoices.valid, fields).lazy()
        try:
            return scan_valid_rows(self.folder, "invoices", fields)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise InputFileError(
                f"The validated invoice rows kept in {self.folder} could not be read ({exc}); they were "
                "cleared while this run used them: run it again (the export is validated again)."
            ) from exc

    def with_invoice_fields(self, fields: Sequence[str] | None) -> ErpInputs:
        """The same export with only ``fields`` of the valid invoice rows (those it has; all: None; none:
        ``()``, for a stage that reads them as a plan with :meth:`invoice_rows`).

        A selection shares the frame's buffers: it costs nothing, and the stage that asked sees exactly
        the columns it said it reads, whether they came from memory or from the kept files. An export
        validated in place (not kept: nothing to read again) keeps every column.
        """
        if fields is None or self.invoices is None or self.folder is None:
            return self
        return replace(self, invoices=replace(self.invoices, valid=_only(self.invoices.valid, fields)))


def _only(rows: pl.DataFrame, fields: Sequence[str]) -> pl.DataFrame:
    """``fields`` of ``rows``, those it has (a selection: the frame's own buffers)."""
    return rows.select([c for c in fields if c in rows.columns])


# Loading is pure preparation, so it is safe to reuse, at two levels:
# - in process memory: nightly_ar_cycle loads the export once and its stage subflows, in the same
#   process, get the same validated frames back (after the upload, a large export's invoice rows are
#   read again from the kept files, only the columns a stage names: let_go_of_invoice_rows);
# - across runs (a retried night, the same files again): the validated frames are kept as files the
#   project owns (ar_sync.validated_exports) and the Prefect task that wrote them is cached by what it
#   validated, so a retry shows a cache hit in the UI. Prefect's result storage only holds the folder's
#   path: never the customers' names, phones or GSTINs.
_memo_lock = threading.Lock()
_memo: dict[str, _Loaded] = {}


@dataclass(frozen=True)
class _Loaded:
    """One export this process loaded: its frames, or only where they are kept once let go of."""

    #: the validated export, or None once its invoice rows were let go of (:func:`let_go_of_invoice_rows`)
    inputs: ErpInputs | None
    #: where the validation kept it: what is read again, column by column, once let go of
    folder: str | None


# The task reaches the memo only through these functions: Prefect's runner pickles a served flow with
# cloudpickle, which copies the objects a task's code names (a lock cannot be copied) but refers to
# importable functions by name.
def _remembered(key: str | None, invoice_fields: Sequence[str] | None = None) -> ErpInputs | None:
    """The export loaded under ``key`` with ``invoice_fields`` of its invoice rows, or None.

    Once its invoice rows were let go of, they are read again from the kept files, only those fields;
    None when the files are gone (the caller validates again).
    """
    with _memo_lock:
        loaded = _memo.get(key) if key is not None else None
    if loaded is None:
        return None
    if loaded.inputs is not None:
        return loaded.inputs.with_invoice_fields(invoice_fields)
    if loaded.folder is None:
        return None
    return _kept(loaded.folder, invoice_fields)


def _kept(folder: str, invoice_fields: Sequence[str] | None) -> ErpInputs | None:
    fields = None if invoice_fields is None else {"invoices": tuple(invoice_fields)}
    results = read_validated(folder, valid_columns=fields)
    if results is None:
        return None
    return ErpInputs(customers=results[0], invoices=results[1] if len(results) > 1 else None, folder=folder)


def _remember(
    key: str | None, inputs: ErpInputs, customers_key: str | None = None, *, rows_held: bool = True
) -> None:
    """Keep ``inputs`` under ``key``, and their customers alone under ``customers_key`` (what a stage that
    reads only the customer file asks for: the same rows, validated the same way). ``rows_held=False``
    (``inputs`` hold some columns of the invoice rows): keep where they are kept, not the rows."""
    if key is None or (not rows_held and inputs.folder is None):
        return
    with _memo_lock:
        _memo.clear()  # one export at a time: a night's files, not a growing cache
        _memo[key] = _Loaded(inputs if rows_held else None, inputs.folder)
        if customers_key is not None and inputs.invoices is not None:
            _memo[customers_key] = _Loaded(ErpInputs(customers=inputs.customers, invoices=None), None)


#: Below this many valid invoice rows an export stays held after the upload: ~60 MiB in the process,
#: which reading the later stages' columns back would not repay (~0.1 s per night at 100,000).
LET_GO_ROWS: Final = 250_000


def let_go_of_invoice_rows(at_least: int = LET_GO_ROWS) -> None:
    """Let go of the invoice rows of the export this process loaded when there are ``at_least`` of them,
    keeping where they are kept: a later stage reads again, from the validated files, only the columns
    it reads (``invoice_fields``), without a task run. At a million invoices the whole export is ~250
    MiB of the process; the keys dispatch reads, ~50. An export validated in place (not kept) is held
    as it is."""
    with _memo_lock:
        for key, loaded in list(_memo.items()):
            held = loaded.inputs
            if (
                held is not None
                and held.invoices is not None
                and held.invoices.valid.height >= at_least
                and loaded.folder is not None
            ):
                _memo[key] = _Loaded(None, loaded.folder)


def forget_loaded_inputs() -> None:
    """Let go of the export this process loaded (its frames are the night's largest after the picture):
    a later load reads the validated files again, a cache hit."""
    with _memo_lock:
        _memo.clear()


def loaded_before(
    parameters: Mapping[str, Any], invoice_fields: Sequence[str] | None = None
) -> ErpInputs | None:
    """The export as this process already loaded it, or None; ``parameters`` are those of
    :func:`load_erp_inputs` (same files, same content, same mappings and ceiling), ``invoice_fields``
    the columns of the valid invoice rows wanted (all: None).

    Inside nightly_ar_cycle the stages take the cycle's validated export from here instead of running a
    ``load-erp-inputs`` task of their own each; a changed file has another key and is loaded again.
    """
    return _remembered(_key(parameters), invoice_fields)


def _key(parameters: Mapping[str, Any]) -> str | None:
    return validation_key(
        [parameters["customers_file"], parameters.get("invoices_file")],
        parameters.get("customer_columns"),
        parameters.get("invoice_columns"),
        parameters.get("max_invoice_amount", DEFAULT_MAX_INVOICE_AMOUNT),
    )


def validation_cache_key(_: TaskRunContext, parameters: dict[str, Any]) -> str | None:
    """The Prefect cache key of a validation: ``erp-validation-<content key>`` (None: do not cache)."""
    key = _key(parameters)
    return None if key is None else f"erp-validation-{key}-{_cache_dir_id(parameters.get('cache_dir'))}"


def _cache_dir_id(cache_dir: str | None) -> str:
    resolved = str(Path(cache_dir or DEFAULT_CACHE_DIR).resolve())
    return hashlib.blake2b(resolved.encode(), digest_size=4).hexdigest()


def _validation_run_name() -> str:
    from prefect.runtime import task_run

    key = _key(task_run.parameters)
    return f"validate-erp-export-{key[:12] if key else 'unreadable'}"


@task(
    name="validate-erp-export",
    task_run_name=_validation_run_name,
    cache_key_fn=validation_cache_key,
    cache_expiration=timedelta(days=KEEP_DAYS),
    persist_result=True,
    result_serializer="json",
)
def validate_erp_export(
    customers_file: str,
    invoices_file: str | None,
    customer_columns: Mapping[str, str] | None = None,
    invoice_columns: Mapping[str, str] | None = None,
    max_invoice_amount: Decimal = DEFAULT_MAX_INVOICE_AMOUNT,
    cache_dir: str | None = None,
) -> str:
    """Validate the export and keep the result as files under ``cache_dir``; returns their folder.

    Cached by the files' content and names, the column mappings and the ceiling: the same export again
    (a retried night) is a cache hit and is not validated again.

    Example:
        >>> folder = validate_erp_export("erp/customers.csv", "erp/invoices.csv")  # doctest: +SKIP
    """
    inputs = _validate(customers_file, invoices_file, customer_columns, invoice_columns, max_invoice_amount)
    key = validation_key(
        [customers_file, invoices_file], customer_columns, invoice_columns, max_invoice_amount
    )
    root = cache_dir or str(DEFAULT_CACHE_DIR)
    prune(root)
    return str(save_validated(entry_folder(root, key or "unkeyed").resolve(), inputs.results()))


def _validate(
    customers_file: str,
    invoices_file: str | None,
    customer_columns: Mapping[str, str] | None,
    invoice_columns: Mapping[str, str] | None,
    max_invoice_amount: Decimal,
) -> ErpInputs:
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
    return ErpInputs(customers=customers, invoices=invoices)


@task(name="load-erp-inputs", cache_policy=NO_CACHE)
def load_erp_inputs(
    customers_file: str,
    invoices_file: str | None,
    customer_columns: Mapping[str, str] | None = None,
    invoice_columns: Mapping[str, str] | None = None,
    max_invoice_amount: Decimal = DEFAULT_MAX_INVOICE_AMOUNT,
    cache_dir: str | None = None,
    invoice_fields: Sequence[str] | None = None,
) -> ErpInputs:
    """Load and validate the customer and invoice files of the ERP export.

    Invoices are checked against the customers that validated, so an invoice of a rejected or unknown
    customer is rejected too, naming the customer's row and reasons. An invoice whose amount or total
    is above ``max_invoice_amount`` is rejected. A file with a header but no data rows fails the run:
    the ERP's export is the whole ledger, never empty, so an empty one means the export job broke, and
    going on would make EnKash "match" a ledger we never saw.

    The validation itself is :func:`validate_erp_export` (cached by content, its result kept under
    ``cache_dir``); this task reads its files back, once per process. With ``invoice_fields``, only those
    columns of the valid invoice rows are read (and returned): a stage that reads a few columns of a
    large export holds only those.

    Example:
        >>> inputs = load_erp_inputs("erp/customers.csv", "erp/invoices.csv")  # doctest: +SKIP
    """
    key = validation_key(
        [customers_file, invoices_file], customer_columns, invoice_columns, max_invoice_amount
    )
    if (known := _remembered(key, invoice_fields)) is not None:
        return known
    if key is None:
        # A file cannot be read: the loader says which, with its name.
        return _validate(
            customers_file, invoices_file, customer_columns, invoice_columns, max_invoice_amount
        ).with_invoice_fields(invoice_fields)
    arguments = (
        customers_file,
        invoices_file,
        customer_columns,
        invoice_columns,
        max_invoice_amount,
        cache_dir,
    )
    if FlowRunContext.get() is None and TaskRunContext.get() is None:
        # Called as a plain function (``load_erp_inputs.fn``): no Prefect cache to consult.
        folder = validate_erp_export.fn(*arguments)
        inputs = _kept(folder, invoice_fields)
    else:
        folder = validate_erp_export(*arguments)
        if (inputs := _kept(folder, invoice_fields)) is None:
            # The kept files were cleared (or are incomplete) although Prefect remembers them: again.
            folder = validate_erp_export.with_options(refresh_cache=True)(*arguments)
            inputs = _kept(folder, invoice_fields)
    if inputs is None:
        raise InputFileError(
            f"The validated export could not be kept under {cache_dir or DEFAULT_CACHE_DIR}: check that the "
            "folder can be written (options.cache_dir)."
        )
    alone = validation_key([customers_file, None], customer_columns, invoice_columns, max_invoice_amount)
    _remember(key, inputs, alone, rows_held=invoice_fields is None)
    return inputs


def _not_empty(result: LoadResult) -> LoadResult:
    if result.total_rows == 0:
        raise InputFileError(
            f"The {result.entity} file {result.file} has a header but no data rows; the ERP export "
            "probably stopped early: export it again. Nothing was sent to EnKash."
        )
    return result


@task(name="report-rejected-rows", cache_policy=NO_CACHE)
def report_rejected_rows(inputs: ErpInputs, out_dir: str, threshold: float) -> str:
    """Write ``rejected_rows.csv`` to ``out_dir``, then fail if too many rows were rejected.

    The report has one line per rejected record with every reason (:mod:`ar_sync.rejections`), its
    formula-like cells escaped. It is written first, so that the error can point the user at it.
    Never cached: every run writes its own report, and Prefect's default key would pickle the whole
    validated export to hash it (seconds and a copy of the frames at a million rows).
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
