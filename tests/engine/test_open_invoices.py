"""What is still owed, as the summaries read it: who owes it is named from the customers read."""

from __future__ import annotations

from ar_sync.night_picture import PICTURE_INVOICE_COLUMNS
from ar_sync.planner import planning_customers
from ar_sync.receivables import open_invoices_frame
from tests.engine.pictures import customer, invoice, invoices

KC1, KC2 = "KC00000000000001", "KC00000000000002"


def test_an_open_invoice_is_named_after_its_customer_from_the_picture_without_the_invoices_name() -> None:
    customers = planning_customers([customer(KC1, "C1", legalName="Acme Renamed Ltd")])
    picture = invoices(
        invoice("IN1", "INV-1", KC1, customerLegalName="Acme Old Name"),
        invoice("IN2", "INV-2", KC2, customerLegalName="Portal Co"),  # a customer the read does not hold
        invoice("IN3", "INV-3", KC1, status="PAID", received=1000.0),
    )
    # The night's picture keeps no name per invoice: the customer's current name is the one shown.
    assert "customerLegalName" not in PICTURE_INVOICE_COLUMNS
    held = open_invoices_frame(picture.select(PICTURE_INVOICE_COLUMNS), customers).sort("invoice_number")
    assert held.select("invoice_number", "customer_ref", "customer_name").rows() == [
        ("INV-1", "C1", "Acme Renamed Ltd"),
        ("INV-2", KC2, None),
    ]
    # A frame of every column (a read outside a night) names the customer the customers do not hold.
    every = open_invoices_frame(picture, customers).sort("invoice_number")
    assert every["customer_name"].to_list() == ["Acme Renamed Ltd", "Portal Co"]
    assert every.schema == held.schema and every.drop("customer_name").equals(held.drop("customer_name"))


def test_nothing_open_is_an_empty_frame_of_the_summary_schema() -> None:
    paid = invoices(invoice("IN1", "INV-1", KC1, status="PAID", received=1000.0))
    frame = open_invoices_frame(paid.select(PICTURE_INVOICE_COLUMNS), planning_customers([]))
    assert frame.is_empty() and "customer_name" in frame.columns
