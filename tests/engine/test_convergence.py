"""Which copy of a twin the cycle keeps, deletes or reports: the same answer in every run."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import polars as pl

from ar_sync.convergence import customer_keepers, customer_twins, invoice_twins
from ar_sync.keys import normalise_key
from ar_sync.planner import already_dispatched, invoices_to_dispatch

T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)


def invoices(*rows: tuple[str, str | None, bool, str, float, int]) -> pl.DataFrame:
    """(invoiceId, externalId, dispatched, receivableStatus, totalReceived, minutes after T0)."""
    return pl.DataFrame(
        [
            {
                "invoiceId": i,
                "externalId": x,
                "customerId": "KC1",
                "dispatched": d,
                "receivableStatus": s,
                "totalReceived": r,
                "createdOn": T0 + timedelta(minutes=m),
            }
            for i, x, d, s, r, m in rows
        ],
        schema={
            "invoiceId": pl.String,
            "externalId": pl.String,
            "customerId": pl.String,
            "dispatched": pl.Boolean,
            "receivableStatus": pl.String,
            "totalReceived": pl.Float64,
            "createdOn": pl.Datetime("us", "UTC"),
        },
    )


def test_undispatched_twins_keep_the_oldest_and_delete_the_rest() -> None:
    picture = invoices(
        ("IN3", "A", False, "UNPAID", 0.0, 5),
        ("IN1", "A", False, "UNPAID", 0.0, 1),
        ("IN2", "A", False, "UNPAID", 0.0, 1),
        ("IN4", "B", False, "UNPAID", 0.0, 0),
    )
    twins = invoice_twins(picture)
    assert sorted(twins.keepers["invoiceId"]) == ["IN1", "IN4"]  # oldest; same minute: lowest id
    assert sorted(twins.to_delete["invoiceId"]) == ["IN2", "IN3"]
    assert twins.to_report.is_empty()
    # Shuffled input, same decision: two runs converging at once agree.
    again = invoice_twins(picture.reverse())
    assert sorted(again.keepers["invoiceId"]) == ["IN1", "IN4"]


def test_the_dispatched_copy_is_kept_even_when_younger() -> None:
    twins = invoice_twins(
        invoices(("IN1", "A", False, "UNPAID", 0.0, 0), ("IN2", "A", True, "UNPAID", 0.0, 9))
    )
    assert twins.keepers["invoiceId"].to_list() == ["IN2"]
    assert twins.to_delete["invoiceId"].to_list() == ["IN1"]


def test_copies_the_cycle_may_not_delete_are_reported_with_their_keeper() -> None:
    twins = invoice_twins(
        invoices(
            ("IN1", "A", True, "UNPAID", 0.0, 0),
            ("IN2", "A", True, "UNPAID", 0.0, 1),
            ("IN3", "B", False, "UNPAID", 0.0, 0),
            ("IN4", "B", False, "PARTIALLY_PAID", 50.0, 1),
            ("IN5", "C", False, "UNPAID", 0.0, 0),
            ("IN6", "C", False, "PAID", 0.0, 1),
        )
    )
    assert twins.to_delete.is_empty()
    report = {r["invoiceId"]: (r["keeperId"], r["reason"]) for r in twins.to_report.iter_rows(named=True)}
    assert report["IN2"] == ("IN1", "dispatched twice: two live payment links for one invoice")
    assert report["IN4"] == ("IN3", "a second copy has already received money")
    assert report["IN6"] == ("IN5", "a second copy in status PAID")


def test_invoices_without_an_external_id_are_all_kept() -> None:
    twins = invoice_twins(
        invoices(("IN1", None, False, "UNPAID", 0.0, 0), ("IN2", None, False, "UNPAID", 0.0, 0))
    )
    assert sorted(twins.keepers["invoiceId"]) == ["IN1", "IN2"]
    assert twins.to_delete.is_empty()


def test_dispatch_planning_never_picks_a_twin() -> None:
    picture = invoices(
        ("IN1", "A", False, "UNPAID", 0.0, 0),
        ("IN2", "A", True, "UNPAID", 0.0, 1),
        ("IN3", "B", False, "UNPAID", 0.0, 0),
        ("IN4", "B", False, "UNPAID", 0.0, 1),
        ("IN5", "C", False, "PAID", 0.0, 0),
    )
    keepers = invoice_twins(picture).keepers
    erp = pl.DataFrame({"invoice_number": ["A", "B", "C"]})
    assert invoices_to_dispatch(erp, keepers)["invoiceId"].to_list() == ["IN3"]
    assert already_dispatched(erp, keepers)["invoiceId"].to_list() == ["IN2"]


def test_customer_twins_are_listed_keeper_first_and_the_keeper_is_the_lowest_id() -> None:
    customers = pl.DataFrame(
        {"uniqueRefNo": ["C1", "C1", "C2", None, None], "customerId": ["KC9", "KC3", "KC5", "KC7", "KC8"]}
    )
    assert customer_twins(customers).to_dicts() == [{"uniqueRefNo": "C1", "customerIds": ["KC3", "KC9"]}]
    assert sorted(customer_keepers(customers)["customerId"]) == ["KC3", "KC5", "KC7", "KC8"]


def test_every_live_invoice_is_kept_deleted_or_reported_once_and_each_key_keeps_its_first() -> None:
    # Random pictures (seeded): the split's rules hold on every one, whatever the row order.
    for seed in range(200):
        draw = random.Random(seed)
        rows = [
            (
                f"I{(n * 37) % 101:03d}",
                draw.choice(["A", "a ", "B", " b", "C", None]),
                draw.choice([True, False]),
                draw.choice(["UNPAID", "PARTIALLY_PAID", "PAID", "CANCELLED", "OVERDUE"]),
                draw.choice([0.0, 10.0]),
                draw.randint(0, 3),
            )
            for n in range(draw.randint(0, 40))
        ]
        frame = invoices(*rows)
        twins = invoice_twins(frame)
        keepers = twins.keepers.get_column("invoiceId").to_list()
        deleted = twins.to_delete.get_column("invoiceId").to_list()
        reported = twins.to_report.get_column("invoiceId").to_list()
        live = [r for r in rows if r[3] != "CANCELLED"]
        assert sorted(keepers + deleted + reported) == sorted(r[0] for r in live), seed

        def order(row: tuple[str, str | None, bool, str, float, int]) -> tuple[bool, int, str]:
            return (not row[2], row[5], row[0])

        by_key: dict[str | None, list[tuple[str, str | None, bool, str, float, int]]] = {}
        for row in live:
            if row[1] is not None:
                by_key.setdefault(normalise_key(row[1]), []).append(row)
        expected = {min(group, key=order)[0] for group in by_key.values()}
        expected |= {r[0] for r in live if r[1] is None}
        assert set(keepers) == expected, seed
        for row in live:
            if row[0] in deleted:
                assert not row[2] and row[3] in ("UNPAID", "PARTIALLY_PAID") and row[4] == 0.0, seed
        keeper_of = {normalise_key(r[1]): r[0] for r in live if r[0] in keepers and r[1] is not None}
        for report in twins.to_report.iter_rows(named=True):
            assert report["keeperId"] == keeper_of[normalise_key(report["externalId"])], seed
