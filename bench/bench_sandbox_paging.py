"""Benchmark: is reading every invoice of the sandbox in pages of 5000 linear in the number of invoices?

Fills one sandbox backend (in-process, in-memory, no HTTP) with N invoices per size, then walks all of
them with ``offset``/``limit`` as a client does, twice: with keyset paging (the sandbox's search) and
with plain OFFSET (the same search with no seek marks). For each it prints the wall time of the walk and
the mean time of a page in the first and the last tenth of the walk: linear paging keeps those two
equal, OFFSET paging makes the last ones grow with N. Writes ``bench/results/sandbox_paging.json``.

Run: ``uv run --frozen python -m bench.bench_sandbox_paging [--rows 100000,400000] [--no-offset]``
"""

from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path
from statistics import mean

import polars as pl

from enkash_ar.bulk_template import INVOICE_CREATE
from sandbox.backend import ArBackend
from sandbox.backend.bulk_files import Upload
from sandbox.backend.keyset_paging import SeekMarks
from sandbox.backend.search import PageRequest, SearchBackend
from sandbox.backend.store import Store
from sandbox.config import DEFAULT_SELLER_ID

RESULTS = Path(__file__).parent / "results" / "sandbox_paging.json"
PAGE = 5000
CHUNK = 100_000


def _invoice_file(customer_id: str, start: int, rows: int) -> Upload:
    i = pl.int_range(start, start + rows, eager=True)
    frame = pl.DataFrame(
        {
            "customerId": pl.Series([customer_id] * rows),
            "externalId": "ERP-" + i.cast(pl.String),
            "dueDate": pl.Series(["2025-08-01"] * rows),
            "baseAmount": (100 + i % 900).cast(pl.String),
        }
    )
    frame = frame.with_columns(
        [pl.lit(None, pl.String).alias(c) for c in INVOICE_CREATE.columns if c not in frame.columns]
    ).select(INVOICE_CREATE.columns)
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    return Upload("invoices.csv", buffer.getvalue())


def _filled(rows: int) -> ArBackend:
    backend = ArBackend(Store(":memory:"))
    contact = {"name": "A", "legalName": "A", "mobile": "9876543210", "deleted": False}
    customer = backend.customers.create(
        DEFAULT_SELLER_ID, {"legalName": "Bench Customer", "customerKeyContacts": [contact]}
    )
    for start in range(0, rows, CHUNK):
        upload = _invoice_file(customer["customerId"], start, min(CHUNK, rows - start))
        backend.bulk.create_invoices(DEFAULT_SELLER_ID, upload, f"bench{start}")
    return backend


def _walk(search: SearchBackend) -> dict[str, float | int]:
    """Read every invoice in pages of ``PAGE`` by offset; wall time and page times."""
    times: list[float] = []
    offset = 0
    started = time.perf_counter()
    while True:
        page_started = time.perf_counter()
        items = search.invoices(DEFAULT_SELLER_ID, {}, PageRequest(offset, PAGE)).items
        times.append(time.perf_counter() - page_started)
        offset += len(items)
        if len(items) < PAGE:
            break
    tenth = max(len(times) // 10, 1)
    return {
        "rows_read": offset,
        "pages": len(times),
        "wall_seconds": round(time.perf_counter() - started, 3),
        "first_tenth_page_ms": round(mean(times[:tenth]) * 1000, 2),
        "last_tenth_page_ms": round(mean(times[-tenth - 1 : -1] or times[-1:]) * 1000, 2),
    }


def main() -> None:
    """Measure every size and mode; print and write the results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", default="100000,400000", help="comma-separated invoice counts")
    parser.add_argument("--no-offset", action="store_true", help="skip the plain OFFSET walk (slow at 1M)")
    args = parser.parse_args()
    results = []
    for rows in (int(r) for r in args.rows.split(",")):
        backend = _filled(rows)
        modes = {"keyset": backend.search}
        if not args.no_offset:
            modes["offset"] = SearchBackend(backend.store, SeekMarks(max_queries=0))
        for mode, search in modes.items():
            result = {"invoices": rows, "mode": mode, **_walk(search)}
            print(json.dumps(result), flush=True)
            results.append(result)
        backend.close()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
