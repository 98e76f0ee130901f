"""The last night's read of the invoices, kept next to the ledger: when a night may start from it, and
the picture it makes with tonight's narrow reads (``ar_sync.kept_reads``)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import tasks.night_picture
from ar_sync import kept_reads
from ar_sync.kept_reads import KeptRead
from ar_sync.night_picture import PICTURE_INVOICE_COLUMNS
from enkash_ar.errors import BadRequestError, ServerError
from tests.engine.pictures import invoice, invoices

NOW = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
IDENTITY = kept_reads.read_identity("https://api.example", "SELLER1", '{"profile": 1}')


def _picture(*rows: dict[str, object]) -> pl.DataFrame:
    return invoices(*rows).select(PICTURE_INVOICE_COLUMNS)


def _kept(tmp_path: Path, read_on: datetime = NOW - timedelta(days=1), full: datetime | None = None) -> Path:
    frame = _picture(invoice("E1", "INV-1", "KC1"), invoice("E2", "INV-2", "KC1", received=1000.0))
    path = kept_reads.kept_read_path(tmp_path / "ledger.sqlite3", "https://api.example", "SELLER1")
    kept_reads.save_kept_read(path, KeptRead(frame, read_on, full or read_on), IDENTITY)
    return path


def test_a_kept_read_comes_back_whole_with_when_it_was_read(tmp_path: Path) -> None:
    path = _kept(tmp_path, full=NOW - timedelta(days=3))
    kept, why = kept_reads.load_kept_read(path, IDENTITY, now=NOW, full_read_every=WEEK)
    assert why == "" and kept is not None
    assert (kept.read_on, kept.full_read_on) == (NOW - timedelta(days=1), NOW - timedelta(days=3))
    assert kept.invoices["invoiceId"].to_list() == ["E1", "E2"]
    # One file per host and seller, next to the ledger; nothing else left in its folder.
    assert path.parent == tmp_path / kept_reads.KEPT_FOLDER
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    other = kept_reads.kept_read_path(tmp_path / "ledger.sqlite3", "https://api.example", "SELLER2")
    assert other != path


def test_a_kept_read_is_not_used_when_it_cannot_stand_for_tonights(tmp_path: Path) -> None:
    path = _kept(tmp_path, full=NOW - timedelta(days=6))

    def why(**kwargs: object) -> str:
        args = {"identity": IDENTITY, "now": NOW, "full_read_every": WEEK} | kwargs
        kept, reason = kept_reads.load_kept_read(path, args.pop("identity"), **args)  # type: ignore[arg-type]
        assert kept is None
        return reason

    # Read under another host, seller or contract profile (status names ...).
    other = kept_reads.read_identity("https://api.example", "SELLER1", '{"profile": 2}')
    assert "another EnKash host, seller or contract profile" in why(identity=other)
    # Every invoice is read again once the cadence has passed since the last full read.
    assert "read again every 7 days" in why(now=NOW + timedelta(days=1))
    assert "read again every 1 day" in why(full_read_every=timedelta(days=1))
    # A clock that moved back.
    assert "after now" in why(now=NOW - timedelta(days=2))
    # Missing, damaged, or of another layout.
    path.write_bytes(path.read_bytes()[:100])
    assert "cannot be read" in why()
    path.unlink()
    assert "no earlier read is kept" in why()
    path.parent.mkdir(exist_ok=True)
    pl.DataFrame({"invoiceId": ["E1"]}).write_parquet(
        path, metadata={kept_reads.METADATA_KEY: json.dumps({"layout": 99})}
    )
    assert "another layout" in why()
    about = {"layout": kept_reads.LAYOUT, "identity": IDENTITY, "read_on": NOW.isoformat()}
    pl.DataFrame({"invoiceId": ["E1"]}).write_parquet(
        path, metadata={kept_reads.METADATA_KEY: json.dumps(about | {"full_read_on": NOW.isoformat()})}
    )
    assert "other columns" in why(now=NOW + timedelta(hours=1))


def test_the_narrow_reads_ask_for_the_owed_and_for_new_invoices_with_nothing_owed_since_a_day_earlier() -> (
    None
):
    kept = KeptRead(_picture(), datetime(2026, 11, 24, 1, 30, tzinfo=UTC), NOW)
    owed, new_settled = kept_reads.narrow_filters(kept)
    assert owed == {"balanceAmountFrom": 0.01}
    assert new_settled == {"createdOnFrom": "2026-11-23 01:30:00", "balanceAmountTo": 0}


def test_invoices_that_owed_something_and_were_not_returned_are_read_one_by_one() -> None:
    kept = _picture(
        invoice("E1", "INV-1", "KC1"),  # owed, returned again
        invoice("E2", "INV-2", "KC1"),  # owed, not returned: paid in full or deleted since
        invoice("E3", "INV-3", "KC1", received=1000.0),  # nothing owed then: not read again
        invoice("E4", "INV-4", "KC1", balanceAmount=None),  # no balance: treated as owed
    )
    owed = _picture(invoice("E1", "INV-1", "KC1", received=10.0))
    assert kept_reads.left_the_owed(kept, owed, _picture()) == ["E2", "E4"]


def test_the_merged_picture_is_what_a_read_of_every_invoice_would_show() -> None:
    kept = _picture(
        invoice("E1", "INV-1", "KC1"),
        invoice("E2", "INV-2", "KC1"),
        invoice("E3", "INV-3", "KC1", received=1000.0),
        invoice("E5", "INV-5", "KC1"),
    )
    # Tonight: E1 part paid, E2 paid in full and E5 cancelled to nothing (both read one by one), E6
    # new and owed, E7 new and already paid, E3 unchanged (nothing owed then or now).
    owed = _picture(invoice("E1", "INV-1", "KC1", received=10.0), invoice("E6", "INV-6", "KC2"))
    new_settled = _picture(invoice("E7", "INV-7", "KC2", received=1000.0))
    left = kept_reads.left_the_owed(kept, owed, new_settled)
    assert left == ["E2", "E5"]
    settled = _picture(
        invoice("E2", "INV-2", "KC1", received=1000.0, status="PAID"),
        invoice("E5", "INV-5", "KC1", status="CANCELLED", balanceAmount=0.0),
    )

    picture = kept_reads.merged(kept, [owed, new_settled, settled])

    every = _picture(
        invoice("E1", "INV-1", "KC1", received=10.0),
        invoice("E2", "INV-2", "KC1", received=1000.0, status="PAID"),
        invoice("E3", "INV-3", "KC1", received=1000.0),
        invoice("E5", "INV-5", "KC1", status="CANCELLED", balanceAmount=0.0),
        invoice("E6", "INV-6", "KC2"),
        invoice("E7", "INV-7", "KC2", received=1000.0),
    )
    assert_frame_equal(picture.sort("invoiceId"), every)
    # An invoice two reads both return (created and paid while they ran) is held once, as the later one.
    twice = kept_reads.merged(_picture(), [owed, _picture(invoice("E6", "INV-6", "KC2", received=5.0))])
    assert twice.filter(pl.col("invoiceId") == "E6")["totalReceived"].to_list() == [5.0]


class _InvoiceProfile:
    def page_size(self, operation: str) -> int:
        assert operation == "searchCollectionInvoices"
        return 5000


class _Client:
    """What ``tasks.night_picture`` asks of the client around the narrow reads."""

    profile = _InvoiceProfile()
    searches_count = False


def _narrow(
    monkeypatch: pytest.MonkeyPatch, kept: pl.DataFrame, owed: pl.DataFrame | Exception, settled: pl.DataFrame
) -> pl.DataFrame | None:
    """``tasks.night_picture._narrow_read`` with EnKash's answers given: ``owed`` for the search of owed
    invoices (or raised), nothing new with nothing owed, ``settled`` for the one-by-one reads."""
    asked: list[list[str]] = []

    def search(block: object, ledger: object, filters: dict[str, object] | None = None) -> pl.DataFrame:
        assert filters is not None  # a narrow read never reads every invoice itself
        if "balanceAmountFrom" in filters:
            if isinstance(owed, Exception):
                raise owed
            return owed
        return _picture()

    def one_by_one(ids: list[str], block: object, ledger: object, missing_ok: bool = False) -> pl.DataFrame:
        assert missing_ok  # a deleted invoice is counted, not raised
        asked.append(ids)
        return settled.filter(pl.col("invoiceId").is_in(ids))

    monkeypatch.setattr(tasks.night_picture, "enkash_client", lambda block, ledger: _Client())
    monkeypatch.setattr(tasks.night_picture, "read_enkash_invoices", search)
    monkeypatch.setattr(tasks.night_picture, "reread_invoices", one_by_one)
    frame = tasks.night_picture._narrow_read(KeptRead(kept, NOW, NOW), None, None)
    assert len(asked) <= 1
    return frame


def test_a_narrow_search_enkash_refuses_makes_the_night_read_every_invoice(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    kept = _picture(invoice("E1", "INV-1", "KC1"))
    refused = BadRequestError(operation="searchCollectionInvoices", status_code=400)

    with caplog.at_level(logging.WARNING):
        assert _narrow(monkeypatch, kept, refused, _picture()) is None
    assert "did not answer the search of owed invoices as the contract guesses" in caplog.text
    # An outage is not a contract question: raised (the task's retries, then the stage, fail).
    with pytest.raises(ServerError):
        _narrow(monkeypatch, kept, ServerError(operation="searchCollectionInvoices", status_code=500), kept)


def test_invoices_that_left_the_owed_are_read_one_by_one_only_while_few(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # One page's worth of kept invoices allows 40 one-by-one reads (SETTLED_READS_PER_PAGE).
    limit = tasks.night_picture.SETTLED_READS_PER_PAGE
    kept = _picture(*(invoice(f"E{i:03}", f"INV-{i:03}", "KC1") for i in range(100)))
    paid = kept.with_columns(pl.lit(0.0).alias("balanceAmount"), pl.lit(1000.0).alias("totalReceived"))

    def owed_but(n: int) -> pl.DataFrame:
        return kept.slice(n)

    picture = _narrow(monkeypatch, kept, owed_but(limit), paid)
    assert picture is not None and picture.sort("invoiceId")["balanceAmount"].head(limit + 1).to_list() == [
        *([0.0] * limit),
        1000.0,
    ]
    with caplog.at_level(logging.INFO):
        assert _narrow(monkeypatch, kept, owed_but(limit + 1), paid) is None
    assert f"{limit + 1} invoices owed something at the last read and are no longer owed" in caplog.text
