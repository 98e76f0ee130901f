"""The floor: the same API calls as nightly_ar_cycle, made with the client alone (no Prefect).

Same validation, the same reads of EnKash (as many as the flows make), the same planner, the same
exactly-once writes with the ledger, the same summary. What is left between this and the cycle's wall
time is what Prefect orchestration costs.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from ar_sync import exactly_once as eo
from ar_sync.erp_input import load_customers, load_invoices, write_rejected
from ar_sync.exactly_once import Night
from ar_sync.night_summary import NightSummary
from ar_sync.planner import (
    customer_id_map,
    invoices_to_dispatch,
    plan_customers,
    plan_invoices,
    planning_customers,
)
from ar_sync.receivables import credit_sales, open_invoices_frame
from ar_sync.reminder_policy import DEFAULT_SCHEDULE, ensure_reminders, on_schedule
from ar_sync.results import empty_results
from ar_sync.run_ledger import RunLedger
from ar_sync.summaries import build_night_summary
from enkash_ar.client import EnkashClient


def run_floor(
    client: EnkashClient,
    customers_file: Path,
    invoices_file: Path,
    as_of: date,
    out_dir: Path,
    ledger_path: Path,
) -> NightSummary:
    """One night with the client only; returns the summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    with RunLedger(ledger_path) as book:
        ledger = Night(book, client.seller_id, as_of.isoformat())
        client.warm_token()
        customers = load_customers(customers_file)
        invoices = load_invoices(
            invoices_file, known_customer_refs=customers.valid.get_column("customer_ref")
        )
        write_rejected([customers.rejected, invoices.rejected], out_dir / "rejected_rows.csv")

        plan = plan_customers(customers.valid, planning_customers(client.search_all_customers()))
        results += [eo.create_customers(client, ledger, c) for c in plan.to_create.iter_slices(5000)]
        results += [eo.update_customers(client, ledger, c) for c in plan.to_update.iter_slices(5000)]

        ids = customer_id_map(planning_customers(client.search_all_customers()))
        invoice_plan = plan_invoices(invoices.valid, ids, client.search_invoices_frame())
        results += [eo.upload_invoices(client, ledger, c) for c in invoice_plan.to_create.iter_slices(5000)]
        results += [eo.update_invoices(client, ledger, c) for c in invoice_plan.to_update.iter_slices(5000)]

        pending = invoices_to_dispatch(invoices.valid, client.search_invoices_frame({"dispatched": False}))
        results += [eo.dispatch_invoices(client, ledger, c) for c in pending.iter_slices(5000)]

        everyone = client.search_all_customers()
        off = [c for c in everyone if not on_schedule(c.customer_reminders, DEFAULT_SCHEDULE)]
        for start in range(0, len(off), 500):
            results.append(ensure_reminders(client, ledger, off[start : start + 500]))

        enkash_customers = planning_customers(client.search_all_customers())
        all_invoices = client.search_invoices_frame()
        return build_night_summary(
            pl.concat([empty_results(), *results]),
            open_invoices_frame(all_invoices, enkash_customers),
            as_of,
            seller_id=client.seller_id,
            customers_rejected=customers.rejected_rows,
            invoices_rejected=invoices.rejected_rows,
            credit_sales=credit_sales(all_invoices, as_of),
        )
