"""Benchmark: how fast the sandbox ingests a 100k-row invoice bulk upload.

Starts a sandbox (in-process, background thread), creates the customers with one bulk upload, builds a
100,000-row invoice CSV per ``enkash_ar.bulk_template.INVOICE_CREATE``, uploads it and prints wall time
and rows/s. Writes ``bench/results/sandbox_ingest.json``.

Run: ``uv run --frozen python -m bench.bench_sandbox_ingest [--rows 100000] [--customers 1000]``
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import time
from pathlib import Path

import httpx
import polars as pl

from enkash_ar.bulk_template import CUSTOMER_CREATE, INVOICE_CREATE
from sandbox.server import SandboxConfig, running_sandbox

RESULTS = Path(__file__).parent / "results" / "sandbox_ingest.json"


def _csv(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    return buffer.getvalue()


def _customers_csv(count: int) -> bytes:
    n = pl.int_range(count, eager=True).cast(pl.String)
    frame = pl.DataFrame(
        {
            "legalName": "Bench Customer " + n,
            "uniqueRefNo": "BENCH-" + n,
            "customerKeyContacts.name": "Contact " + n,
            "customerKeyContacts.legalName": "Contact " + n,
            "customerKeyContacts.mobile": pl.Series(["9876543210"] * count),
        }
    )
    return _csv(
        frame.with_columns(
            [pl.lit(None, pl.String).alias(c) for c in CUSTOMER_CREATE.columns if c not in frame.columns]
        ).select(CUSTOMER_CREATE.columns)
    )


def _invoices_csv(rows: int, customer_ids: list[str]) -> bytes:
    i = pl.int_range(rows, eager=True)
    frame = pl.DataFrame(
        {
            "customerId": pl.Series(customer_ids)[i % len(customer_ids)],
            "externalId": "ERP-" + i.cast(pl.String),
            "invoiceNumber": "INV/2025/" + i.cast(pl.String),
            "invoiceDate": pl.Series(["2025-07-01"] * rows),
            "dueDate": pl.Series(["2025-08-01"] * rows),
            "baseAmount": (100 + i % 900).cast(pl.String) + ".50",
            "cgst": pl.Series(["9"] * rows),
            "sgst": pl.Series(["9"] * rows),
        }
    )
    return _csv(
        frame.with_columns(
            [pl.lit(None, pl.String).alias(c) for c in INVOICE_CREATE.columns if c not in frame.columns]
        ).select(INVOICE_CREATE.columns)
    )


def measure_ingest(
    base_url: str,
    rows: int,
    work: Path | None = None,
    *,
    customers: int = 1_000,
    config: SandboxConfig | None = None,
) -> dict[str, object]:
    """Upload ``rows`` invoices in one bulk file to the sandbox at ``base_url``; time it and the reads.

    ``work`` is unused (kept for the driver's signature). The customers are created first with one bulk
    upload; only the invoice upload and the search of every page are timed.
    """
    del work
    cfg = config or SandboxConfig()
    basic = base64.b64encode(f"{cfg.client_id}:{cfg.client_secret}".encode()).decode()
    token = httpx.post(
        f"{base_url}/oauth/token",
        headers={"Authorization": f"Basic {basic}"},
        data={
            "username": cfg.username,
            "password": cfg.password,
            "grant_type": "password",
            "clientId": cfg.seller_id,
        },
        timeout=60,
    ).json()["access_token"]
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=600) as api:
        created = api.post(
            "/api/v0/customer/bulk",
            params={"companyId": cfg.seller_id},
            files={"file": ("customers.csv", _customers_csv(customers))},
        ).json()["payload"]
        ids = [r["customerId"] for r in created["successRequests"]]
        content = _invoices_csv(rows, ids)
        started = time.perf_counter()
        response = api.post(
            "/api/v0/invoice/bulk/create",
            params={"sellerId": cfg.seller_id},
            files={"file": ("invoices.csv", content)},
        )
        wall = time.perf_counter() - started
        payload = response.json()["payload"]
        search_started = time.perf_counter()
        pages = 0
        for offset in range(0, rows, 5000):
            api.post("/api/v0/invoice/search", params={"offset": offset, "limit": 5000}, json={})
            pages += 1
        search_wall = time.perf_counter() - search_started
    return {
        "rows": rows,
        "success_count": payload["success_count"],
        "failure_count": payload["failure_count"],
        "upload_bytes": len(content),
        "wall_seconds": round(wall, 3),
        "rows_per_second": round(rows / wall),
        "search_pages_of_5000": pages,
        "search_all_pages_seconds": round(search_wall, 3),
        "search_rows_per_second": round(rows / search_wall) if search_wall else None,
    }


def main() -> None:
    """Run the benchmark against an in-process sandbox and print/write the result."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=1_000)
    args = parser.parse_args()
    with running_sandbox(SandboxConfig()) as sandbox:
        result = measure_ingest(sandbox.base_url, args.rows, customers=args.customers, config=sandbox.config)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
