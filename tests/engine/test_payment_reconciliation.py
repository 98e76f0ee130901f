"""What the ERP says is paid against what EnKash received: every disagreement listed, nothing changed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from ar_sync.collection_summary import Collections, erp_credit_sales
from ar_sync.night_payments import PAYMENT_ERP_FIELDS
from ar_sync.output_files import PAYMENT_MISMATCHES_FILE
from ar_sync.payment_reconciliation import MismatchKind
from tests.engine.payment_pictures import ERP_SCHEMA, EnkashBook, erp_invoices, run_night

NIGHT_1 = date(2026, 11, 24)
NIGHT_2 = NIGHT_1 + timedelta(days=1)


@pytest.fixture
def book() -> EnkashBook:
    book = EnkashBook()
    for n, net in enumerate((1000.0, 2000.0, 3000.0, 4000.0, 5000.0), start=1):
        book.invoice(f"INV{n}", f"I{n}", "C1", net)
    return book


def _erp(**payments: tuple[str | None, str | None]) -> pl.DataFrame:
    """ERP invoices I1..I5 (base = EnKash net), with (status, amount_paid) for the named ones."""
    rows = []
    for n, net in enumerate(("1000", "2000", "3000", "4000", "5000"), start=1):
        status, paid = payments.get(f"I{n}", (None, None))
        rows.append(
            {
                "invoice_number": f"I{n}",
                "base_amount": Decimal(net),
                "status": status,
                "amount_paid": None if paid is None else Decimal(paid),
            }
        )
    return erp_invoices(rows)


def test_the_payment_tests_feed_the_stage_exactly_the_erp_fields_it_loads() -> None:
    # Inside a night the payments stage loads only PAYMENT_ERP_FIELDS of the ERP's invoice rows; every
    # test here gives it those columns alone, so a column it reads and does not load fails here first
    # (amount_paid and status are optional: one missing from the list would pass silently elsewhere).
    assert tuple(ERP_SCHEMA) == PAYMENT_ERP_FIELDS


def test_each_kind_of_disagreement_is_listed_with_what_to_do(book: EnkashBook, tmp_path: Path) -> None:
    ledger, out = tmp_path / "ledger.sqlite3", tmp_path / "out"
    book.pay("INV2", 2000.0, on=NIGHT_1)
    book.pay("INV3", 1000.0, on=NIGHT_1)
    run_night(ledger, book, NIGHT_1, out)
    book.pay("INV5", 5000.0, on=NIGHT_2)
    before = book.invoice_frame()

    night = run_night(
        ledger,
        book,
        NIGHT_2,
        out,
        _erp(
            I1=("paid", None),  # the ERP booked it; EnKash still collects it
            I2=("unpaid", None),  # EnKash's payment of an earlier night never reached the ERP
            I3=("partially_paid", "500"),  # the ERP booked 500, EnKash received 1000
            I4=(None, "0"),  # agreed: nothing paid on either side
            I5=("paid", None),  # paid tonight on EnKash: on its way to the ERP, no disagreement
        ),
    )

    found = {m.invoice_number: m for m in night.collections.mismatches}
    assert {n: m.kind for n, m in found.items()} == {
        "I1": MismatchKind.PAID_IN_ERP_OPEN_IN_ENKASH,
        "I2": MismatchKind.PAID_IN_ENKASH_OPEN_IN_ERP,
        "I3": MismatchKind.AMOUNTS_DIFFER,
    }
    assert (found["I3"].erp_amount_paid, found["I3"].enkash_received) == (500.0, 1000.0)
    assert all(m.what_to_do for m in found.values())
    assert night.collections.mismatch_count == 3
    listed = pl.read_csv(out / PAYMENT_MISMATCHES_FILE)
    assert listed["invoice_number"].to_list() == ["I1", "I2", "I3"]
    assert book.invoice_frame().equals(before), "nothing is changed on EnKash"


def test_the_erp_rows_read_as_a_plan_give_the_same_night(book: EnkashBook, tmp_path: Path) -> None:
    # Inside a night the stage reads the ERP's rows as a plan over the validated file.
    book.pay("INV2", 2000.0, on=NIGHT_1)
    erp = _erp(I1=("paid", None), I2=("unpaid", None), I4=(None, "0"))
    eager = run_night(tmp_path / "a.sqlite3", book, NIGHT_1, tmp_path / "a", erp)
    planned = run_night(tmp_path / "b.sqlite3", book, NIGHT_1, tmp_path / "b", erp.lazy())

    assert planned.collections.mismatch_count == eager.collections.mismatch_count == 1
    assert planned.collections.model_dump(
        exclude={"mismatches_file", "payments_file"}
    ) == eager.collections.model_dump(exclude={"mismatches_file", "payments_file"})


def test_tonights_payment_is_on_its_way_not_a_disagreement(book: EnkashBook, tmp_path: Path) -> None:
    book.pay("INV5", 5000.0, on=NIGHT_1)

    night = run_night(tmp_path / "ledger.sqlite3", book, NIGHT_1, tmp_path / "out", _erp(I5=("unpaid", "0")))

    assert night.collections.mismatches == []
    assert night.collections.received == 5000.0


def test_money_the_erp_booked_by_hand_that_tonights_file_also_carries_is_flagged(
    book: EnkashBook, tmp_path: Path
) -> None:
    book.pay("INV4", 4000.0, on=NIGHT_1)

    night = run_night(tmp_path / "ledger.sqlite3", book, NIGHT_1, tmp_path / "out", _erp(I4=("paid", "4000")))

    # Importing tonight's line on top of the ERP's own booking would book the 4000 twice.
    assert [(m.invoice_number, m.kind) for m in night.collections.mismatches] == [
        ("I4", MismatchKind.AMOUNTS_DIFFER)
    ]


def test_an_export_without_payment_columns_has_nothing_to_reconcile(book: EnkashBook, tmp_path: Path) -> None:
    erp = _erp().drop("amount_paid", "status")

    night = run_night(tmp_path / "ledger.sqlite3", book, NIGHT_1, tmp_path / "out", erp)

    assert night.collections.mismatch_count == 0
    assert pl.read_csv(tmp_path / "out" / PAYMENT_MISMATCHES_FILE).is_empty()


def test_collection_rate_and_the_erps_credit_sales(book: EnkashBook, tmp_path: Path) -> None:
    book.pay("INV1", 1000.0, on=NIGHT_1)
    book.pay("INV2", 500.0, on=NIGHT_1)
    erp = _erp().with_columns(
        pl.when(pl.col("invoice_number") == "I5")
        .then(pl.lit(NIGHT_1 - timedelta(days=120)))
        .otherwise(pl.col("invoice_date"))
        .alias("invoice_date")
    )

    night = run_night(tmp_path / "ledger.sqlite3", book, NIGHT_1, tmp_path / "out", erp)

    # I5 was invoiced 120 days ago: outside the 90 days of DSO's credit sales.
    assert night.collections.erp_credit_sales == 10000.0
    assert erp_credit_sales(erp, book.invoice_frame(), NIGHT_1, period_days=200) == 15000.0
    open_after = 15000.0 - 1500.0
    assert night.collections.with_rate(open_after).collection_rate == pytest.approx(1500.0 / 15000.0)
    assert Collections(export_state="exported").with_rate(0.0).collection_rate is None


def test_credit_sales_date_a_row_without_an_invoice_date_by_its_enkash_invoice() -> None:
    as_of = date(2026, 12, 5)
    erp = pl.DataFrame(
        {
            "invoice_number": ["A", "B", "C", "D", "E"],
            "invoice_date": [as_of - timedelta(days=10), None, None, None, as_of - timedelta(days=120)],
            "base_amount": [100.0, 200.0, 400.0, 800.0, 1600.0],
            "cgst": [None, 0.0, 0.0, 0.0, 0.0],
            "sgst": [0.0] * 5,
            "igst": [0.0] * 5,
        }
    )
    day = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    enkash = pl.DataFrame(
        {
            # B dated inside the period (its first copy decides), C outside it; D is not in EnKash.
            "externalId": ["A", "B", "B", "C"],
            "invoiceDate": [day, day, day - timedelta(days=200), day - timedelta(days=100)],
        }
    )
    # A by its own date, B by EnKash's; C dated outside the 90 days, D undated, E too old.
    assert erp_credit_sales(erp, enkash, as_of) == 300.0
