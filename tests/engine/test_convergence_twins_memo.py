"""invoice_twins answers again about the same frame from its last split, and splits a new frame anew."""

from __future__ import annotations

import gc
import weakref
from datetime import UTC, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import ar_sync.convergence as convergence
from ar_sync.convergence import invoice_twins
from enkash_ar.frames import INVOICE_SCHEMA


def _invoices(*rows: tuple[str, str, bool]) -> pl.DataFrame:
    created = datetime(2026, 11, 1, tzinfo=UTC)
    return pl.DataFrame(
        [
            {
                "invoiceId": i,
                "externalId": e,
                "dispatched": d,
                "receivableStatus": "UNPAID",
                "createdOn": created,
            }
            for i, e, d in rows
        ],
        schema={
            name: INVOICE_SCHEMA[name]
            for name in ("invoiceId", "externalId", "dispatched", "receivableStatus", "createdOn")
        },
    ).with_columns(totalReceived=pl.lit(0.0), customerId=pl.lit("KC1"))


def test_the_same_frame_is_split_once_and_a_changed_picture_is_split_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    splits: list[int] = []
    split = convergence._split_twins

    def counted(frame: pl.DataFrame) -> convergence._Split:
        splits.append(frame.height)
        return split(frame)

    monkeypatch.setattr(convergence, "_split_twins", counted)
    picture = _invoices(("IN1", "INV-1", True), ("IN2", "INV-1", False), ("IN3", "INV-2", False))

    first = invoice_twins(picture)
    again = invoice_twins(picture)
    assert splits == [3]
    for name in ("keepers", "to_delete", "to_report"):
        assert_frame_equal(getattr(again, name), getattr(first, name))
    assert first.keepers["invoiceId"].to_list() == ["IN1", "IN3"]
    assert first.keepers.columns == picture.columns  # the picture's own columns, no helper left over
    assert first.to_delete["invoiceId"].to_list() == ["IN2"]

    # The night's writes replace the frame (here: the copy was deleted): a new frame, a new split.
    after = picture.filter(pl.col("invoiceId") != "IN2")
    second = invoice_twins(after)
    assert splits == [3, 2]
    assert second.to_delete.is_empty()
    assert invoice_twins(picture).to_delete["invoiceId"].to_list() == ["IN2"]


def test_the_cached_split_holds_row_positions_not_a_copy_of_the_rows() -> None:
    picture = _invoices(*((f"IN{n}", f"INV-{n % 50}", n < 50) for n in range(1000)))

    twins = invoice_twins(picture)

    held = convergence._last
    assert held is not None and held.frame() is picture
    assert held.keeper_rows.dtype == pl.UInt32 and held.keeper_rows.len() == twins.keepers.height == 50
    assert held.delete_rows.len() == twins.to_delete.height == 950


def test_the_split_is_let_go_with_its_frame() -> None:
    picture = _invoices(("IN1", "INV-1", True), ("IN2", "INV-1", False))
    invoice_twins(picture)
    assert convergence._last is not None

    del picture
    gc.collect()

    assert convergence._last is None


def test_a_new_frame_lets_the_last_split_go_while_the_old_frame_lives() -> None:
    old = _invoices(("IN1", "INV-1", True), ("IN2", "INV-1", False))
    invoice_twins(old)
    first = weakref.ref(convergence._last)
    invoice_twins(_invoices(("IN3", "INV-3", False)))
    gc.collect()

    assert first() is None, "the old split is held although its frame is still alive"
    assert old.height == 2
