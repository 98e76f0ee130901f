"""ar_summary: read back what is still open in EnKash and publish what the night did and what is owed."""

import ar_sync.process_memory  # noqa: F401  (first: polars' allocator, ar_sync/process_memory.py)

from datetime import date

from prefect import flow

from ar_sync.night_summary import NeedsAttentionError, NightSummary, RejectedInput, StageFailure
from flows.options import CycleOptions, resolve_night
from flows.prepare import holding_seller, top_level
from flows.run_options import resolve_options
from flows.run_outcome import log_night
from tasks.night_picture import current_picture
from tasks.reports import publish_summary


@flow(name="ar-summary")
async def ar_summary(
    as_of: date | None = None,
    options: CycleOptions | None = None,
    planned: dict[str, int] | None = None,
    rejected: RejectedInput | None = None,
    stages_failed: list[StageFailure] | None = None,
) -> NightSummary:
    """Summarise the night (every attempt of it, from the run ledger) and the seller's open receivables.

    Publishes Prefect table and markdown artifacts and writes summary.json and bulk_results.parquet
    to the output folder. Run alone, it ends Failed when EnKash holds invoice or customer copies only a
    person can remove (the summary says which and what to do).

    Args:
        as_of: the night, and the date aging is counted from; default: the run's date in IST.
        options: where the ledger and the output folder are, which credentials block.
        planned: in a dry run, the rows each stage would have sent (nightly_ar_cycle passes it).
        rejected: what input validation rejected and where the report is (nightly_ar_cycle passes it;
            run alone, the counts are read back from rejected_rows.csv).
        stages_failed: the night's stages that failed while the others ran (nightly_ar_cycle passes
            them): the summary names them under "Needs attention".
    """
    options = await resolve_options(options)
    night = resolve_night(as_of)
    block, ledger = options.credentials_block, options.ledger_path
    async with holding_seller(options) as seller_id:
        # All invoices, as the night's picture holds them after its writes (read here when run alone):
        # the open ones are what is owed, all of them give DSO's credit sales.
        picture = current_picture(block, ledger, customers=True, invoices=True)
        enkash_customers, invoices = picture.customer_frame, picture.invoices
        assert invoices is not None
        summary = publish_summary(
            invoices,
            enkash_customers,
            night,
            seller_id,
            options.out_dir,
            ledger,
            options.dry_run,
            planned,
            rejected,
            stages_failed or (),
        )
    log_night(summary)
    if top_level() and (notes := summary.attention()):
        raise NeedsAttentionError(" ".join(notes))
    return summary


if __name__ == "__main__":
    import asyncio

    asyncio.run(ar_summary())
