"""The fast read of invoice pages (``frames.INVOICE_ROW``) gives the frame the ``Invoice`` models give,
and refuses what they refuse: plain Python, no HTTP."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from pydantic import TypeAdapter, ValidationError

from enkash_ar.contract_profile import ContractProfile
from enkash_ar.frames import INVOICE_ROW, INVOICE_SCHEMA, invoice_rows_frame, invoices_frame, unique_rows
from enkash_ar.models import PROFILE_CONTEXT, Invoice

ROWS: Any = TypeAdapter(list[INVOICE_ROW])
MODELS = TypeAdapter(list[Invoice])
PROFILE = ContractProfile(
    receivable_statuses={"OPEN": "UNPAID", "PART_PAID": "PARTIALLY_PAID", "PAID": "PAID", "VOID": "CANCELLED"}
)


def _status(name: str | None) -> dict[str, Any] | None:
    return None if name is None else {"label": str(name).title(), "name": name}


#: Records as EnKash might send them: every format the models accept, members missing, members unknown.
RECORDS: list[dict[str, Any]] = [
    {
        "invoiceId": "INV1",
        "externalId": "ERP-1",
        "customerId": "KC1",
        "invoiceDate": "2025-07-01T10:00:00Z",
        "dueDate": "2025-08-01",
        "baseAmount": 1000,
        "netAmount": "1180.50",
        "balanceAmount": 1180.5,
        "totalReceived": 0,
        "cgst": 90.25,
        "dispatched": False,
        "partialPaymentAllowed": "true",
        "approvalStatus": _status("APPROVER_APPROVED"),
        "receivableStatus": _status("OPEN"),
        "payoutStatus": _status("PENDING"),
        "createdOn": "2025-07-01T10:00:00.123+05:30",
        "modifiedOn": "2025-07-01T10:00:00",
        "invoiceAttachments": [{"url": "https://x"}],
        "hasKeyContacts": True,
        "somethingNew": {"nested": [1, 2]},
    },
    {
        "invoiceId": "INV2",
        "receivableStatus": _status("PART_PAID"),
        "dispatched": True,
        "dispatchedOn": 1751364000,
        "lastPaymentOn": "2025-07-02T00:00:00-03:00",
        "lastPaymentMode": "UPI",
    },
    {"invoiceId": "INV3", "receivableStatus": None, "approvalStatus": {"label": "no name"}},
    {"invoiceId": "INV4"},
]


def _by_models(records: list[dict[str, Any]], profile: ContractProfile | None) -> pl.DataFrame:
    context = {PROFILE_CONTEXT: profile} if profile else None
    return invoices_frame(MODELS.validate_python(records, context=context))


def _by_rows(records: list[dict[str, Any]], profile: ContractProfile | None) -> pl.DataFrame:
    return invoice_rows_frame(ROWS.validate_python(records), profile)


@pytest.mark.parametrize("profile", [None, PROFILE], ids=["no-profile", "profile"])
def test_the_fast_read_gives_the_models_frame(profile: ContractProfile | None) -> None:
    fast = _by_rows(RECORDS, profile)
    assert fast.schema == INVOICE_SCHEMA
    assert_frame_equal(fast, _by_models(RECORDS, profile))


def test_statuses_get_their_canonical_names_and_date_times_are_utc() -> None:
    fast = _by_rows(RECORDS, PROFILE)
    assert fast.get_column("receivableStatus").to_list() == ["UNPAID", "PARTIALLY_PAID", None, None]
    created = fast.get_column("createdOn").to_list()[0]
    assert (created.hour, created.minute, str(created.tzinfo)) == (4, 30, "UTC")


def test_an_empty_page_keeps_the_columns() -> None:
    assert_frame_equal(_by_rows([], PROFILE), pl.DataFrame(schema=INVOICE_SCHEMA))


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("dueDate", "01/08/2025"),
        ("dueDate", "2025-13-01"),
        ("invoiceDate", "yesterday"),
        ("baseAmount", "1.180,50"),
        ("baseAmount", "12 INR"),
        ("balanceAmount", [1]),
        ("dispatched", "maybe"),
        ("invoiceId", 12345),
        ("receivableStatus", "UNPAID"),
        ("receivableStatus", {"name": 5}),
    ],
)
def test_a_value_the_models_refuse_the_fast_read_refuses(member: str, value: Any) -> None:
    record = {"invoiceId": "INV9", "receivableStatus": _status("OPEN"), member: value}
    with pytest.raises(ValidationError) as by_models:
        _by_models([record], PROFILE)
    with pytest.raises(ValidationError) as by_rows:
        _by_rows([record], PROFILE)
    # Both name the member that is wrong (pydantic's path: record index, member, and the status's part).
    assert member in by_rows.value.errors()[0]["loc"]
    assert member in by_models.value.errors()[0]["loc"]


def test_a_status_name_the_profile_does_not_know_stops_the_fast_read() -> None:
    record = {"invoiceId": "INV9", "receivableStatus": _status("UNPAID")}
    with pytest.raises(ValueError, match="'UNPAID' is not a name the contract profile knows"):
        _by_rows([record], PROFILE)
    with pytest.raises(ValidationError, match="'UNPAID' is not a name the contract profile knows"):
        _by_models([record], PROFILE)


def test_a_record_read_twice_keeps_its_first_row_and_rows_without_an_id_stay() -> None:
    frame = pl.DataFrame({"invoiceId": ["A", "B", None, "A", None, "C"], "n": [1, 2, 3, 4, 5, 6]})
    assert unique_rows(frame, "invoiceId").get_column("n").to_list() == [1, 2, 3, 5, 6]
    # Nothing read twice (a usual read): the frame itself, not a copy of every row.
    once = frame.filter(pl.col("n") != 4)
    assert unique_rows(once, "invoiceId") is once
