"""ar_summary: read back what is still open in EnKash and publish what the night did and what is owed."""

from __future__ import annotations

from datetime import date

from prefect import flow

from flows.options import CycleOptions
from tasks.enkash_state import read_enkash_customers, read_enkash_invoices
from tasks.reports import publish_summary


@flow(name="ar-summary")
async def ar_summary(as_of: date | None = None, options: CycleOptions | None = None) -> dict[str, object]:
    """Summarise the stages' results in ``options.out_dir`` and the seller's open receivables.

    Publishes Prefect table and markdown artifacts and writes summary.json and bulk_results.parquet
    to the output folder. ``as_of`` (default: today in Asia/Kolkata) is the date aging is counted from.
    """
    options = options or CycleOptions()
    enkash_customers, _ = read_enkash_customers(options.credentials_block)
    # All invoices, read once: the open ones are what is owed, all of them give DSO's credit sales.
    invoices = read_enkash_invoices(options.credentials_block)
    return publish_summary(invoices, enkash_customers, as_of, options.out_dir, options.dry_run)


if __name__ == "__main__":
    import asyncio

    asyncio.run(ar_summary())
