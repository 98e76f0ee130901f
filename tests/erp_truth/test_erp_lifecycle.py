"""Nights over an export that changes: what leaves the ERP leaves EnKash, once, and a dry run says so first.

A real Prefect server, the sandbox over real HTTP, tiny CSV exports. Three nights of one seller:

1. a first night, previewed by a dry run whose prediction must be exactly what the real run sends;
2. an export where invoices were removed, renumbered and moved to another customer, a customer left
   and another's e-mail and GSTIN were emptied: refused as a possibly truncated export (nothing sent),
   previewed with the confirmation, then run with it;
3. the same files again: not one write call.

(An invoice and a customer that come back into the export are tested against the fake EnKash, in
tests/engine/test_lifecycle_writes.py: one more night here would cost more than it proves.)

Each night asserts what EnKash (the sandbox) holds and what the night's report says.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ar_sync.lifecycle import TruncatedExportError
from ar_sync.night_summary import NightSummary
from flows.nightly_ar_cycle import nightly_ar_cycle
from flows.options import CycleOptions
from sandbox.routes import WRITE_OPERATIONS
from tasks.connection import enkash_client

NIGHT_1 = date(2026, 11, 24)
GSTIN = "27AAPFU0939F1ZV"
CUSTOMER_HEADER = "customer_ref,legal_name,contact_name,mobile,email,gstin,state,pin_code\n"
INVOICE_HEADER = "invoice_number,customer_ref,invoice_date,due_date,base_amount\n"
C1 = "C1,Mehta Textiles,Ravi Iyer,9876543210,ravi@mehta.in,,Maharashtra,400001\n"
C2 = f"C2,Kaveri Agro,Asha Nair,9876543211,asha@kaveri.in,{GSTIN},Karnataka,560001\n"
C2_EMPTIED = "C2,Kaveri Agro,Asha Nair,9876543211,,,Karnataka,560001\n"
C3 = "C3,Lakshmi Steels,Vikram Das,9876543213,,,Kerala,682001\n"


def _invoice(number: str, ref: str, base: str = "1000.00") -> str:
    return f"{number},{ref},2026-11-01,2026-12-01,{base}\n"


#: One bad row every night (a decimal comma): the report must say so and where the file is.
BAD = _invoice("INV-9", "C1", '"4053,14"')
FIRST = [_invoice(f"INV-{n}", "C1") for n in (1, 2, 3, 4)] + [
    _invoice("INV-5", "C2"),
    _invoice("INV-6", "C3"),
    BAD,
]
#: INV-2 removed, INV-3 renumbered INV-3R, INV-4 moved to C2, INV-1 written in lower case, C3 (and its
#: INV-6) gone, C2's e-mail and GSTIN emptied.
CHANGED = [
    _invoice("inv-1", "C1"),
    _invoice("INV-3R", "C1"),
    _invoice("INV-4", "C2"),
    _invoice("INV-5", "C2"),
    BAD,
]


def _export(folder: Path, customers: list[str], invoices: list[str]) -> tuple[str, str]:
    folder.mkdir(parents=True)
    (folder / "customers.csv").write_text(CUSTOMER_HEADER + "".join(customers), encoding="utf-8")
    (folder / "invoices.csv").write_text(INVOICE_HEADER + "".join(invoices), encoding="utf-8")
    return str(folder / "customers.csv"), str(folder / "invoices.csv")


def _writes(state: dict[str, Any]) -> dict[str, int]:
    return {op: state["request_counts"].get(op, 0) for op in WRITE_OPERATIONS}


class Nights:
    """Runs nights of one seller on one ledger, each with its own report folder."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.ledger = str(tmp_path / "ledger.sqlite3")

    def options(self, name: str, **changes: Any) -> CycleOptions:
        return CycleOptions(out_dir=str(self.tmp_path / name), ledger_path=self.ledger, **changes)

    def run(self, files: tuple[str, str], night: date, name: str, **changes: Any) -> NightSummary:
        return asyncio.run(nightly_ar_cycle(*files, night, self.options(name, **changes)))

    def sent(self, name: str) -> dict[str, int]:
        """Rows the night's calls sent (and EnKash took), per stage, from its bulk_results.parquet."""
        results = pl.read_parquet(self.tmp_path / name / "bulk_results.parquet")
        done = results.filter((pl.col("outcome") == "success") & (pl.col("origin") == "sent"))
        return dict(done.group_by("stage").len().iter_rows())


def _nonzero(planned: dict[str, int] | None) -> dict[str, int]:
    assert planned is not None
    return {stage: rows for stage, rows in planned.items() if rows}


def _invoices(state: dict[str, Any]) -> dict[str, list[tuple[str, str, int]]]:
    """Live invoices by number: (customer ref, receivable status, dispatches), oldest first."""
    ref_of = {c["customerId"]: c["uniqueRefNo"] for c in state["customers"]}
    held: dict[str, list[tuple[str, str, int]]] = {}
    for i in state["invoices"]:
        if not i["deleted"]:
            held.setdefault(i["externalId"], []).append(
                (ref_of[i["customerId"]], i["receivableStatus"], i["dispatch_count"])
            )
    return held


@pytest.mark.slow
def test_what_leaves_the_erp_leaves_enkash_once_and_a_dry_run_predicts_each_night(
    enkash_env: Any, sandbox_state: Any, tmp_path: Path
) -> None:
    nights = Nights(tmp_path)
    first = _export(tmp_path / "erp1", [C1, C2, C3], FIRST)

    # Night 1, previewed: the dry run predicts the uploads and dispatches of customers it would create.
    preview = nights.run(first, NIGHT_1, "dry1", dry_run=True)
    assert set(_writes(sandbox_state()).values()) == {0}
    summary = nights.run(first, NIGHT_1, "night1")
    sent = nights.sent("night1")
    assert sent == {"customers_create": 3, "invoices_upload": 6, "invoices_dispatch": 6, "reminders": 3}
    assert _nonzero(preview.planned) == sent
    assert summary.invoices_rejected == 1
    assert summary.rejected_rows_file == str(tmp_path / "night1" / "rejected_rows.csv")
    assert summary.top_rejection_reasons[0].reason.startswith("invoices base_amount: decimal comma")
    # An upload whose dispatch never happened (say, a run stopped before dispatch): never sent to anyone.
    client = enkash_client()
    c1 = next(c.customer_id for c in client.search_all_customers() if c.unique_ref_no == "C1")
    undispatched = {"customerId": c1, "externalId": "INV-7", "dueDate": "2026-12-01", "baseAmount": 500.0}
    client.create_invoice(undispatched)

    # Night 2: 5 of the 7 open invoices would be cancelled. A truncated export looks just like this.
    changed = _export(tmp_path / "erp2", [C1, C2_EMPTIED], CHANGED)
    before = _writes(sandbox_state())
    with pytest.raises(TruncatedExportError) as refused:
        nights.run(changed, NIGHT_1 + timedelta(days=1), "refused")
    message = str(refused.value)
    assert "would cancel 5 of 7 open invoices (71.4%) and deactivate 1 of 3 active customers" in message
    assert "--confirm-cancellations" in message
    assert _writes(sandbox_state()) == before  # nothing at all was sent

    # Confirmed: previewed, then run. The preview is exactly what the run sends.
    night_2 = NIGHT_1 + timedelta(days=1)
    preview = nights.run(changed, night_2, "dry2", dry_run=True, confirm_cancellations=True)
    summary = nights.run(changed, night_2, "night2", confirm_cancellations=True)
    sent = nights.sent("night2")
    assert sent == {
        "invoices_cancel": 5,  # INV-2, INV-3, INV-4 (old copy), INV-6, INV-7
        "customers_deactivate": 1,
        "customer_fields_clear": 2,
        "invoices_upload": 2,  # INV-3R, INV-4 under C2
        "invoices_dispatch": 2,
    }
    assert _nonzero(preview.planned) == sent
    state = sandbox_state()
    assert _invoices(state) == {
        "INV-1": [("C1", "UNPAID", 1)],  # the export's inv-1: the same invoice, untouched
        "INV-2": [("C1", "CANCELLED", 1)],  # removed after dispatch: out of collection
        "INV-3": [("C1", "CANCELLED", 1)],  # renumbered: the old number out of collection ...
        "INV-3R": [("C1", "UNPAID", 1)],  # ... the new one billed once
        "INV-4": [("C1", "CANCELLED", 1), ("C2", "UNPAID", 1)],  # moved: billed to C2 instead of C1
        "INV-5": [("C2", "UNPAID", 1)],
        "INV-6": [("C3", "CANCELLED", 1)],  # its customer left the export
    }  # INV-7, never dispatched, is deleted
    assert {c["uniqueRefNo"]: c["status"] for c in state["customers"]} == {
        "C1": "ACTIVE",
        "C2": "ACTIVE",
        "C3": "INACTIVE",
    }
    c2 = next(c for c in client.search_all_customers() if c.unique_ref_no == "C2")
    assert c2.pan_or_gstin is None and [k.email for k in c2.customer_key_contacts] == [None]
    assert c2.customer_key_contacts[0].name == "Asha Nair"
    assert summary.invoices_cancelled == 5 and summary.customers_deactivated == 1
    assert summary.customer_fields_cleared == 2
    assert (summary.customers_updated, summary.invoices_updated, summary.fields_not_cleared) == (0, 0, 0)
    assert summary.open_invoices == 4 and summary.open_amount == 4000.0 and summary.invoice_twins == []
    saved = json.loads((tmp_path / "night2" / "summary.json").read_text())
    assert saved["invoices_cancelled"] == 5 and saved["planned"] is None
    reasons = dict(
        pl.read_parquet(tmp_path / "night2" / "bulk_results.parquet")
        .filter(pl.col("stage") == "invoices_cancel")
        .select("key", "reason")
        .iter_rows()
    )
    assert reasons == {
        "INV-2": "not in the ERP export any more: taken out of collection",
        "INV-3": "not in the ERP export any more: taken out of collection",
        "INV-4": "billed to customer C2 in the ERP after dispatch: taken out of collection",
        "INV-6": "not in the ERP export any more: taken out of collection",
        "INV-7": "not in the ERP export any more: deleted (never dispatched)",
    }

    # Night 3, the same files: not one write call, and the night says everything was already there.
    before = _writes(sandbox_state())
    quiet = nights.run(changed, NIGHT_1 + timedelta(days=2), "night3")
    assert _writes(sandbox_state()) == before
    assert nights.sent("night3") == {}
    assert (quiet.invoices_already_present, quiet.invoices_already_dispatched) == (4, 4)
