"""predict_night_sends: what a real night would send, for a dry run (``ar_sync.dry_run``)."""

from __future__ import annotations

from collections.abc import Sequence

from prefect import task
from prefect.cache_policies import NO_CACHE

from ar_sync.dry_run import Picture, predict_night
from ar_sync.lifecycle import ledger_facts
from ar_sync.planner import planning_customers
from ar_sync.reminder_policy import ReminderRule
from tasks.connection import enkash_client, run_ledger
from tasks.inputs import ErpInputs
from tasks.retry_policy import retry_transient


@task(name="predict-night", cache_policy=NO_CACHE, retries=2, retry_condition_fn=retry_transient)
def predict_night_sends(
    inputs: ErpInputs,
    schedule: Sequence[ReminderRule],
    max_cancel_share: float,
    confirm_cancellations: bool,
    credentials_block: str | None = None,
    ledger_path: str | None = None,
) -> dict[str, int]:
    """Read EnKash once and predict the rows each stage of a real night would send (reads only).

    Raises:
        TruncatedExportError: a real night would refuse the export (too much would be cancelled).

    Example:
        >>> planned = predict_night_sends(inputs, DEFAULT_SCHEDULE, 0.05, False)  # doctest: +SKIP
    """
    assert inputs.invoices is not None
    client = enkash_client(credentials_block, ledger_path)
    customers = client.search_all_customers()
    picture = Picture(planning_customers(customers), customers, client.search_invoices_frame())
    return predict_night(
        inputs.customers,
        inputs.invoices,
        picture,
        ledger_facts(run_ledger(ledger_path), client.seller_id, picture.invoices, picture.customers),
        schedule=schedule,
        max_cancel_share=max_cancel_share,
        confirm_cancellations=confirm_cancellations,
    )
