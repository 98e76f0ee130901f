"""Bulk ingest rules, proved on the backend directly: counts, per-field failures, result files, amounts."""

from __future__ import annotations

import io

import polars as pl
from backend_helpers import (
    OTHER_COMPANY,
    SELLER,
    add_customer,
    csv_upload,
    invoice_upload,
    refused,
    sub_error_fields,
)

from enkash_ar.bulk_template import CUSTOMER_CREATE, CUSTOMER_UPDATE, INVOICE_CREATE
from sandbox.backend import ArBackend
from sandbox.backend.bulk_files import Upload


def _file(backend: ArBackend, name: str) -> pl.DataFrame:
    return pl.read_csv(io.BytesIO(backend.result_file(name)), infer_schema=False)


def test_invoice_file_counts_failures_and_result_files(backend: ArBackend) -> None:
    cid = add_customer(backend)["customerId"]
    foreign = backend.customers.create(
        OTHER_COMPANY,
        {
            "legalName": "F",
            "customerKeyContacts": [
                {"name": "F", "legalName": "F", "mobile": "9876543210", "deleted": False}
            ],
        },
    )["customerId"]
    rows = [
        {"customerId": cid, "externalId": "E1", "dueDate": "2025-08-01", "baseAmount": "100.50", "cgst": "9"},
        {"customerId": cid, "externalId": "E2", "dueDate": "2025-02-30", "baseAmount": "0.01"},
        {"customerId": foreign, "externalId": "E3", "dueDate": "2025-08-01", "baseAmount": "5"},
        {
            "customerId": cid,
            "externalId": "E4",
            "dueDate": "2025-08-02",
            "baseAmount": "20",
            "partialPaymentAllowed": "TRUE",
        },
        {
            "customerId": cid,
            "externalId": "E5",
            "dueDate": "2025-08-02",
            "baseAmount": "1",
            "invoiceDate": "soon",
            "gstExclusive": "yes",
        },
    ]
    outcome = backend.bulk.create_invoices(SELLER, invoice_upload(rows), "req1")
    assert (outcome.total_count, outcome.success_count, outcome.failure_count) == (5, 2, 3)
    assert outcome.total_amount == 120.5 and outcome.warn_count == 0
    assert [(f["rowNumber"], f["field"]) for f in outcome.failure_requests] == [
        (2, "dueDate"),
        (2, "baseAmount"),
        (3, "customerId"),
        (5, "invoiceDate"),
        (5, "gstExclusive"),
    ]
    assert outcome.failure_requests[2]["reason"] == "customer not found for this seller"
    assert [(s["rowNumber"], s["externalId"]) for s in outcome.success_requests] == [(1, "E1"), (4, "E4")]
    success = _file(backend, outcome.files.success_name)
    assert outcome.files.success_name == "invoice_create-req1-success.csv"
    assert success.columns == list(INVOICE_CREATE.success_columns)
    assert success["invoiceId"].to_list() == [s["invoiceId"] for s in outcome.success_requests]
    failure = _file(backend, outcome.files.failure_name)
    assert failure.columns == list(INVOICE_CREATE.failure_columns)
    assert failure["externalId"].to_list() == ["E2", "E2", "E3", "E5", "E5"]
    stored = {i["externalId"]: i for i in backend.snapshot()["invoices"]}
    assert set(stored) == {"E1", "E4"} and stored["E1"]["netAmount"] == 109.5
    e4 = backend.invoices.get(SELLER, stored["E4"]["invoiceId"])
    assert e4["partialPaymentAllowed"] is True and e4["receivableStatus"] == "UNPAID"


def test_an_xlsx_file_reads_like_a_csv(backend: ArBackend) -> None:
    cid = add_customer(backend)["customerId"]
    buffer = io.BytesIO()
    columns = INVOICE_CREATE.columns
    row = {"customerId": cid, "dueDate": "2025-08-01", "baseAmount": "10", "invoiceDate": "2025-07-01"}
    pl.DataFrame(
        [{c: row.get(c, "") for c in columns}], schema=dict.fromkeys(columns, pl.String)
    ).write_excel(buffer)
    outcome = backend.bulk.create_invoices(SELLER, Upload("invoices.xlsx", buffer.getvalue()), "x")
    assert outcome.success_count == 1
    invoice = backend.invoices.get(SELLER, outcome.success_requests[0]["invoiceId"])
    assert invoice["invoiceDate"] == "2025-07-01T00:00:00Z"


def test_unknown_columns_are_ignored_and_counted(backend: ArBackend) -> None:
    cid = add_customer(backend)["customerId"]
    content = f"customerId,dueDate,baseAmount,colour,size\n{cid},2025-08-01,10,red,L\n".encode()
    outcome = backend.bulk.create_invoices(SELLER, Upload("x.csv", content), "x")
    assert (outcome.warn_count, outcome.success_count) == (2, 1)


def test_a_file_that_cannot_be_read_is_refused_whole(backend: ArBackend) -> None:
    assert sub_error_fields(refused(lambda: backend.bulk.create_invoices(SELLER, None, "x"))) == ["file"]
    header = refused(
        lambda: backend.bulk.create_invoices(SELLER, Upload("x.csv", b"customerId,externalId\nKC1,E\n"), "x")
    )
    assert sub_error_fields(header) == ["baseAmount", "dueDate"]
    assert header.message == "Bulk file x.csv lacks required columns"
    broken = refused(
        lambda: backend.bulk.create_invoices(SELLER, Upload("x.xlsx", b"PK\x03\x04garbage"), "x")
    )
    assert sub_error_fields(broken) == ["file"]
    assert backend.snapshot(summary=True)["invoices_count"] == 0


def test_customer_file_creates_valid_rows_with_one_key_contact(backend: ArBackend) -> None:
    contact = {"customerKeyContacts.name": "An", "customerKeyContacts.legalName": "An A"}
    mobile = {"customerKeyContacts.mobile": "9876543210"}
    rows = [
        {"legalName": "A Ltd", "uniqueRefNo": "A", **contact, **mobile},
        {
            "legalName": "B Ltd",
            "accountNumber": "x",
            "customerKeyContacts.email": "nope",
            **contact,
            **mobile,
        },
        {"legalName": "C Ltd", "customerKeyContacts.name": "Cy"},
    ]
    outcome = backend.bulk.create_customers(SELLER, csv_upload(rows, CUSTOMER_CREATE.columns), "c1")
    counts = (outcome.total_count, outcome.success_count, outcome.failure_count, outcome.total_amount)
    assert counts == (3, 1, 2, 0)
    assert [(f["rowNumber"], f["field"]) for f in outcome.failure_requests] == [
        (2, "accountNumber"),
        (2, "customerKeyContacts.email"),
        (3, "customerKeyContacts.legalName"),
        (3, "customerKeyContacts.mobile"),
    ]
    created = outcome.success_requests[0]
    assert created["uniqueRefNo"] == "A"
    contacts = backend.customers.contacts(SELLER, created["customerId"])
    assert [(c["name"], c["mobile"], c["deleted"]) for c in contacts] == [("An", "9876543210", False)]


def test_customer_update_file_changes_only_given_cells_of_live_customers(backend: ArBackend) -> None:
    customer = add_customer(backend, state="KA", address="Old street")
    gone = add_customer(backend)["customerId"]
    backend.customers.delete(SELLER, gone)
    rows = [
        {
            "customerId": customer["customerId"],
            "legalName": "Renamed",
            "customerKeyContacts.email": "a@example.in",
        },
        {"customerId": gone, "legalName": "X"},
        {"customerId": "bad"},
    ]
    outcome = backend.bulk.update_customers(SELLER, csv_upload(rows, CUSTOMER_UPDATE.columns), "u1")
    assert (outcome.success_count, outcome.failure_count) == (1, 2)
    assert outcome.failure_requests == [
        {"rowNumber": 2, "field": "customerId", "reason": "customer not found for this company"},
        {"rowNumber": 3, "field": "customerId", "reason": "must match ^KC[A-Z0-9]{14}$"},
    ]
    updated = backend.customers.set_status(SELLER, customer["customerId"], "ACTIVE")
    assert (updated["legalName"], updated["state"], updated["address"]) == ("Renamed", "KA", "Old street")
    contact = updated["customerKeyContacts"][0]
    assert (contact["email"], contact["name"]) == ("a@example.in", "Asha")
