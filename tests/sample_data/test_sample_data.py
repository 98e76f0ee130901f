"""Demo ERP files: they load through the real loaders with exactly the planted bad rows rejected."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ar_sync.erp_fields import GSTIN_PATTERN, gstin_check_char
from ar_sync.erp_input import load_customers, load_invoices
from ar_sync.summaries import aging
from sandbox.sample_data import (
    STATES,
    FileFormat,
    generate_erp_files,
    injected_bad_rows,
    mutate_erp_files,
    next_night,
    sample_customers,
    sample_invoices,
)

AS_OF = date(2026, 5, 15)


@pytest.mark.parametrize("file_format", ["csv", "parquet", "xlsx"])
def test_files_load_with_exactly_the_planted_rows_rejected(tmp_path: Path, file_format: FileFormat) -> None:
    customers_path, invoices_path = generate_erp_files(tmp_path, as_of=AS_OF, file_format=file_format)
    customers = load_customers(customers_path)
    invoices = load_invoices(invoices_path, known_customer_refs=customers.valid["customer_ref"])
    planted = injected_bad_rows(50, 500)
    assert (customers.total_rows, customers.rejected_rows) == (50, planted["customers"])
    assert (invoices.total_rows, invoices.rejected_rows) == (500, planted["invoices"])
    assert set(customers.rejected["column"]) == {"mobile", "legal_name"}
    assert set(invoices.rejected["column"]) == {"base_amount", "customer_ref", "due_date", "invoice_number"}
    reasons = " ".join(invoices.rejected["reason"])
    for fragment in ("must be at least 0.1", "unknown customer_ref", "not a date", "before invoice_date"):
        assert fragment in reasons
    assert invoices.rejected_rows / invoices.total_rows < 0.05


def test_clean_files_have_no_rejections_and_fill_every_aging_bucket(tmp_path: Path) -> None:
    customers_path, invoices_path = generate_erp_files(tmp_path, as_of=AS_OF, bad_rows=False)
    customers = load_customers(customers_path)
    invoices = load_invoices(invoices_path, known_customer_refs=customers.valid["customer_ref"])
    assert customers.rejected.is_empty() and invoices.rejected.is_empty()
    open_frame = invoices.valid.select("due_date", balance_amount=pl.col("base_amount"))
    assert (aging(open_frame, AS_OF)["invoices"] > 0).all()


def test_same_seed_same_frames_other_seed_other_frames() -> None:
    first = sample_invoices(sample_customers(seed=3), 200, as_of=AS_OF, seed=3)
    again = sample_invoices(sample_customers(seed=3), 200, as_of=AS_OF, seed=3)
    other = sample_invoices(sample_customers(seed=4), 200, as_of=AS_OF, seed=4)
    assert_frame_equal(first, again)
    assert not first.equals(other)


def test_gstins_are_well_formed_and_match_the_state() -> None:
    customers = sample_customers(2_000, bad_rows=False).filter(pl.col("gstin").is_not_null())
    assert customers["gstin"].str.contains(GSTIN_PATTERN).all()
    checks = customers.select(gstin_check_char(pl.col("gstin").str.slice(0, 14))).to_series()
    assert (checks == customers["gstin"].str.slice(14, 1)).all()
    codes = customers["state"].replace_strict({s[1]: s[0] for s in STATES})
    assert (codes == customers["gstin"].str.slice(0, 2)).all()


def test_gst_split_follows_the_seller_state() -> None:
    customers = sample_customers(200, bad_rows=False)
    invoices = sample_invoices(customers, 2_000, as_of=AS_OF, bad_rows=False).join(
        customers.select("customer_ref", "state"), on="customer_ref"
    )
    local = invoices.filter(pl.col("state") == "Maharashtra")
    assert local["igst"].is_null().all() and (local["cgst"] == local["sgst"]).all()
    assert invoices.filter(pl.col("state") != "Maharashtra")["cgst"].is_null().all()
    assert invoices["base_amount"].is_between(1000, 500_000).all()


def test_next_night_changes_and_adds_rows() -> None:
    customers = sample_customers(1_000)
    invoices = sample_invoices(customers, 5_000, as_of=AS_OF)
    new_customers, new_invoices = next_night(customers, invoices, as_of=date(2026, 5, 16), new_fraction=0.02)
    assert (new_customers.height, new_invoices.height) == (1_020, 5_100)
    changed = (new_invoices.head(5_000)["due_date"] != invoices["due_date"]).sum()
    assert 150 < changed < 350  # 5 % of 5,000, give or take
    assert new_invoices["invoice_number"].tail(100).str.ends_with("005001").any()


def test_mutated_files_load_with_new_rows_valid(tmp_path: Path) -> None:
    paths = generate_erp_files(tmp_path / "night1", as_of=AS_OF)
    customers_path, invoices_path = mutate_erp_files(*paths, tmp_path / "night2", as_of=date(2026, 5, 16))
    customers = load_customers(customers_path)
    invoices = load_invoices(invoices_path, known_customer_refs=customers.valid["customer_ref"])
    planted = injected_bad_rows(50, 500)
    assert (customers.total_rows, customers.rejected_rows) == (51, planted["customers"])
    assert (invoices.total_rows, invoices.rejected_rows) == (510, planted["invoices"])
