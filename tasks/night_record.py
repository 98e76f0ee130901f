"""Settle what a killed run left open, and note what EnKash already held: the night's record per stage."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from ar_sync.exactly_once import settle_unresolved
from ar_sync.results import Origin, Stage, result_rows
from tasks.connection import night_of


@task(name="record-night-state", cache_policy=NO_CACHE)
def record_night_state(
    stage: Stage,
    held: Mapping[str, str],
    present: pl.DataFrame,
    night: str,
    credentials_block: str | None = None,
    ledger_path: str | None = None,
    unsendable: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Settle the stage's unresolved ledger rows against ``held``, and record ``present`` rows.

    ``held`` maps the keys EnKash holds now to their EnKash ids (for dispatches: those it shows
    dispatched); ``present`` has ``key``, ``remote_id`` and ``amount`` of the ERP records EnKash held
    before the stage sends anything (recorded as already present, unless this night sent them).
    ``unsendable`` are result rows (failures) the stage cannot send at all, recorded as they are.

    Returns this run's view: the settled rows, the present rows (as found already in EnKash, even
    those an earlier attempt of the night sent) and the unsendable rows.

    Example:
        >>> record_night_state(Stage.INVOICES_UPLOAD, held, present, "2026-11-24")  # doctest: +SKIP
    """
    scope = night_of(night, credentials_block, ledger_path)
    settled = settle_unresolved(scope, stage, held)
    noted = result_rows(
        stage,
        present.get_column("key"),
        origin=Origin.ALREADY_PRESENT,
        amounts=present.get_column("amount") if "amount" in present.columns else None,
        remote_ids=present.get_column("remote_id"),
    )
    # A row this night's own batch made (then the run died before it could record it) is sent, not
    # already present: a result row of its own. The rest is kept as one set (RunLedger.record_present).
    done = scope.ledger.done_in_night(scope.seller_id, stage, night)
    sent = pl.col("key").is_in(pl.Series(list(done), dtype=pl.String).implode())
    scope.record(noted.filter(sent).with_columns(origin=pl.lit(str(Origin.SENT))))
    scope.ledger.record_present(scope.seller_id, night, stage, noted.filter(~sent))
    extra = scope.record(unsendable) if unsendable is not None else noted.clear()
    return pl.concat([settled, noted, extra])
