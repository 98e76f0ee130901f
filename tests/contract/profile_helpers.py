"""Helpers of the contract tests: one sandbox per contract profile, and a small account to read.

The sandboxes live for the session (one per profile, started on first use) and are reset by
``reset``; the data a test needs is written by ``seed`` through a client of the matching profile.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import polars as pl

from enkash_ar import EnkashClient
from enkash_ar.alternative_profiles import ALTERNATIVES, SHIPPED_NAME, named_profile
from enkash_ar.contract import ReceivableStatus
from enkash_ar.settings import EnkashSettings
from sandbox.server import RunningSandbox, SandboxConfig, running_sandbox
from tests.client.client_helpers import client_for
from tests.loopback import http

#: Every alternative profile's name (the shipped one is tested everywhere else).
ALTERNATIVE_NAMES = list(ALTERNATIVES)
#: More customers and invoices than a capped page holds, so that paging needs a second page.
CUSTOMERS = 57
INVOICES = 53


class ProfileSandboxes:
    """Sandboxes by profile name, started on first use and stopped with the session."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._running: dict[str, RunningSandbox] = {}

    def __call__(self, name: str) -> RunningSandbox:
        """The sandbox playing ``name``, emptied."""
        if name not in self._running:
            profile = named_profile(name)
            assert profile is not None, name
            self._running[name] = self._stack.enter_context(running_sandbox(SandboxConfig(profile=profile)))
        running = self._running[name]
        http.post(f"{running.base_url}/_sandbox/reset", timeout=30).raise_for_status()
        return running

    def close(self) -> None:
        """Stop every sandbox."""
        self._stack.close()


def sandboxes() -> Iterator[ProfileSandboxes]:
    """The body of the session fixture."""
    running = ProfileSandboxes()
    try:
        yield running
    finally:
        running.close()


def profile_client(sandbox: RunningSandbox, name: str = SHIPPED_NAME, **options: Any) -> EnkashClient:
    """A client of ``sandbox`` that assumes the profile ``name``."""
    return client_for(sandbox, profile=named_profile(name), **options)


def settings_for(sandbox: RunningSandbox, profile: str | None = None) -> EnkashSettings:
    """The connection settings of ``sandbox`` (as the ENKASH_* variables would give them)."""
    env = sandbox.enkash_env()
    return EnkashSettings(
        base_url=env["ENKASH_BASE_URL"],
        client_id=env["ENKASH_CLIENT_ID"],
        client_secret=env["ENKASH_CLIENT_SECRET"],
        username=env["ENKASH_USERNAME"],
        password=env["ENKASH_PASSWORD"],
        seller_id=env["ENKASH_SELLER_ID"],
        contract_profile=profile,
    )


def customer_rows(count: int, *, bad_last: bool = False) -> pl.DataFrame:
    """createBulkCustomer rows; the last one with an invalid mobile when ``bad_last``."""
    mobiles = ["9876543210"] * count
    if bad_last:
        mobiles[-1] = "12345"
    return pl.DataFrame(
        {
            "legalName": [f"Customer {i:03d} Pvt Ltd" for i in range(count)],
            "uniqueRefNo": [f"C-{i:03d}" for i in range(count)],
            "customerKeyContacts.name": ["Asha Rao"] * count,
            "customerKeyContacts.legalName": ["Asha Rao"] * count,
            "customerKeyContacts.mobile": mobiles,
        }
    )


def invoice_rows(customer_ids: list[str]) -> pl.DataFrame:
    """invoiceBulkUpload rows, one per customer id."""
    count = len(customer_ids)
    return pl.DataFrame(
        {
            "customerId": customer_ids,
            "externalId": [f"INV-{i:03d}" for i in range(count)],
            "dueDate": ["2030-01-31"] * count,
            "baseAmount": [1000.0 + i for i in range(count)],
        }
    )


@dataclass(frozen=True)
class Seeded:
    """What ``seed`` wrote: ids, and the URLs of the result files of its two uploads."""

    customer_ids: list[str]
    invoice_ids: list[str]
    result_files: list[str]


def seed(client: EnkashClient) -> Seeded:
    """An account with more records than a capped page, one reminder, invoices in every receivable state.

    Written through ``client``, whose profile must match the sandbox's. The customer upload has one
    invalid row, so that both result files of it hold a row.
    """
    customers = client.create_bulk_customer(customer_rows(CUSTOMERS + 1, bad_last=True))
    created, _ = client.bulk_results(customers)
    customer_ids = created.get_column("customerId").to_list()
    client.create_customer_reminder(
        customer_ids[0], {"due_date_difference": -3, "reminder_type": "ONCE", "reminder_time": "10:00"}
    )
    invoices = client.invoice_bulk_upload(invoice_rows(customer_ids[:INVOICES]))
    uploaded, _ = client.bulk_results(invoices)
    invoice_ids = uploaded.get_column("invoiceId").to_list()
    # The first invoices (first in createdOn order, so inside a capped first page) leave UNPAID.
    for invoice_id, status in zip(
        invoice_ids,
        (ReceivableStatus.PAID, ReceivableStatus.PARTIALLY_PAID, ReceivableStatus.CANCELLED),
        strict=False,
    ):
        client.change_invoice_status_request(
            {"invoice_ids": [invoice_id], "remarks": "test", "status": status}
        )
    urls = [
        u
        for u in (
            customers.success_file_url,
            customers.failure_file_url,
            invoices.success_file_url,
            invoices.failure_file_url,
        )
        if u
    ]
    return Seeded(customer_ids, invoice_ids, urls)


def state(sandbox: RunningSandbox) -> dict[str, Any]:
    """GET /_sandbox/state (records and request counts)."""
    response = http.get(f"{sandbox.base_url}/_sandbox/state", timeout=30)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body
