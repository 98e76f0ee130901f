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
from ar_sync.planner import DISPATCH_PLAN_COLUMNS, already_dispatched, invoices_to_dispatch
from ar_sync.receivables import SUMMARY_INVOICE_COLUMNS, credit_sales, open_invoices_frame
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


def test_keepers_of_some_columns_are_the_keepers_with_those_columns_only() -> None:
    picture = _invoices(("IN1", "INV-1", True), ("IN2", "INV-1", False), ("IN3", "INV-2", False))
    twins = invoice_twins(picture)
    narrow = twins.keepers_of("invoiceId", "dispatched")
    assert_frame_equal(narrow, twins.keepers.select("invoiceId", "dispatched"))
    assert narrow.columns == ["invoiceId", "dispatched"]


def test_the_planners_read_only_the_columns_they_name_for_a_narrow_gather() -> None:
    # Dispatch planning and the summary get keepers_of(their columns): a column they read and do not
    # name would fail there, not here, so each is run on its columns alone and compared with the whole.
    whole = (
        pl.DataFrame(
            [
                {"invoiceId": "IN1", "externalId": "INV-1", "dispatched": True, "customerId": "KC1"},
                {"invoiceId": "IN2", "externalId": "INV-2", "dispatched": False, "customerId": "KC1"},
            ],
            schema={n: INVOICE_SCHEMA[n] for n in ("invoiceId", "externalId", "dispatched", "customerId")},
        )
        .with_columns(
            [
                pl.lit(None, dtype).alias(n)
                for n, dtype in INVOICE_SCHEMA.items()
                if n not in ("invoiceId", "externalId", "dispatched", "customerId")
            ]
        )
        .with_columns(
            receivableStatus=pl.lit("UNPAID"),
            balanceAmount=pl.lit(100.0),
            netAmount=pl.lit(100.0),
            invoiceDate=pl.lit(datetime(2026, 11, 20, tzinfo=UTC)),
        )
        .select(INVOICE_SCHEMA.names())
    )
    erp = pl.DataFrame({"invoice_number": ["INV-1", "INV-2"], "customer_ref": ["C1", "C1"]})
    customers = pl.DataFrame(
        {"customerId": ["KC1"], "uniqueRefNo": ["C1"], "legalName": ["Acme"], "customer_ref": ["C1"]}
    )
    ids = customers.select("customer_ref", "customerId")
    narrow = whole.select(DISPATCH_PLAN_COLUMNS)
    assert_frame_equal(invoices_to_dispatch(erp, narrow, ids), invoices_to_dispatch(erp, whole, ids))
    assert invoices_to_dispatch(erp, narrow, ids)["invoiceId"].to_list() == ["IN2"]
    assert_frame_equal(already_dispatched(erp, narrow), already_dispatched(erp, whole))
    summary = whole.select(SUMMARY_INVOICE_COLUMNS)
    assert_frame_equal(
        open_invoices_frame(summary, customers).sort("invoice_number"),
        open_invoices_frame(whole, customers).sort("invoice_number"),
    )
    assert open_invoices_frame(summary, customers).height == 2
    as_of = datetime(2026, 11, 24).date()
    assert credit_sales(summary, as_of) == credit_sales(whole, as_of) == 200.0
