"""Invoice rules, proved on the backend directly: amounts, validation, dispatch counting, deletion and
the Bharat Connect status changes."""

from __future__ import annotations

from typing import Any

import pytest
from backend_helpers import OTHER_COMPANY, SELLER, add_customer, add_invoice, refused, sub_error_fields

from sandbox.backend import ArBackend

LINKS = "http://sandbox.test/"


@pytest.fixture
def customer_id(backend: ArBackend) -> str:
    """A live customer of the seller, Zeta Traders."""
    return str(add_customer(backend, legalName="Zeta Traders")["customerId"])


def _dispatch_counts(backend: ArBackend) -> dict[str, int]:
    return {i["invoiceId"]: i["dispatch_count"] for i in backend.snapshot()["invoices"]}


def test_a_new_invoice_computes_what_the_customer_owes(backend: ArBackend, customer_id: str) -> None:
    invoice = add_invoice(
        backend, customer_id, baseAmount=1000, cgst=90, sgst=90, tds=10, invoiceDate="2025-07-01"
    )
    assert invoice["netAmount"] == 1170.0 and invoice["balanceAmount"] == 1170.0
    assert invoice["totalReceived"] == 0.0
    assert (invoice["receivableStatus"], invoice["payoutStatus"]) == ("UNPAID", "PENDING")
    assert invoice["approvalStatus"] == "APPROVER_APPROVED"
    assert invoice["invoiceDate"] == "2025-07-01T00:00:00Z"
    assert invoice["dispatched"] is False and invoice["dispatchedOn"] is None
    assert invoice["customerLegalName"] == "Zeta Traders"
    assert backend.invoices.get(SELLER, invoice["invoiceId"]) == invoice


def test_server_owned_amounts_in_a_create_body_are_checked_then_ignored(
    backend: ArBackend, customer_id: str
) -> None:
    body: dict[str, Any] = {
        "netAmount": 1,
        "balanceAmount": 2,
        "totalReceived": 3,
        "receivableStatus": "PAID",
    }
    invoice = add_invoice(backend, customer_id, baseAmount=50, **body)
    assert (invoice["netAmount"], invoice["balanceAmount"], invoice["totalReceived"]) == (50.0, 50.0, 0.0)
    assert invoice["receivableStatus"] == "UNPAID"
    wrong_type = refused(lambda: add_invoice(backend, customer_id, netAmount="50"))
    assert sub_error_fields(wrong_type) == ["netAmount"]


def test_create_reports_every_bad_member_in_order(backend: ArBackend) -> None:
    body = {
        "partialPaymentAllowed": "yes",
        "mobileNumber": "12",
        "tds": -1,
        "invoiceDate": "2025-13-01",
        "baseAmount": "100",
        "dueDate": "2025-02-30",
        "customerId": 5,
    }
    error = refused(lambda: backend.invoices.create(SELLER, body, LINKS))
    expected = ["customerId", "dueDate", "baseAmount", "invoiceDate", "tds", "mobileNumber"]
    assert sub_error_fields(error) == [*expected, "partialPaymentAllowed"]
    assert {s.field: s.rejected_value for s in error.sub_errors}["tds"] == -1
    missing = refused(lambda: backend.invoices.create(SELLER, {}, LINKS))
    assert sub_error_fields(missing) == ["customerId", "dueDate", "baseAmount"]


def test_unknown_customers_and_foreign_sellers(backend: ArBackend, customer_id: str) -> None:
    unknown = refused(lambda: add_invoice(backend, "KCZZZZZZZZZZZZZZ"))
    assert (unknown.status, unknown.error_type) == (404, "RECORD_NOT_FOUND")
    foreign = refused(lambda: add_invoice(backend, customer_id, sellerId=OTHER_COMPANY))
    assert foreign.status == 403
    invoice = add_invoice(backend, customer_id)
    assert refused(lambda: backend.invoices.get(OTHER_COMPANY, invoice["invoiceId"])).status == 404
    assert backend.snapshot(summary=True)["invoices_count"] == 1


def test_invoices_are_never_deduplicated(backend: ArBackend, customer_id: str) -> None:
    first = add_invoice(backend, customer_id, externalId="SAME", invoiceNumber="N1")
    second = add_invoice(backend, customer_id, externalId="SAME", invoiceNumber="N1")
    assert first["invoiceId"] < second["invoiceId"]


def test_update_recomputes_amounts_and_follows_json_nullable(backend: ArBackend, customer_id: str) -> None:
    invoice = add_invoice(backend, customer_id, description="old", cgst=10)
    iid = invoice["invoiceId"]
    updated = backend.invoices.update(
        SELLER, iid, {"description": None, "baseAmount": 200, "totalReceived": 50}
    )
    assert updated["description"] is None
    assert (updated["netAmount"], updated["totalReceived"], updated["balanceAmount"]) == (210.0, 50.0, 160.0)
    settled = backend.invoices.update(SELLER, iid, {"balanceAmount": 0, "receivableStatus": "PAID"})
    assert (settled["balanceAmount"], settled["receivableStatus"]) == (0.0, "PAID")


def test_update_refuses_a_net_amount_that_does_not_add_up_and_changes_nothing(
    backend: ArBackend, customer_id: str
) -> None:
    iid = add_invoice(backend, customer_id)["invoiceId"]
    error = refused(lambda: backend.invoices.update(SELLER, iid, {"baseAmount": 300, "netAmount": 1}))
    assert sub_error_fields(error) == ["netAmount"]
    assert backend.invoices.get(SELLER, iid)["baseAmount"] == 100.0
    cleared = refused(lambda: backend.invoices.update(SELLER, iid, {"baseAmount": None, "customerId": None}))
    assert sub_error_fields(cleared) == ["customerId", "baseAmount"]
    moved = refused(lambda: backend.invoices.update(SELLER, iid, {"customerId": "KCZZZZZZZZZZZZZZ"}))
    assert moved.status == 404


def test_every_successful_dispatch_is_counted(backend: ArBackend, customer_id: str) -> None:
    a, b = add_invoice(backend, customer_id)["invoiceId"], add_invoice(backend, customer_id)["invoiceId"]
    result = backend.invoices.dispatch(
        SELLER, {"invoiceIds": [a, "INVNOPE"], "partialPaymentAllowed": True}, LINKS
    )
    assert result == {
        "successInvoices": [{"invoiceId": a, "message": "Invoice dispatched"}],
        "failureInvoices": [{"invoiceId": "INVNOPE", "message": "Invoice not found"}],
    }
    backend.invoices.dispatch(SELLER, {"invoiceIds": [a]}, LINKS)
    assert _dispatch_counts(backend) == {a: 2, b: 0}
    dispatched = backend.invoices.get(SELLER, a)
    assert dispatched["dispatched"] is True and dispatched["dispatchedOn"]
    assert dispatched["paymentLink"] == f"{LINKS}pay/{a}" and dispatched["partialPaymentAllowed"] is True


def test_dispatch_now_dispatches_once_at_creation(backend: ArBackend, customer_id: str) -> None:
    invoice = add_invoice(backend, customer_id, dispatchNow=True)
    assert invoice["dispatched"] is True
    assert _dispatch_counts(backend) == {invoice["invoiceId"]: 1}


def test_paid_cancelled_and_foreign_invoices_are_not_dispatched(backend: ArBackend, customer_id: str) -> None:
    paid, cancelled = (
        add_invoice(backend, customer_id)["invoiceId"],
        add_invoice(backend, customer_id)["invoiceId"],
    )
    backend.bharat_connect.change_status(SELLER, {"invoiceIds": [paid], "remarks": "r", "status": "PAID"})
    backend.bharat_connect.change_status(
        SELLER, {"invoiceIds": [cancelled], "remarks": "r", "status": "CANCELLED"}
    )
    result = backend.invoices.dispatch(SELLER, {"invoiceIds": [paid, cancelled]}, LINKS)
    assert [f["message"] for f in result["failureInvoices"]] == ["Invoice is PAID", "Invoice is CANCELLED"]
    foreign = backend.invoices.dispatch(OTHER_COMPANY, {"invoiceIds": [paid]}, LINKS)
    assert foreign["failureInvoices"][0]["message"] == "Invoice not found"
    assert set(_dispatch_counts(backend).values()) == {0}


def test_an_empty_id_list_is_refused(backend: ArBackend) -> None:
    assert sub_error_fields(
        refused(lambda: backend.invoices.dispatch(SELLER, {"invoiceIds": []}, LINKS))
    ) == ["invoiceIds"]
    assert sub_error_fields(refused(lambda: backend.invoices.delete(SELLER, {}))) == ["invoiceIds"]


def test_delete_is_soft_and_reported_per_invoice(backend: ArBackend, customer_id: str) -> None:
    iid = add_invoice(backend, customer_id)["invoiceId"]
    result = backend.invoices.delete(SELLER, {"invoiceIds": [iid, iid]})
    assert [len(result["successInvoices"]), len(result["failureInvoices"])] == [1, 1]
    assert refused(lambda: backend.invoices.get(SELLER, iid)).status == 404
    assert backend.snapshot()["invoices"][0]["deleted"] is True


def test_an_accepted_payment_settles_and_a_refused_one_changes_nothing(
    backend: ArBackend, customer_id: str
) -> None:
    iid = add_invoice(backend, customer_id, cgst=18)["invoiceId"]
    confirm = {"invoiceIds": [iid], "paymentId": "PMT1", "remarks": "ok", "type": "OFFPLATFORM"}
    assert backend.bharat_connect.confirm_payment(SELLER, {**confirm, "response": "REJECT"}) == ("REJECT", 1)
    assert backend.invoices.get(SELLER, iid)["receivableStatus"] == "UNPAID"
    assert backend.bharat_connect.confirm_payment(SELLER, {**confirm, "response": "ACCEPT"}) == ("ACCEPT", 1)
    paid = backend.invoices.get(SELLER, iid)
    assert (paid["receivableStatus"], paid["balanceAmount"], paid["totalReceived"]) == ("PAID", 0.0, 118.0)


def test_payment_confirmation_rules(backend: ArBackend, customer_id: str) -> None:
    missing = refused(lambda: backend.bharat_connect.confirm_payment(SELLER, {"invoiceIds": ["X"]}))
    assert sub_error_fields(missing) == ["paymentId", "remarks", "response", "type"]
    live, cancelled = (
        add_invoice(backend, customer_id)["invoiceId"],
        add_invoice(backend, customer_id)["invoiceId"],
    )
    backend.bharat_connect.change_status(
        SELLER, {"invoiceIds": [cancelled], "remarks": "r", "status": "CANCELLED"}
    )
    body: dict[str, Any] = {"paymentId": "P", "remarks": "r", "response": "ACCEPT", "type": "ONPLATFORM"}
    on_cancelled = refused(
        lambda: backend.bharat_connect.confirm_payment(SELLER, {**body, "invoiceIds": [live, cancelled]})
    )
    assert on_cancelled.status == 400 and on_cancelled.sub_errors[0].rejected_value == [cancelled]
    unknown = refused(
        lambda: backend.bharat_connect.confirm_payment(SELLER, {**body, "invoiceIds": [live, "INVX"]})
    )
    assert unknown.status == 404
    assert backend.invoices.get(SELLER, live)["receivableStatus"] == "UNPAID"


def test_status_changes_reopen_and_close(backend: ArBackend, customer_id: str) -> None:
    iid = add_invoice(backend, customer_id)["invoiceId"]

    def change(status: str) -> dict[str, Any]:
        backend.bharat_connect.change_status(SELLER, {"invoiceIds": [iid], "remarks": "r", "status": status})
        return backend.invoices.get(SELLER, iid)

    assert change("PAID")["balanceAmount"] == 0.0
    reopened = change("UNPAID")
    assert (reopened["balanceAmount"], reopened["totalReceived"]) == (100.0, 0.0)
    cancelled = change("CANCELLED")
    assert (cancelled["receivableStatus"], cancelled["balanceAmount"]) == ("CANCELLED", 100.0)
    bad = refused(
        lambda: backend.bharat_connect.change_status(
            SELLER, {"invoiceIds": [iid], "remarks": "r", "status": "DONE"}
        )
    )
    assert sub_error_fields(bad) == ["status"]
