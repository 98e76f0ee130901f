"""Run nightly_ar_cycle in this process and print its wall time and peak RSS (used by S4)."""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from datetime import date

from flows.nightly_ar_cycle import nightly_ar_cycle
from flows.options import CycleOptions


def main() -> None:
    customers, invoices, work = sys.argv[1:4]
    options = CycleOptions(out_dir=f"{work}/out", ledger_path=f"{work}/ledger.sqlite3")
    start = time.perf_counter()
    summary = asyncio.run(nightly_ar_cycle(customers, invoices, date(2026, 11, 24), options))
    elapsed = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "peak_rss_mib": round(peak_kib / 1024, 1),
                "cycle_seconds": round(elapsed, 1),
                "invoices_uploaded": summary.invoices_uploaded,
            }
        )
    )


if __name__ == "__main__":
    main()
