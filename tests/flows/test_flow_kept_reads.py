"""A night that starts from the last night's read of the invoices (``ar_sync.kept_reads``) against the
sandbox: what it reads, and that its picture is the one a read of every invoice gives, whatever changed
in EnKash between the nights (payments in part and in full, invoices created and paid since the kept
read, a deletion), and when EnKash refuses the narrow searches."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import httpx as http
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ar_sync.kept_reads import KEPT_FOLDER
from enkash_ar.client import EnkashClient
from enkash_ar.settings import EnkashSettings
from sandbox.payment_simulation import pay
from sandbox.routes import WRITE_OPERATIONS
from sandbox.sample_data import mutate_erp_files
from tests.flows.night_helpers import every_invoice, kept_read, night_options, night_requests

DAY = 24 * 3600


def test_a_night_from_the_kept_read_sees_every_change_a_read_of_every_invoice_sees(
    enkash_env: Any,
    sandbox_state: Any,
    as_of: date,
    erp_files: tuple[Path, Path],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ledger, options = night_options(tmp_path, chunk_size=64)

    def counts() -> dict[str, int]:
        return dict(sandbox_state(summary=True)["request_counts"])

    # The first night's invoices were created two days ago by EnKash's clock: before the window of the
    # search for new invoices with nothing owed (a day before the kept read).
    http.post(f"{enkash_env.base_url}/_sandbox/clock", json={"offset_seconds": -2 * DAY}).raise_for_status()
    try:
        night_requests(*erp_files, options, as_of, counts)
    finally:
        http.post(f"{enkash_env.base_url}/_sandbox/clock", json={"offset_seconds": 0}).raise_for_status()
    # The second night's read is kept; the invoices it adds are uploaded after that read.
    next_files = mutate_erp_files(
        *erp_files, tmp_path / "next", as_of=as_of, changed_fraction=0, new_fraction=0.05
    )
    night_requests(*next_files, options, as_of, counts)
    kept = kept_read(ledger)
    later = every_invoice().filter(~pl.col("invoiceId").is_in(kept["invoiceId"].implode()))
    assert kept.height > 0 and later.height > 0

    # Between the nights, in EnKash: a payment in part, one in full of an older invoice, and one in full
    # of an invoice created after the kept read (the owed search cannot return it, the kept read does
    # not hold it).
    url = enkash_env.base_url
    part, full, deleted = kept["invoiceId"].head(3).to_list()
    pay(url, invoiceId=part, amount=100.0, mode="UPI")
    pay(url, invoiceId=full, mode="NEFT")
    pay(url, invoiceId=later["invoiceId"][0], mode="UPI")
    every = every_invoice()

    caplog.clear()
    third = night_requests(*next_files, options, as_of, counts)
    print("third night:", dict(sorted(third.items())))

    # Its picture, kept for the next night, is what a read of every invoice showed when it began.
    assert_frame_equal(kept_read(ledger), every)
    # Only the older invoice paid in full was read one by one (the stages read no single invoice on
    # this night), and EnKash's count agreed with the picture: no read of every invoice.
    assert third["getInvoice"] == 1
    assert "Reading every invoice" not in caplog.text

    # An invoice deleted since: not found one by one, and the night reads every invoice rather than
    # take the 404 on trust (dropping an invoice that exists would upload its number again).
    with EnkashClient.from_settings(EnkashSettings()) as client:
        client.delete_invoice_collection([deleted])
    every = every_invoice()
    caplog.clear()
    night_requests(*next_files, options, as_of, counts)
    assert "not found one by one (deleted since?): reading every invoice" in caplog.text
    assert_frame_equal(kept_read(ledger), every)

    # An EnKash whose invoice search does not know the narrow reads' filters (a 400 each): the night
    # reads every invoice instead, keeps that read, and sends nothing (the files did not change).
    pay(url, invoiceId=part, amount=50.0, mode="UPI")
    refused = {"refused_filters": ["balanceAmountFrom", "createdOnFrom"]}
    http.post(f"{url}/_sandbox/faults", json=refused).raise_for_status()
    every = every_invoice()
    caplog.clear()
    refused_night = night_requests(*next_files, options, as_of, counts)
    assert "did not answer the search of owed invoices as the contract guesses" in caplog.text
    assert_frame_equal(kept_read(ledger), every)
    assert not {op for op, n in refused_night.items() if n and op in WRITE_OPERATIONS}


def test_with_full_reads_every_night_nothing_is_kept_and_a_quiet_night_reads_every_invoice_once(
    enkash_env: Any, sandbox_state: Any, as_of: date, erp_files: tuple[Path, Path], tmp_path: Path
) -> None:
    ledger, options = night_options(tmp_path, full_read_every_days=0)

    def counts() -> dict[str, int]:
        return dict(sandbox_state(summary=True)["request_counts"])

    night_requests(*erp_files, options, as_of, counts)
    before = counts()
    every_invoice()
    full = counts()["searchCollectionInvoices"] - before["searchCollectionInvoices"]
    quiet = night_requests(*erp_files, options, as_of, counts)

    assert quiet["searchCollectionInvoices"] == full
    assert quiet.get("getInvoice", 0) == 0
    assert not (ledger.parent / KEPT_FOLDER).exists()
