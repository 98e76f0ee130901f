"""Invoice operations against the sandbox: the good path and one documented failure each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest

from enkash_ar import (
    CreateInvoiceRequest,
    Customer,
    EnkashClient,
    Invoice,
    NotFoundError,
    UpdateInvoiceRequest,
    ValidationError,
)
from tests.client.client_helpers import dispatch_counts, unique

MakeInvoice = Callable[..., Invoice]


def test_create_invoice_fills_the_seller_and_server_amounts(client: EnkashClient, customer: Customer) -> None:
    assert customer.customer_id
    due = date.today() + timedelta(days=15)
    invoice = client.create_invoice(
        CreateInvoiceRequest(
            customer_id=customer.customer_id,
            due_date=due,
            base_amount=1000,
            cgst=90,
            sgst=90,
            external_id="ERP-1",
        )
    )
    assert invoice.invoice_id
    assert (invoice.seller_id, invoice.customer_id, invoice.external_id) == (
        client.seller_id,
        customer.customer_id,
        "ERP-1",
    )
    assert invoice.due_date == due
    assert invoice.net_amount == pytest.approx(1180.0)
    assert invoice.receivable_status and invoice.receivable_status.name == "UNPAID"


def test_create_invoice_below_minimum_amount_is_a_validation_error(
    client: EnkashClient, customer: Customer
) -> None:
    assert customer.customer_id
    body = {"customerId": customer.customer_id, "dueDate": "2030-01-01", "baseAmount": 1.0}
    request = CreateInvoiceRequest.model_validate(body).model_copy(update={"base_amount": 0.05})
    with pytest.raises(ValidationError) as info:
        client.create_invoice(request)
    text = str(info.value)
    assert text.startswith("createInvoice failed (VALIDATION_ERROR, requestId ")
    assert "baseAmount" in text and "0.05" in text


def test_create_invoice_rejects_bad_input_locally() -> None:
    with pytest.raises(ValueError, match=r"base_amount|baseAmount"):
        CreateInvoiceRequest.model_validate(
            {"customerId": "KC0000000000000A", "dueDate": "2030-01-01", "baseAmount": 0.01}
        )


def test_get_invoice(client: EnkashClient, make_invoice: MakeInvoice) -> None:
    made = make_invoice()
    assert made.invoice_id
    got = client.get_invoice(made.invoice_id)
    assert got.model_dump() == made.model_dump()


def test_get_unknown_invoice_is_not_found(client: EnkashClient) -> None:
    with pytest.raises(NotFoundError, match="getInvoice failed \\(RECORD_NOT_FOUND, requestId"):
        client.get_invoice("INV-DOES-NOT-EXIST")


def test_update_invoice_is_a_json_nullable_patch(client: EnkashClient, make_invoice: MakeInvoice) -> None:
    made = make_invoice(description="first", po_number="PO-1")
    assert made.invoice_id
    updated = client.update_invoice(
        made.invoice_id, UpdateInvoiceRequest(description="second", po_number=None)
    )
    assert (updated.description, updated.po_number) == ("second", None)
    assert updated.base_amount == made.base_amount  # absent: unchanged


def test_update_invoice_validation_error(client: EnkashClient, make_invoice: MakeInvoice) -> None:
    made = make_invoice()
    assert made.invoice_id
    with pytest.raises(ValidationError, match=r"dueDate|baseAmount"):
        client.update_invoice(made.invoice_id, {"baseAmount": None})


def test_search_by_our_extra_filters_and_the_frame(client: EnkashClient, make_invoice: MakeInvoice) -> None:
    made = [make_invoice() for _ in range(6)]
    hits = client.search_collection_invoices({"externalIds": [made[2].external_id]})
    assert [i.invoice_id for i in hits] == [made[2].invoice_id]
    hits = client.search_collection_invoices(
        {"invoiceNumbers": [made[0].invoice_number], "receivableStatuses": ["UNPAID"]}
    )
    assert [i.invoice_id for i in hits] == [made[0].invoice_id]
    frame = client.search_invoices_frame({"receivableStatuses": ["UNPAID"]}, page_size=4)
    assert sorted(frame["invoiceId"].to_list()) == sorted(i.invoice_id or "" for i in made)
    assert frame.schema["dueDate"] == pl.Date and frame.schema["netAmount"] == pl.Float64
    assert set(frame["receivableStatus"].to_list()) == {"UNPAID"}
    assert [i.invoice_id for i in client.search_all_invoices(page_size=5)] == [i.invoice_id for i in made]
    empty = client.search_invoices_frame({"externalIds": ["nothing"]})
    assert empty.is_empty() and "invoiceId" in empty.columns
    # Only the columns asked for, over several pages, the same rows; empty answers keep them too.
    narrow = client.search_invoices_frame(
        {"receivableStatuses": ["UNPAID"]}, page_size=4, columns=["invoiceId", "netAmount"]
    )
    assert narrow.schema == pl.Schema({"invoiceId": pl.String, "netAmount": pl.Float64})
    assert narrow.equals(frame.select("invoiceId", "netAmount"))
    assert client.search_invoices_frame({"externalIds": ["nothing"]}, columns=["invoiceId"]).columns == [
        "invoiceId"
    ]
    with pytest.raises(ValueError, match="invoiceId"):
        client.search_invoices_frame(columns=["netAmount"])


def test_search_invoices_bad_filter_is_a_validation_error(client: EnkashClient) -> None:
    with pytest.raises(ValidationError, match="dueDateFrom"):
        client.search_collection_invoices({"dueDateFrom": "yesterday"})


def test_dispatch_and_delete_collections(
    client: EnkashClient, make_invoice: MakeInvoice, sandbox: Any
) -> None:
    a, b = make_invoice(), make_invoice()
    assert a.invoice_id and b.invoice_id
    result = client.dispatch_invoice_collection([a.invoice_id, "INV-NOPE"], partial_payment_allowed=True)
    assert [i.invoice_id for i in result.success_invoices] == [a.invoice_id]
    assert [i.invoice_id for i in result.failure_invoices] == ["INV-NOPE"]
    assert client.get_invoice(a.invoice_id).dispatched is True
    assert dispatch_counts(sandbox)[a.invoice_id] == 1
    deleted = client.delete_invoice_collection([b.invoice_id])
    assert [i.invoice_id for i in deleted.success_invoices] == [b.invoice_id]
    with pytest.raises(NotFoundError):
        client.get_invoice(b.invoice_id)


def test_dispatch_nothing_is_refused(client: EnkashClient) -> None:
    with pytest.raises(ValidationError, match="invoiceIds"):
        client.dispatch_invoice_collection([])


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_invoice_bulk_upload_and_results(client: EnkashClient, customer: Customer, file_format: str) -> None:
    externals = [unique("BULK-INV-") for _ in range(3)]
    rows = pl.DataFrame(
        {
            "customerId": [customer.customer_id, customer.customer_id, "KC0000000000ZZZZ"],
            "externalId": externals,
            "dueDate": [date.today() + timedelta(days=30)] * 3,
            "baseAmount": [100.0, 0.00001, 200.0],
            "partialPaymentAllowed": [True, False, None],
        }
    )
    result = client.invoice_bulk_upload(rows, file_format=file_format)  # type: ignore[arg-type]
    assert (result.total_count, result.success_count, result.failure_count) == (3, 1, 2)
    assert result.total_amount == pytest.approx(100.0)
    success, failure = client.bulk_results(result)
    assert success["externalId"].to_list() == [externals[0]]
    assert sorted(set(failure["rowNumber"].to_list())) == ["2", "3"]
    found = client.search_collection_invoices({"externalIds": externals})
    assert [i.external_id for i in found] == [externals[0]]


def test_invoice_bulk_upload_missing_required_column(client: EnkashClient) -> None:
    from enkash_ar import BulkFileError

    with pytest.raises(BulkFileError, match="dueDate"):
        client.invoice_bulk_upload(pl.DataFrame({"customerId": ["KC0000000000000A"], "baseAmount": [1.0]}))


def test_bulk_results_of_an_all_good_upload_has_an_empty_failure_frame(
    client: EnkashClient, customer: Customer
) -> None:
    rows = pl.DataFrame(
        {"customerId": [customer.customer_id], "dueDate": ["2030-01-31"], "baseAmount": [10.5]}
    )
    success, failure = client.bulk_results(client.invoice_bulk_upload(rows))
    assert success.height == 1
    assert failure.is_empty() and "reason" in failure.columns


def test_download_unknown_result_file_is_not_found(client: EnkashClient) -> None:
    with pytest.raises(NotFoundError):
        client.download_result_file(f"{client.base_url}/_sandbox/files/nope.csv")
