"""One picture of EnKash per night: the nightly cycle reads customers and invoices once, not per stage;
its concurrent writes go through one concurrency limit per EnKash host.

Counted with the sandbox's request counters: a night's reads are compared with what one full read of
each search costs against the same sandbox (a fresh client, so it probes the offsets as the cycle's
client does).
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from prefect.client.orchestration import get_client

import tasks.night_picture
from enkash_ar.client import EnkashClient
from enkash_ar.settings import EnkashSettings
from flows.options import CycleOptions
from sandbox.routes import WRITE_OPERATIONS
from sandbox.sample_data import mutate_erp_files
from tasks.host_limit import host_limit_name
from tests.flows.night_helpers import delta, night_requests

SEARCHES = ("searchCustomer", "searchCollectionInvoices")


def _one_full_read(counts: Any) -> dict[str, int]:
    before = counts()
    with EnkashClient.from_settings(EnkashSettings()) as client:
        client.search_all_customers()
        client.search_invoices_frame()
    return delta(counts(), before)


def test_a_night_reads_enkash_once_and_a_quiet_night_writes_and_reads_nothing_more(
    enkash_env: Any, sandbox_state: Any, as_of: date, erp_files: tuple[Path, Path], tmp_path: Path
) -> None:
    customers_file, invoices_file = erp_files
    options = CycleOptions(
        out_dir=str(tmp_path / "out"),
        ledger_path=str(tmp_path / "ledger.sqlite3"),
        chunk_size=64,
        host_limit=True,
    )

    def counts() -> dict[str, int]:
        return dict(sandbox_state(summary=True)["request_counts"])

    first = night_requests(customers_file, invoices_file, options, as_of, counts)
    quiet = night_requests(customers_file, invoices_file, options, as_of, counts)
    full = _one_full_read(counts)
    print("first night:", dict(sorted(first.items())))
    print("quiet night:", dict(sorted(quiet.items())))
    print("one full read:", dict(sorted(full.items())))

    # The first night: customers read once to plan, and once more after creating them all (their
    # reminders are EnKash's to decide) instead of one reminder read per new customer; invoices once at
    # the start, and once more only for the undispatched ones it uploaded (EnKash decides their ids'
    # status, which the night must check).
    assert first["searchCustomer"] <= 2 * full["searchCustomer"]
    assert first.get("getCustomerReminders", 0) == 0 and first["createCustomerReminder"] > 0
    assert first["searchCollectionInvoices"] <= 2 * full["searchCollectionInvoices"]
    # A quiet night: one picture, nothing written, nothing re-read. It starts from the last night's read
    # (ar_sync.kept_reads): every owed invoice (here all of them, as many pages as a read of every
    # invoice) and one search of invoices created since with nothing owed (the shipped profile's
    # searches carry no count to check the picture against); none read one by one.
    assert quiet["searchCustomer"] == full["searchCustomer"]
    assert quiet["searchCollectionInvoices"] == full["searchCollectionInvoices"] + 1
    assert quiet.get("getInvoice", 0) == 0
    assert {op: n for op, n in quiet.items() if op in WRITE_OPERATIONS and n} == {}
    # The night's writes went through one concurrency limit for the sandbox's host, sized by the options.
    limit = asyncio.run(_host_limit(host_limit_name(enkash_env.base_url)))
    assert (limit.limit, limit.active_slots) == (options.host_concurrency, 0)


async def _host_limit(name: str) -> Any:
    async with get_client() as client:
        return await client.read_global_concurrency_limit_by_name(name)


def test_a_night_that_creates_a_few_customers_reads_their_reminders_not_every_customer(
    enkash_env: Any, sandbox_state: Any, as_of: date, erp_files: tuple[Path, Path], tmp_path: Path
) -> None:
    options = CycleOptions(out_dir=str(tmp_path / "out"), ledger_path=str(tmp_path / "ledger.sqlite3"))

    def counts() -> dict[str, int]:
        return dict(sandbox_state(summary=True)["request_counts"])

    night_requests(*erp_files, options, as_of, counts)
    next_customers, next_invoices = mutate_erp_files(
        *erp_files, tmp_path / "next", as_of=as_of, changed_fraction=0.0, new_fraction=0.1
    )
    known = set(pl.read_csv(erp_files[0], infer_schema=False)["customer_ref"])
    added = set(pl.read_csv(next_customers, infer_schema=False)["customer_ref"]) - known
    # Few on both of tasks.night_picture's counts: per page of customers, and as a share of them.
    assert 0 < len(added) * tasks.night_picture.REMINDER_READS_SHARE <= len(known | added)
    assert len(added) <= tasks.night_picture.REMINDER_READS_PER_PAGE

    second = night_requests(next_customers, next_invoices, options, as_of, counts)
    full = _one_full_read(counts)

    # Customers read once for the picture; the new ones' reminders read one by one, then set.
    assert second["searchCustomer"] == full["searchCustomer"]
    assert second["getCustomerReminders"] == len(added)
    assert second["createCustomerReminder"] == len(added) * len(options.reminder_schedule)
    held = {c["uniqueRefNo"]: c["customerId"] for c in sandbox_state()["customers"]}
    reminders = {r["customerId"] for r in sandbox_state()["reminders"] if not r.get("deleted")}
    assert {held[ref] for ref in added} <= reminders
