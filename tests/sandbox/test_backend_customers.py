"""Customer rules, proved on the backend directly: validation, scope, JsonNullable updates, soft delete."""

from __future__ import annotations

from backend_helpers import OTHER_COMPANY, SELLER, add_customer, refused, sub_error_fields
from sandbox_helpers import customer_body

from sandbox.backend import ArBackend

UNKNOWN = "KCZZZZZZZZZZZZZZ"


def test_a_new_customer_is_active_with_ids_for_it_and_its_contacts(backend: ArBackend) -> None:
    customer = add_customer(backend, uniqueRefNo="ERP-1")
    assert customer["customerId"].startswith("KC") and len(customer["customerId"]) == 16
    assert (customer["status"], customer["companyId"], customer["uniqueRefNo"]) == ("ACTIVE", SELLER, "ERP-1")
    contact = customer["customerKeyContacts"][0]
    assert contact["keyContactPersonId"].startswith("KCP")
    assert (contact["mail_enabled"], contact["sms_enabled"], contact["whatsapp_enabled"]) == (
        True,
        True,
        False,
    )
    assert customer["customerReminders"] == []
    assert add_customer(backend, uniqueRefNo="ERP-1")["customerId"] != customer["customerId"]


def test_create_reports_one_sub_error_per_bad_field_with_its_value(backend: ArBackend) -> None:
    body = customer_body(contactNumber="12", ifsc="BAD", accountNumber="x", branchCodes=[1])
    del body["legalName"]
    body["customerKeyContacts"][0]["mobile"] = "abc"
    body["customerReminders"] = [{"reminderType": "WEEKLY"}]
    error = refused(lambda: backend.customers.create(SELLER, body))
    assert (error.status, error.error_type) == (400, "VALIDATION_ERROR")
    assert sorted(sub_error_fields(error)) == sorted(
        [
            "legalName",
            "contactNumber",
            "accountNumber",
            "ifsc",
            "branchCodes",
            "customerKeyContacts[0].mobile",
            "customerReminders[0].reminderType",
            "customerReminders[0].reminderTime",
            "customerReminders[0].dueDateDifference",
        ]
    )
    assert {s.field: s.rejected_value for s in error.sub_errors}["ifsc"] == "BAD"
    assert backend.snapshot(summary=True)["customers_count"] == 0


def test_wrong_json_types_and_a_body_that_is_not_an_object_are_refused(backend: ArBackend) -> None:
    wrong = refused(
        lambda: backend.customers.create(SELLER, customer_body(legalName=42, customerKeyContacts="x"))
    )
    assert sub_error_fields(wrong) == ["legalName", "customerKeyContacts"]
    not_object = refused(lambda: backend.customers.create(SELLER, [1]))
    assert sub_error_fields(not_object)[0] == "body"


def test_a_body_company_of_another_company_is_403_after_the_body_is_valid(backend: ArBackend) -> None:
    other = refused(lambda: backend.customers.create(SELLER, customer_body(companyId=OTHER_COMPANY)))
    assert (other.status, other.error_type) == (403, "INVALID_ACCESS")
    malformed = refused(lambda: backend.customers.create(SELLER, customer_body(companyId="nope")))
    assert malformed.status == 400 and sub_error_fields(malformed) == ["companyId"]
    assert add_customer(backend, companyId=SELLER)["companyId"] == SELLER


def test_update_follows_json_nullable(backend: ArBackend) -> None:
    customer = add_customer(backend, address="Old street", state="KA")
    updated = backend.customers.update(
        SELLER, customer["customerId"], {"address": None, "legalName": "New Name", "branchCodes": ["B1"]}
    )
    assert updated["legalName"] == "New Name" and updated["branchCodes"] == ["B1"]
    assert "address" not in updated and updated["state"] == "KA"
    assert updated["modifiedOn"] >= customer["modifiedOn"]


def test_update_cannot_clear_what_a_customer_needs(backend: ArBackend) -> None:
    cid = add_customer(backend)["customerId"]
    error = refused(
        lambda: backend.customers.update(
            SELLER, cid, {"legalName": None, "customerKeyContacts": None, "ifsc": "nope"}
        )
    )
    assert sub_error_fields(error) == ["legalName", "ifsc", "customerKeyContacts"]


def test_update_checks_the_path_id_with_the_body_and_the_body_id_against_the_path(backend: ArBackend) -> None:
    malformed = refused(lambda: backend.customers.update(SELLER, "nope", {"legalName": None}))
    assert sub_error_fields(malformed) == ["legalName", "customerId"]
    first, second = add_customer(backend)["customerId"], add_customer(backend)["customerId"]
    mismatch = refused(lambda: backend.customers.update(SELLER, first, {"customerId": second}))
    assert sub_error_fields(mismatch) == ["customerId"]
    assert refused(lambda: backend.customers.update(SELLER, UNKNOWN, {})).status == 404


def test_new_key_contacts_get_new_ids(backend: ArBackend) -> None:
    customer = add_customer(backend)
    contacts = [{"name": "Ravi", "legalName": "Ravi K", "mobile": "9876500000", "deleted": False}]
    updated = backend.customers.update(SELLER, customer["customerId"], {"customerKeyContacts": contacts})
    assert [c["name"] for c in updated["customerKeyContacts"]] == ["Ravi"]
    old_id = customer["customerKeyContacts"][0]["keyContactPersonId"]
    assert updated["customerKeyContacts"][0]["keyContactPersonId"] != old_id


def test_a_reminder_list_in_an_update_replaces_every_reminder(backend: ArBackend) -> None:
    once = {"dueDateDifference": -3, "reminderTime": "10:00", "reminderType": "ONCE"}
    customer = add_customer(backend, customerReminders=[once, once])
    assert len(customer["customerReminders"]) == 2
    cid = customer["customerId"]
    replaced = backend.customers.update(
        SELLER, cid, {"customerReminders": [{**once, "dueDateDifference": 2}]}
    )
    assert [r["dueDateDifference"] for r in replaced["customerReminders"]] == [2]
    assert backend.customers.update(SELLER, cid, {"customerReminders": None})["customerReminders"] == []
    assert backend.reminders.list_of(SELLER, cid) == []


def test_status_changes_and_soft_delete(backend: ArBackend) -> None:
    cid = add_customer(
        backend, customerReminders=[{"dueDateDifference": 0, "reminderTime": "09:00", "reminderType": "ONCE"}]
    )["customerId"]
    assert backend.customers.set_status(SELLER, cid, "INACTIVE")["status"] == "INACTIVE"
    assert backend.customers.set_status(SELLER, cid, "ACTIVE")["status"] == "ACTIVE"
    backend.customers.delete(SELLER, cid)
    assert refused(lambda: backend.customers.contacts(SELLER, cid)).status == 404
    assert refused(lambda: backend.customers.delete(SELLER, cid)).status == 404
    state = backend.snapshot()
    assert state["customers"][0]["deleted"] is True and state["reminders"] == []


def test_unknown_malformed_and_foreign_customers(backend: ArBackend) -> None:
    missing = refused(lambda: backend.customers.set_status(SELLER, UNKNOWN, "ACTIVE"))
    assert (missing.status, missing.error_type) == (404, "RECORD_NOT_FOUND")
    malformed = refused(lambda: backend.customers.delete(SELLER, "nope"))
    assert malformed.status == 400 and sub_error_fields(malformed) == ["customerId"]
    cid = add_customer(backend)["customerId"]
    assert refused(lambda: backend.customers.contacts(OTHER_COMPANY, cid)).status == 404
    assert [c["name"] for c in backend.customers.contacts(SELLER, cid)] == ["Asha"]
