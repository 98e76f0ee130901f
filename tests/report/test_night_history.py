"""The nights kept for the report's trend: one summary per seller and night in the run ledger."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from ar_sync.night_history import TrendPoint, night_trend, remember_night
from ar_sync.night_summary import NightSummary
from ar_sync.run_ledger import RunLedger

SELLER = "CEKSANDBX1"
NIGHT = date(2026, 11, 24)


def night(day: date, open_amount: float, dso: float | None = 40.0, **fields: object) -> NightSummary:
    return NightSummary.model_validate(
        {"seller_id": SELLER, "as_of": day, "open_amount": open_amount, "dso": dso, **fields}
    )


@pytest.fixture
def ledger(tmp_path: Path) -> RunLedger:
    return RunLedger(tmp_path / "ledger.sqlite3")


def test_first_night_is_a_single_point(ledger: RunLedger) -> None:
    current = night(NIGHT, 1000.0)
    remember_night(ledger, current)

    assert night_trend(ledger, current) == [TrendPoint(NIGHT, 1000.0, 40.0)]


def test_a_rerun_replaces_its_night_and_later_nights_stay_out(ledger: RunLedger) -> None:
    for offset, amount in [(-2, 100.0), (-1, 200.0), (0, 300.0), (1, 999.0)]:
        remember_night(ledger, night(NIGHT + timedelta(days=offset), amount))
    rerun = night(NIGHT, 350.0, dso=None)
    remember_night(ledger, rerun)

    assert night_trend(ledger, rerun) == [
        TrendPoint(NIGHT - timedelta(days=2), 100.0, 40.0),
        TrendPoint(NIGHT - timedelta(days=1), 200.0, 40.0),
        TrendPoint(NIGHT, 350.0, None),
    ]


def test_the_trend_covers_the_last_nights_only_and_one_seller(ledger: RunLedger) -> None:
    for offset in range(40):
        remember_night(ledger, night(NIGHT - timedelta(days=offset), float(offset)))
    ledger.record_night_summary("CEKOTHER01", NIGHT.isoformat(), night(NIGHT, 5.0).to_json())
    current = night(NIGHT, 0.0)

    trend = night_trend(ledger, current)

    assert len(trend) == 30
    assert trend[0].night == NIGHT - timedelta(days=29)
    assert trend[-1] == TrendPoint(NIGHT, 0.0, 40.0)
    assert len(night_trend(ledger, current, nights=3)) == 3


def test_a_dry_run_is_not_kept(ledger: RunLedger) -> None:
    remember_night(ledger, night(NIGHT, 100.0))
    preview = night(NIGHT, 5.0, dry_run=True)
    remember_night(ledger, preview)

    assert ledger.night_summaries(SELLER, until=NIGHT.isoformat())[0]["open_amount"] == 100.0
    # The preview's own report still shows what it read.
    assert night_trend(ledger, preview)[-1].open_amount == 5.0


def test_an_earlier_summary_left_in_out_dir_joins_the_trend_once(ledger: RunLedger, tmp_path: Path) -> None:
    left = tmp_path / "summary.json"
    yesterday = NIGHT - timedelta(days=1)
    left.write_text(night(yesterday, 70.0).to_json())
    current = night(NIGHT, 80.0)

    remember_night(ledger, current, left_behind=left)

    assert [p.open_amount for p in night_trend(ledger, current)] == [70.0, 80.0]
    # What the ledger kept for a night wins over an older copy on disk.
    left.write_text(night(yesterday, 1.0).to_json())
    remember_night(ledger, current, left_behind=left)
    assert [p.open_amount for p in night_trend(ledger, current)] == [70.0, 80.0]


@pytest.mark.parametrize(
    "left_text",
    [
        night(NIGHT - timedelta(days=1), 1.0, dry_run=True).to_json(),
        night(NIGHT - timedelta(days=1), 1.0).to_json().replace(SELLER, "CEKOTHER01"),
        night(NIGHT, 1.0).to_json(),
        "{not json",
        '{"seller_id": "CEKSANDBX1"}',
    ],
    ids=["dry-run", "other-seller", "same-night", "garbled", "no-night"],
)
def test_a_summary_left_in_out_dir_that_is_not_an_earlier_real_night_is_ignored(
    ledger: RunLedger, tmp_path: Path, left_text: str
) -> None:
    left = tmp_path / "summary.json"
    left.write_text(left_text)
    current = night(NIGHT, 80.0)

    remember_night(ledger, current, left_behind=left)

    assert night_trend(ledger, current) == [TrendPoint(NIGHT, 80.0, 40.0)]


def test_a_ledger_from_before_the_history_gains_it(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    RunLedger(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE night_summaries")
    conn.close()

    with RunLedger(path) as ledger:
        remember_night(ledger, night(NIGHT, 10.0))
        assert night_trend(ledger, night(NIGHT, 10.0)) == [TrendPoint(NIGHT, 10.0, 40.0)]


def test_summarising_a_night_older_than_the_kept_record_fails_clearly_and_writes_nothing(
    tmp_path: Path,
) -> None:
    import polars as pl

    from ar_sync.run_ledger import NightRecordPrunedError
    from enkash_ar.frames import CUSTOMER_SCHEMA, INVOICE_SCHEMA
    from tasks.reports import publish_summary

    path = tmp_path / "ledger.sqlite3"
    with RunLedger(path) as kept:
        kept.prune_night_record(SELLER, NIGHT.isoformat())  # as the night of NIGHT did when it ended
    out = tmp_path / "out"
    old = NIGHT - timedelta(days=90)

    with pytest.raises(NightRecordPrunedError, match=old.isoformat()):
        publish_summary.fn(
            pl.DataFrame(schema=INVOICE_SCHEMA),
            pl.DataFrame(schema=CUSTOMER_SCHEMA),
            old,
            SELLER,
            str(out),
            str(path),
        )
    assert not out.exists()
