"""The physical floors: what an expert's script with the same client must do in a night, and no more.

Three nights, each a function over an ``EnkashClient`` and the ERP files, timed per phase:

- :func:`first_night` (S1, reminders): the night that finds EnKash empty. One customer bulk file, one
  customer read (ids and reminders), the invoice bulk files, one read of the undispatched invoices,
  the dispatch batches, the reminder schedule ``workers`` customers at a time, one final read of the
  open invoices.
- :func:`quiet_night` (S3): what a night on unchanged files cannot avoid. Load and validate the ERP
  files, one read of all invoices (aging and payments), one read of customers.
- :func:`delta_night` (S3 with changes): the quiet night plus the writes the changed and new rows need
  (bulk create and bulk update of customers, upload, patches and dispatch of invoices, reminders of the
  new customers), using the bulk result files for the new ids instead of reading again.

The engine is used only where it is pure computation (ERP validation, the planner's diffs, the bulk
row builders, the reminder schedule's comparison): no ledger, no Prefect, no re-read. The floors do
not produce the night's reports; producing them is computation the cycle adds on top (measured as part
of its stages, see BENCHMARKS.md).

Each night also runs as its own process, printing one JSON line (seconds per phase, peak RSS):
``python -m bench.physical_floor {first,quiet,delta} CUSTOMERS INVOICES`` with ``ENKASH_*`` set.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import polars as pl

from ar_sync.erp_input import LoadResult, load_customers, load_invoices
from ar_sync.planner import (
    customer_bulk_rows,
    customer_id_map,
    invoices_to_dispatch,
    plan_customers,
    plan_invoices,
    planning_customers,
)
from ar_sync.reminder_policy import DEFAULT_SCHEDULE, ReminderRule, changes_needed
from bench.phases import Phases
from enkash_ar.client import EnkashClient
from enkash_ar.contract import OPEN_RECEIVABLE_STATUSES
from enkash_ar.frames import INVOICE_SCHEMA
from enkash_ar.models import Customer

#: Rows per bulk file and per dispatch batch: the cycle's default ``chunk_size``.
CHUNK: Final = 5000
_ID_SCHEMA: Final = {"customer_ref": pl.String, "customerId": pl.String}
#: Customers brought on schedule at once (issue 14 fixes 8 for the floor and the cycle alike).
REMINDER_WORKERS: Final = 8


@dataclass(frozen=True)
class ErpFiles:
    """The night's ERP export."""

    customers: Path
    invoices: Path


def _start(client: EnkashClient, files: ErpFiles, phases: Phases) -> tuple[LoadResult, LoadResult]:
    """What every night starts with: a token, and the ERP files loaded and validated."""
    with phases.phase("token"):
        client.warm_token()
    with phases.phase("load"):
        customers = load_customers(files.customers)
        invoices = load_invoices(files.invoices, customers=customers)
    return customers, invoices


def _remind(
    client: EnkashClient, customers: Sequence[Customer], schedule: Sequence[ReminderRule], workers: int
) -> int:
    """Create the missing rules of each customer, ``workers`` customers at a time; calls made."""

    def one(customer: Customer) -> int:
        missing = changes_needed(customer.customer_reminders, schedule).create
        for rule in missing:
            client.create_customer_reminder(str(customer.customer_id), rule.body())
        return len(missing)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(one, [c for c in customers if c.customer_id]))


def _upload(client: EnkashClient, rows: pl.DataFrame) -> pl.DataFrame:
    """Upload invoice rows in bulk files; the success rows (``invoiceId``, ``externalId``)."""
    done = []
    for chunk in rows.iter_slices(CHUNK):
        success, _ = client.bulk_results(client.invoice_bulk_upload(chunk))
        done.append(success.select(pl.col("invoiceId").cast(pl.String)))
    return pl.concat(done) if done else pl.DataFrame(schema={"invoiceId": pl.String})


def _created_ids(client: EnkashClient, rows: pl.DataFrame) -> pl.DataFrame:
    """Bulk-create customer rows; ``customer_ref`` -> ``customerId`` of those created (result file)."""
    success, _ = client.bulk_results(client.create_bulk_customer(rows))
    rows_sent = success["rowNumber"].cast(pl.Int64) - 1
    return pl.DataFrame(
        {
            "customer_ref": rows["uniqueRefNo"].cast(pl.String).gather(rows_sent),
            "customerId": success["customerId"].cast(pl.String),
        }
    )


def _patch(row: dict[str, Any]) -> dict[str, Any]:
    """The updateInvoice body of a planned change: the ERP's values, empty cells left out."""
    skip = ("invoiceId", "externalId")
    return {
        k: v.isoformat() if hasattr(v, "isoformat") else v
        for k, v in row.items()
        if k not in skip and v is not None
    }


def _dispatch(client: EnkashClient, invoice_ids: list[str]) -> None:
    for start in range(0, len(invoice_ids), CHUNK):
        client.dispatch_invoice_collection(invoice_ids[start : start + CHUNK])


def first_night(client: EnkashClient, files: ErpFiles, workers: int = REMINDER_WORKERS) -> Phases:
    """The first night against an empty EnKash, with only the calls it needs (see the module doc)."""
    phases = Phases()
    customers, invoices = _start(client, files, phases)
    with phases.phase("customers"):
        for chunk in customer_bulk_rows(customers.valid).iter_slices(CHUNK):
            client.create_bulk_customer(chunk)
        enkash_customers = client.search_all_customers()
    with phases.phase("invoices_upload"):
        ids = customer_id_map(planning_customers(enkash_customers))
        plan = plan_invoices(invoices.valid, ids, pl.DataFrame(schema=INVOICE_SCHEMA))
        for chunk in plan.to_create.iter_slices(CHUNK):
            client.invoice_bulk_upload(chunk)
    with phases.phase("dispatch"):
        undispatched = client.search_invoices_frame({"dispatched": False})
        _dispatch(client, invoices_to_dispatch(invoices.valid, undispatched, ids)["invoiceId"].to_list())
    with phases.phase("reminders"):
        _remind(client, enkash_customers, DEFAULT_SCHEDULE, workers)
    with phases.phase("final_read"):
        open_statuses = sorted(s.value for s in OPEN_RECEIVABLE_STATUSES)
        client.search_invoices_frame({"receivableStatuses": open_statuses})
    return phases


def quiet_night(client: EnkashClient, files: ErpFiles, workers: int = REMINDER_WORKERS) -> Phases:
    """A night on files EnKash already matches: load, one read of invoices, one of customers."""
    phases = Phases()
    _start(client, files, phases)
    with phases.phase("read_invoices"):
        client.search_invoices_frame()
    with phases.phase("read_customers"):
        client.search_all_customers()
    return phases


def delta_night(client: EnkashClient, files: ErpFiles, workers: int = REMINDER_WORKERS) -> Phases:
    """The quiet night plus the writes of the changed and new rows (new ids from the result files)."""
    phases = Phases()
    customers, invoices = _start(client, files, phases)
    with phases.phase("read_invoices"):
        enkash_invoices = client.search_invoices_frame()
    with phases.phase("read_customers"):
        enkash_customers = client.search_all_customers()
    with phases.phase("customers"):
        known = planning_customers(enkash_customers)
        plan = plan_customers(customers.valid, known)
        created = [_created_ids(client, chunk) for chunk in plan.to_create.iter_slices(CHUNK)]
        for chunk in plan.to_update.iter_slices(CHUNK):
            client.bulk_update(chunk)
        new = pl.concat(created) if created else pl.DataFrame(schema=_ID_SCHEMA)
        ids = pl.concat([customer_id_map(known).select(list(_ID_SCHEMA)), new])
    with phases.phase("invoices_upload"):
        invoice_plan = plan_invoices(invoices.valid, ids, enkash_invoices)
        uploaded = _upload(client, invoice_plan.to_create)
        for row in invoice_plan.to_update.iter_rows(named=True):
            client.update_invoice(str(row["invoiceId"]), _patch(row))
    with phases.phase("dispatch"):
        _dispatch(client, uploaded["invoiceId"].to_list())
    with phases.phase("reminders"):
        fresh = [Customer(customer_id=i) for i in new["customerId"].to_list()]
        _remind(client, fresh, DEFAULT_SCHEDULE, workers)
    return phases


NIGHTS: Final = {"first": first_night, "quiet": quiet_night, "delta": delta_night}


def main() -> None:
    """Run one floor night in this process and print ``{"seconds", "phases", "peak_rss_mib"}``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("night", choices=sorted(NIGHTS))
    parser.add_argument("customers", type=Path)
    parser.add_argument("invoices", type=Path)
    args = parser.parse_args()
    start = time.perf_counter()
    with EnkashClient.from_settings() as client:
        phases: Phases = NIGHTS[args.night](client, ErpFiles(args.customers, args.invoices))
    result: dict[str, Any] = {
        "seconds": round(time.perf_counter() - start, 3),
        "phases": phases.rounded(),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
