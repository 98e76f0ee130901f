"""Fixtures of the exactly-once tests: a 5k-invoice ERP export and the exactly-once check of EnKash.

The check reads the sandbox's own records (``/_sandbox/state``), i.e. what a finance-ops user would
see on the EnKash portal: one customer per valid ``customer_ref``, one invoice per valid
``invoice_number``, each dispatched exactly once, and every customer with the default reminder schedule
exactly once. Nothing else is counted (how many calls it took does not matter to the user).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from ar_sync.erp_input import load_customers, load_invoices
from ar_sync.reminder_policy import DEFAULT_SCHEDULE
from sandbox.sample_data import generate_erp_files
from sandbox.server import RunningSandbox

AS_OF = date(2026, 11, 24)
#: The size of the night every exactly-once test runs: 5 bulk files of 1,000 invoices and 5 dispatch
#: calls. Reminders are set one customer at a time (4 calls each), so the customer count is what
#: drives the wall time under latency and backoff; 200 keep each case well under a minute.
CUSTOMERS, INVOICES = 200, 5000


@dataclass(frozen=True)
class ErpExport:
    """An ERP export on disk and the rows of it that validate (what EnKash must end up holding)."""

    customers_file: Path
    invoices_file: Path
    customer_refs: frozenset[str]
    invoice_numbers: frozenset[str]


@pytest.fixture(scope="session")
def erp_5k(tmp_path_factory: pytest.TempPathFactory) -> ErpExport:
    """200 customers and 5,000 invoices (with the generator's few bad rows), written once per session."""
    folder = tmp_path_factory.mktemp("erp-5k")
    customers_file, invoices_file = generate_erp_files(
        folder, customers=CUSTOMERS, invoices=INVOICES, seed=5, as_of=AS_OF
    )
    customers = load_customers(customers_file)
    refs = customers.valid.get_column("customer_ref")
    invoices = load_invoices(invoices_file, known_customer_refs=refs)
    return ErpExport(
        customers_file=customers_file,
        invoices_file=invoices_file,
        customer_refs=frozenset(refs.to_list()),
        invoice_numbers=frozenset(invoices.valid.get_column("invoice_number").to_list()),
    )


def _set_faults(sandbox: RunningSandbox, **faults: Any) -> None:
    httpx.post(f"{sandbox.base_url}/_sandbox/faults", json=faults, timeout=10).raise_for_status()


@pytest.fixture
def as_of() -> date:
    """The run date of every exactly-once night."""
    return AS_OF


@pytest.fixture
def set_faults(sandbox: RunningSandbox) -> Callable[..., None]:
    """Change the (reset) sandbox's fault settings at runtime: ``set_faults(drop=0.2, seed=1)``."""
    return lambda **faults: _set_faults(sandbox, **faults)


def exactly_once_problems(state: dict[str, Any], export: ErpExport) -> list[str]:
    """What keeps EnKash from holding the export exactly once (empty when it does)."""
    problems: list[str] = []
    customers = [c for c in state["customers"] if not c["deleted"]]
    per_ref = Counter(c["uniqueRefNo"] for c in customers)
    if missing := export.customer_refs - set(per_ref):
        problems.append(f"{len(missing)} customers missing, e.g. {sorted(missing)[:5]}")
    if extra := set(per_ref) - export.customer_refs:
        problems.append(f"{len(extra)} customers EnKash should not hold, e.g. {sorted(extra)[:5]}")
    if twice := {ref: n for ref, n in per_ref.items() if n > 1}:
        problems.append(f"{len(twice)} customer refs created more than once, e.g. {list(twice.items())[:5]}")

    invoices = [i for i in state["invoices"] if not i["deleted"]]
    per_number = Counter(i["externalId"] for i in invoices)
    if missing := export.invoice_numbers - set(per_number):
        problems.append(f"{len(missing)} invoices missing, e.g. {sorted(missing)[:5]}")
    if extra := set(per_number) - export.invoice_numbers:
        problems.append(f"{len(extra)} invoices EnKash should not hold, e.g. {sorted(extra)[:5]}")
    if twice := {n: c for n, c in per_number.items() if c > 1}:
        problems.append(f"{len(twice)} invoice numbers uploaded twice+, e.g. {list(twice.items())[:5]}")
    dispatches = Counter(i["dispatch_count"] for i in invoices)
    if set(dispatches) - {1}:
        problems.append(f"invoices by number of dispatches (want all 1): {dict(dispatches)}")

    wanted = {rule.stage for rule in DEFAULT_SCHEDULE}
    ref_of = {c["customerId"]: c["uniqueRefNo"] for c in customers}
    stages: dict[str, Counter[str]] = {ref: Counter() for ref in ref_of.values()}
    for reminder in state["reminders"]:
        ref = ref_of.get(reminder.get("customerId"))
        if ref is not None and not reminder.get("deleted"):
            stages[ref][reminder.get("stage")] += 1
    off = {ref: dict(c) for ref, c in stages.items() if set(c) != wanted or set(c.values()) != {1}}
    if off:
        problems.append(f"{len(off)} customers off the default reminders, e.g. {list(off.items())[:3]}")
    return problems


@pytest.fixture
def check_exactly_once(
    sandbox: RunningSandbox, sandbox_state: Callable[..., dict[str, Any]]
) -> Callable[[ErpExport], None]:
    """Turn the faults off, read EnKash's records and fail with what is wrong, if anything."""

    def check(export: ErpExport) -> None:
        # No faults and no latency while reading, so the end state itself cannot be disturbed.
        _set_faults(sandbox, error_500=0.0, error_429=0.0, drop=0.0, expire_token=0.0, latency_ms=0)
        problems = exactly_once_problems(sandbox_state(), export)
        assert not problems, "EnKash does not hold the ERP export exactly once:\n" + "\n".join(problems)

    return check
