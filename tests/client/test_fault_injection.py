"""1,000 mixed operations against a misbehaving sandbox: reads stay correct, writes happen at most once.

The sandbox answers 20 % of requests with 500, 10 % with 429 (Retry-After), drops 5 % of answers
after doing the work, and its tokens live 2 seconds. Every read must return the truth; every write
must either be confirmed (and then exist exactly once in the sandbox) or be surfaced as
OutcomeUnknownError (and then exist zero or one time, never twice).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl
import pytest

from enkash_ar import CreateInvoiceRequest, EnkashClient, OutcomeUnknownError
from sandbox.config import FaultConfig
from sandbox.server import RunningSandbox, SandboxConfig, running_sandbox
from tests.client.client_helpers import client_for, customer_request, set_faults, state_of

SEED = 20250707
OPERATIONS = 1000
FAULTS = FaultConfig(error_500=0.20, error_429=0.10, drop=0.05, retry_after=1, seed=SEED)


@pytest.fixture(scope="module")
def faulty_sandbox() -> Iterator[RunningSandbox]:
    """A sandbox of its own: 2-second tokens and the faults above from the first request on."""
    with running_sandbox(SandboxConfig(token_ttl=2, seed=SEED, faults=FAULTS)) as running:
        yield running


@dataclass
class Ledger:
    """What the test believes happened, to be checked against the sandbox's state."""

    invoices: dict[str, str] = field(default_factory=dict)  # externalId -> "done" | "unknown"
    invoice_ids: dict[str, str] = field(default_factory=dict)  # externalId -> invoiceId (confirmed)
    descriptions: dict[str, str | None] = field(default_factory=dict)  # invoiceId -> last description
    dispatches: dict[str, str] = field(default_factory=dict)  # invoiceId -> "done" | "unknown"
    customers: dict[str, str] = field(default_factory=dict)  # uniqueRefNo -> "done" | "unknown"
    customer_ids: list[str] = field(default_factory=list)
    ops: Counter[str] = field(default_factory=Counter)


def _invoice(customer_id: str, external: str, rng: random.Random) -> CreateInvoiceRequest:
    return CreateInvoiceRequest(
        customer_id=customer_id,
        external_id=external,
        invoice_number=external,
        due_date=date(2025, 9, 1) + timedelta(days=rng.randrange(60)),
        base_amount=round(rng.uniform(100, 5000), 2),
    )


def _step(client: EnkashClient, ledger: Ledger, rng: random.Random, i: int) -> None:
    confirmed = list(ledger.invoice_ids.values())
    roll = rng.random()
    if roll < 0.05 or not ledger.customer_ids:
        ref = f"F-CUST-{i}"
        ledger.ops["createCustomer"] += 1
        try:
            made = client.create_customer(customer_request(unique_ref_no=ref))
        except OutcomeUnknownError:
            ledger.customers[ref] = "unknown"
            return
        ledger.customers[ref] = "done"
        assert made.customer_id and made.unique_ref_no == ref
        ledger.customer_ids.append(made.customer_id)
    elif roll < 0.25:
        external = f"F-INV-{i}"
        ledger.ops["createInvoice"] += 1
        try:
            inv = client.create_invoice(_invoice(rng.choice(ledger.customer_ids), external, rng))
        except OutcomeUnknownError:
            ledger.invoices[external] = "unknown"
            return
        assert inv.invoice_id and inv.external_id == external
        ledger.invoices[external] = "done"
        ledger.invoice_ids[external] = inv.invoice_id
        ledger.descriptions[inv.invoice_id] = None
    elif roll < 0.30:
        externals = [f"F-BULK-{i}-{k}" for k in range(5)]
        rows = pl.DataFrame(
            {
                "customerId": [rng.choice(ledger.customer_ids) for _ in externals],
                "externalId": externals,
                "invoiceNumber": externals,
                "dueDate": ["2025-10-01"] * 5,
                "baseAmount": [250.5] * 5,
            }
        )
        ledger.ops["invoiceBulkUpload"] += 1
        try:
            result = client.invoice_bulk_upload(rows)
        except OutcomeUnknownError:
            ledger.invoices.update(dict.fromkeys(externals, "unknown"))
            return
        assert (result.success_count, result.failure_count) == (5, 0)
        success, failure = client.bulk_results(result)
        assert failure.is_empty() and success["externalId"].to_list() == externals
        for external, invoice_id in zip(externals, success["invoiceId"].to_list(), strict=True):
            ledger.invoices[external] = "done"
            ledger.invoice_ids[external] = invoice_id
            ledger.descriptions[invoice_id] = None
    elif roll < 0.40 and confirmed:
        fresh = [x for x in confirmed if x not in ledger.dispatches]
        if not fresh:
            return
        target = rng.choice(fresh)
        ledger.ops["dispatchInvoiceCollection"] += 1
        try:
            outcome = client.dispatch_invoice_collection([target])
        except OutcomeUnknownError:
            ledger.dispatches[target] = "unknown"
            return
        assert [r.invoice_id for r in outcome.success_invoices] == [target]
        ledger.dispatches[target] = "done"
    elif roll < 0.55 and confirmed:
        target = rng.choice(confirmed)
        ledger.ops["updateInvoice"] += 1
        text = f"note {i}"
        updated = client.update_invoice(target, {"description": text})
        assert updated.description == text
        ledger.descriptions[target] = text
    elif roll < 0.80 and confirmed:
        target = rng.choice(confirmed)
        ledger.ops["getInvoice"] += 1
        got = client.get_invoice(target)
        assert got.invoice_id == target
        assert got.description == ledger.descriptions[target]
        assert ledger.invoice_ids[got.external_id or ""] == target
    elif roll < 0.95 and ledger.invoices:
        external = rng.choice(sorted(ledger.invoices))
        ledger.ops["searchCollectionInvoices"] += 1
        hits = client.search_collection_invoices({"externalIds": [external]})
        if ledger.invoices[external] == "done":
            assert [h.invoice_id for h in hits] == [ledger.invoice_ids[external]]
        else:
            assert len(hits) <= 1
    else:
        ledger.ops["searchCustomer"] += 1
        found = client.search_customer({"uniqueRefNos": list(ledger.customers)}, limit=5000)
        confirmed_refs = {r for r, s in ledger.customers.items() if s == "done"}
        assert confirmed_refs <= {c.unique_ref_no for c in found}


def test_thousand_operations_under_faults(faulty_sandbox: RunningSandbox) -> None:
    rng = random.Random(SEED)
    ledger = Ledger()
    started = time.monotonic()
    # Retry-After is honoured (1 s); a recording sleeper keeps the test fast. Enough retries that a
    # read failing every attempt (p ~ 0.35 ** 9) does not happen.
    with client_for(faulty_sandbox, max_retries=8, timeout=10.0) as client:
        for i in range(OPERATIONS):
            _step(client, ledger, rng, i)
            if i % 100 == 99 and i < OPERATIONS - 1:
                # Real time passes, so 2-second tokens expire mid-run (none after the last operation:
                # idle time at the end needs no token and would skew the renewal count below).
                time.sleep(0.5)
        sleeps = client._sleep.delays  # type: ignore[attr-defined]
    elapsed = time.monotonic() - started

    set_faults(faulty_sandbox, error_500=0.0, error_429=0.0, drop=0.0)
    state = state_of(faulty_sandbox)
    per_external = Counter(i["externalId"] for i in state["invoices"])
    per_ref = Counter(c["uniqueRefNo"] for c in state["customers"])
    dispatched = {i["invoiceId"]: i["dispatch_count"] for i in state["invoices"]}

    for external, status in ledger.invoices.items():
        assert per_external[external] == 1 if status == "done" else per_external[external] <= 1, external
    assert set(per_external) <= set(ledger.invoices)  # nothing was created that we did not ask for
    for ref, status in ledger.customers.items():
        assert per_ref[ref] == 1 if status == "done" else per_ref[ref] <= 1, ref
    for invoice_id, count in dispatched.items():
        expected = ledger.dispatches.get(invoice_id)
        assert count == 1 if expected == "done" else count <= (1 if expected == "unknown" else 0), invoice_id

    unknown = Counter(
        s for s in (*ledger.invoices.values(), *ledger.customers.values(), *ledger.dispatches.values())
    )
    faults = state["fault_counts"]
    assert sum(ledger.ops.values()) == OPERATIONS
    assert unknown["unknown"] > 0  # the run really met lost answers and 500s on writes
    assert sum(faults["error_500"].values()) > 100 and sum(faults["drop"].values()) > 20
    assert state["request_counts"]["getAuthenticationToken"] >= elapsed / 2  # 2-second tokens renewed
    assert 1.0 in sleeps  # Retry-After: 1 was honoured
    assert elapsed < 60, f"took {elapsed:.1f} s"
