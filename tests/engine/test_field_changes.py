"""Set, clear or leave alone: ERP values against how EnKash stores them; keys matched normalised (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ar_sync.convergence import customer_twins, invoice_twins
from ar_sync.planner import (
    DISPATCH_ERP_FIELDS,
    already_dispatched,
    customer_id_map,
    invoices_to_dispatch,
    plan_customers,
    plan_invoices,
    planning_customers,
)
from tests.engine.pictures import GSTIN, customer, customer_line, export, invoice, invoice_line, invoices

KC1 = "KC00000000000001"


def test_a_second_night_on_the_same_files_plans_no_update_however_enkash_stores_the_values(
    tmp_path: Path,
) -> None:
    erp = export(
        tmp_path,
        [customer_line("C1", email="Asha.Rao@Example.in", gstin=GSTIN.lower(), address="12  MG Road ")],
        [invoice_line("INV-1", "C1", cgst="0"), invoice_line("INV-2", "C1", po="PO 7")],
    )
    # EnKash keeps its own forms: upper-case GSTIN, lower-case e-mail, +91 on the mobile, single spaces;
    # a date-time at midnight in India (the evening before in UTC); a missing tax as null.
    held = customer(
        KC1,
        "C1",
        panOrGstin=GSTIN,
        address="12 MG Road",
        contactNumber="+919876543210",
        contact={"email": "asha.rao@example.in"},
    )
    picture = invoices(
        invoice("IN1", "INV-1", KC1, invoiceDate=datetime(2026, 10, 31, 18, 30, tzinfo=UTC)),
        invoice("IN2", "INV-2", KC1, cgst=0.0, poNumber=" PO 7"),
    )

    customers = plan_customers(erp[0].valid, planning_customers([held]))
    assert (customers.to_create.height, customers.to_update.height, customers.to_clear.height) == (0, 0, 0)
    assert customers.unchanged == 1
    plan = plan_invoices(erp[1].valid, customer_id_map(planning_customers([held])), picture)
    assert (plan.to_create.height, plan.to_update.height, plan.to_clear.height) == (0, 0, 0)


def test_an_emptied_field_is_cleared_and_never_counted_as_an_update(tmp_path: Path) -> None:
    erp = export(
        tmp_path,
        [
            customer_line("C1", name="C1 Traders Pvt Ltd")
        ],  # legal name changed; gstin, e-mail, address emptied
        [invoice_line("INV-1", "C1"), invoice_line("INV-2", "C1")],
    )
    held = customer(KC1, "C1", panOrGstin=GSTIN, address="12 MG Road", contact={"email": "asha@example.in"})
    picture = invoices(
        invoice("IN1", "INV-1", KC1, cgst=90.0, poNumber="PO 7"),
        invoice("IN2", "INV-2", KC1, cgst=0.0),  # a tax EnKash holds as 0 is nothing to clear
    )

    customers = plan_customers(erp[0].valid, planning_customers([held]))
    assert customers.to_update["legalName"].to_list() == ["C1 Traders Pvt Ltd"]
    assert customers.to_clear.select("customer_ref", "field", "member").rows() == [
        ("C1", "gstin", "panOrGstin"),
        ("C1", "address", "address"),
        ("C1", "email", "customerKeyContacts.email"),
    ]
    plan = plan_invoices(erp[1].valid, customer_id_map(planning_customers([held])), picture)
    assert plan.to_update.is_empty()
    assert plan.to_clear.select("externalId", "field", "member").rows() == [
        ("INV-1", "cgst", "cgst"),
        ("INV-1", "po_number", "poNumber"),
    ]


def test_erp_and_enkash_keys_are_matched_normalised_on_both_sides(tmp_path: Path) -> None:
    erp = export(tmp_path, [customer_line("CUST00001")], [invoice_line("INV/2026-27/000001", "CUST00001")])
    held = [customer(KC1, "cust00001")]
    picture = invoices(invoice("IN1", "inv/2026-27/000001", KC1))

    customers = plan_customers(erp[0].valid, planning_customers(held))
    assert customers.to_create.is_empty() and customers.present.rows() == [("CUST00001", KC1)]
    ids = customer_id_map(planning_customers(held))
    plan = plan_invoices(erp[1].valid, ids, invoice_twins(picture).keepers)
    assert plan.to_create.is_empty() and plan.to_update.is_empty()
    assert plan.present.select("externalId", "invoiceId").rows() == [("INV/2026-27/000001", "IN1")]
    pending = invoices_to_dispatch(erp[1].valid, invoice_twins(picture).keepers, ids)
    assert pending["invoiceId"].to_list() == ["IN1"]


def test_twins_are_keyed_the_same_way(tmp_path: Path) -> None:
    picture = invoices(invoice("IN1", "INV/1", KC1), invoice("IN2", "inv/1 ", KC1, minutes=3))
    twins = invoice_twins(picture)
    assert twins.keepers["invoiceId"].to_list() == ["IN1"]
    assert twins.to_delete["invoiceId"].to_list() == ["IN2"]
    held = planning_customers([customer(KC1, "C1"), customer("KC00000000000002", "c1\u200b")])
    assert customer_twins(held).rows() == [("C1", [KC1, "KC00000000000002"])]


def test_an_invoice_still_under_its_former_customer_is_not_dispatched_to_it(tmp_path: Path) -> None:
    erp = export(tmp_path, [customer_line("C1"), customer_line("C2")], [invoice_line("INV-1", "C2")])
    held = planning_customers([customer(KC1, "C1"), customer("KC00000000000002", "C2")])
    picture = invoices(invoice("IN1", "INV-1", KC1))

    assert invoices_to_dispatch(erp[1].valid, picture, customer_id_map(held)).is_empty()


def test_a_cancelled_copy_is_no_receivable_for_any_plan(tmp_path: Path) -> None:
    # Whether or not the caller passes twins' keepers (which never hold a cancelled copy), a cancelled
    # copy is neither held, nor dispatched, nor counted dispatched: its number is uploaded again.
    erp = export(tmp_path, [customer_line("C1")], [invoice_line("INV-1", "C1"), invoice_line("INV-2", "C1")])
    ids = customer_id_map(planning_customers([customer(KC1, "C1")]))
    picture = invoices(
        invoice("IN1", "INV-1", KC1, status="CANCELLED", dispatched=True),
        invoice("IN2", "INV-2", KC1),
    )
    plan = plan_invoices(erp[1].valid, ids, picture)
    assert plan.to_create.get_column("externalId").to_list() == ["INV-1"]
    assert plan.present.get_column("invoiceId").to_list() == ["IN2"]
    assert invoices_to_dispatch(erp[1].valid, picture, ids).get_column("invoiceId").to_list() == ["IN2"]
    assert already_dispatched(erp[1].valid, picture).is_empty()
    # Nothing cancelled: the same plans from the same frame.
    live = invoices(invoice("IN2", "INV-2", KC1))
    assert invoices_to_dispatch(erp[1].valid, live, ids).get_column("invoiceId").to_list() == ["IN2"]


def test_dispatch_plans_from_the_erp_fields_it_loads_alone_in_externalid_order(tmp_path: Path) -> None:
    # Inside a night the dispatch stage loads only DISPATCH_ERP_FIELDS of the ERP's invoice rows.
    erp = export(
        tmp_path,
        [customer_line("C1"), customer_line("C2")],
        [invoice_line("INV-3", "C1"), invoice_line("INV-1", "C2"), invoice_line("INV-2", "C1")],
    )
    ids = customer_id_map(planning_customers([customer(KC1, "C1"), customer("KC00000000000002", "C2")]))
    picture = invoices(
        invoice("IN3", "INV-3", KC1),
        invoice("IN1", "INV-1", "KC00000000000002"),
        invoice("IN2", "INV-2", KC1, dispatched=True),
    )
    narrowed = erp[1].valid.select(DISPATCH_ERP_FIELDS)

    pending = invoices_to_dispatch(narrowed, picture, ids)
    assert pending.rows() == [("IN1", "INV-1", "KC00000000000002"), ("IN3", "INV-3", KC1)]
    assert pending.equals(invoices_to_dispatch(erp[1].valid, picture, ids))
    assert already_dispatched(narrowed, picture).rows() == [("INV-2", "IN2")]
    assert already_dispatched(narrowed, picture).equals(already_dispatched(erp[1].valid, picture))


def test_the_open_status_check_counts_the_erps_undispatched_invoices_by_key_from_its_keys_alone(
    tmp_path: Path,
) -> None:
    from flows.dispatch_invoices import _must_be_open

    erp = export(tmp_path, [customer_line("C1")], [invoice_line("INV-1", "C1"), invoice_line("INV-2", "C1")])
    picture = invoices(
        invoice("IN1", " inv-1", KC1, status="PAID"),  # the ERP's INV-1, written otherwise
        invoice("IN2", "INV-2", KC1, dispatched=True),  # dispatched: may have been paid
        invoice("IN9", "INV-9", KC1, status="PAID"),  # not the ERP's
    )
    counts = _must_be_open(picture, erp[1].valid.select(DISPATCH_ERP_FIELDS))
    assert counts.rows() == [("PAID", 1)]
