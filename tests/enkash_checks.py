"""What EnKash must hold after a night, checked on the sandbox's own records (what a user sees on the portal).

One customer per valid ``customer_ref``, one invoice per valid ``invoice_number``, each dispatched exactly
once, and every customer with the default reminder schedule exactly once. How many calls it took does
not matter to the user, so it is not counted here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ar_sync.erp_input import load_customers, load_invoices
from ar_sync.reminder_policy import DEFAULT_SCHEDULE
from sandbox.sample_data import generate_erp_files


@dataclass(frozen=True)
class ErpExport:
    """An ERP export on disk and the rows of it that validate (what EnKash must end up holding)."""

    customers_file: Path
    invoices_file: Path
    customer_refs: frozenset[str]
    invoice_numbers: frozenset[str]


def erp_export(folder: Path, *, customers: int, invoices: int, seed: int, as_of: date) -> ErpExport:
    """Generate a sample ERP export in ``folder`` and note the rows of it that validate."""
    customers_file, invoices_file = generate_erp_files(
        folder, customers=customers, invoices=invoices, seed=seed, as_of=as_of
    )
    loaded = load_customers(customers_file)
    refs = loaded.valid.get_column("customer_ref")
    valid_invoices = load_invoices(invoices_file, known_customer_refs=refs)
    return ErpExport(
        customers_file=customers_file,
        invoices_file=invoices_file,
        customer_refs=frozenset(refs.to_list()),
        invoice_numbers=frozenset(valid_invoices.valid.get_column("invoice_number").to_list()),
    )


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
