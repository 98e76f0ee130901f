"""One night of the payments stage in a process of its own, killed at a chosen step (for the crash tests).

    python -m tests.exactly_once.payment_crash_night LEDGER INVOICES CUSTOMERS NIGHT OUT [KILL_AT]

(INVOICES and CUSTOMERS are Parquet files of EnKash's invoices and customers.)

``KILL_AT`` is a checkpoint of ``payment_export.export_payments`` (``written``: the files are written
under their hidden names and nothing is recorded; ``recorded``: the export is committed and the files
not yet renamed). The process then dies at once with ``os._exit``, as a SIGKILL would leave it: no
``finally``, no rollback by Python, no buffered write flushed.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

import polars as pl

from ar_sync.exactly_once import Night
from ar_sync.night_payments import collect_night_payments
from ar_sync.run_ledger import RunLedger
from tests.engine.payment_pictures import SELLER, erp_invoices

#: The exit status of a process killed by SIGKILL, as a shell reports it.
KILLED = 137


def main(ledger: str, invoices: str, customers: str, night: str, out: str, kill_at: str = "") -> None:
    def checkpoint(step: str) -> None:
        if step == kill_at:
            os._exit(KILLED)

    collect_night_payments(
        Night(RunLedger(ledger), SELLER, date.fromisoformat(night).isoformat()),
        erp_invoices([]),
        pl.read_parquet(invoices),
        pl.read_parquet(customers),
        Path(out),
        checkpoint=checkpoint,
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
