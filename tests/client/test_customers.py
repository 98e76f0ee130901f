"""Customer operations against the sandbox: the good path and one documented failure each."""

from __future__ import annotations

import polars as pl
import pytest

from enkash_ar import (
    BulkFileError,
    Customer,
    EnkashClient,
    NotFoundError,
    UpdateCustomerRequest,
    ValidationError,
)
from tests.client.client_helpers import customer_request, unique

MISSING_CUSTOMER = "KC00000000000000"


def test_create_customer_returns_the_customer_of_this_seller(client: EnkashClient) -> None:
    request = customer_request()
    created = client.create_customer(request)
    assert created.customer_id and created.customer_id.startswith("KC")
    assert created.company_id == client.seller_id
    assert created.unique_ref_no == request.unique_ref_no
    assert created.status == "ACTIVE"
    assert created.customer_key_contacts[0].name == "Asha Rao"


def test_create_customer_validation_error_names_the_field(client: EnkashClient) -> None:
    request = customer_request().model_copy(update={"contact_number": "12"})  # bypasses local validation
    with pytest.raises(ValidationError) as info:
        client.create_customer(request)
    assert info.value.status_code == 400
    assert "contactNumber" in str(info.value)
    assert info.value.request_id and info.value.request_id in str(info.value)
    assert str(info.value).startswith("createCustomer failed (VALIDATION_ERROR")


def test_update_customer_sends_only_what_is_set_and_none_clears(
    client: EnkashClient, customer: Customer
) -> None:
    assert customer.customer_id
    updated = client.update_customer(customer.customer_id, UpdateCustomerRequest(state="Goa", address=None))
    assert updated.state == "Goa"
    assert updated.legal_name == customer.legal_name  # absent: unchanged
    assert updated.address is None
    again = client.update_customer(customer.customer_id, {"pinCode": "403001"})  # a mapping works too
    assert (again.state, again.pin_code) == ("Goa", "403001")


def test_update_customer_cannot_clear_a_required_member(client: EnkashClient, customer: Customer) -> None:
    assert customer.customer_id
    with pytest.raises(ValidationError, match="legalName"):
        client.update_customer(customer.customer_id, UpdateCustomerRequest(legal_name=None))


def test_update_unknown_customer_is_not_found(client: EnkashClient) -> None:
    with pytest.raises(NotFoundError, match="updateCustomer failed \\(RECORD_NOT_FOUND"):
        client.update_customer(MISSING_CUSTOMER, {"state": "Goa"})


def test_activate_and_deactivate(client: EnkashClient, customer: Customer) -> None:
    assert customer.customer_id
    assert client.deactivate_customer(customer.customer_id).status == "INACTIVE"
    assert client.activate_customer(customer.customer_id).status == "ACTIVE"


def test_activate_and_deactivate_unknown_customer(client: EnkashClient) -> None:
    with pytest.raises(NotFoundError):
        client.activate_customer(MISSING_CUSTOMER)
    with pytest.raises(NotFoundError):
        client.deactivate_customer(MISSING_CUSTOMER)


def test_delete_customer_then_it_is_gone(client: EnkashClient, customer: Customer) -> None:
    assert customer.customer_id
    message = client.delete_customer_by_customer_id(customer.customer_id)
    assert isinstance(message, str) and message
    with pytest.raises(NotFoundError):
        client.get_customer_contact_details(customer.customer_id)
    with pytest.raises(NotFoundError):
        client.delete_customer_by_customer_id(customer.customer_id)  # a plain second delete is an error


def test_contact_details(client: EnkashClient, customer: Customer) -> None:
    assert customer.customer_id
    contacts = client.get_customer_contact_details(customer.customer_id)
    assert [(c.name, c.mobile) for c in contacts] == [("Asha Rao", "9876543210")]


def test_contact_details_of_a_malformed_id_is_refused(client: EnkashClient) -> None:
    with pytest.raises(ValidationError, match="customerId"):
        client.get_customer_contact_details("not-a-customer")


def test_search_customer_by_unique_ref_and_paging(client: EnkashClient) -> None:
    made = [client.create_customer(customer_request()) for _ in range(5)]
    wanted = made[1].unique_ref_no
    assert wanted
    hits = client.search_customer({"uniqueRefNos": [wanted]})
    assert [c.customer_id for c in hits] == [made[1].customer_id]
    page = client.search_customer(offset=2, limit=2, order_by="customerId", direction="ASC")
    ordered = sorted(c.customer_id or "" for c in made)
    assert [c.customer_id for c in page] == ordered[2:4]


def test_search_customer_rejects_bad_paging(client: EnkashClient) -> None:
    with pytest.raises(ValueError, match="limit"):
        client.search_customer(limit=5001)
    with pytest.raises(ValidationError, match="orderBy"):
        client.search_customer(order_by="shoeSize")


def test_search_customers_frame_pages_until_a_short_page(client: EnkashClient) -> None:
    made = {client.create_customer(customer_request()).customer_id for _ in range(7)}
    frame = client.search_customers_frame(page_size=3)
    assert set(frame["customerId"].to_list()) == made
    assert frame.schema["legalName"] == pl.String
    assert client.search_customers_frame({"uniqueRefNos": ["nobody"]}).is_empty()
    everyone = client.search_all_customers(page_size=2)
    assert {c.customer_id for c in everyone} == made and all(isinstance(c, Customer) for c in everyone)


def _customer_rows(n: int, **extra: list[object]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "legalName": [f"Bulk Buyer {i}" for i in range(n)],
            "uniqueRefNo": [unique("BULK") for _ in range(n)],
            "customerKeyContacts.name": ["Ravi"] * n,
            "customerKeyContacts.legalName": ["Ravi Kumar"] * n,
            "customerKeyContacts.mobile": ["9123456780"] * n,
            **extra,
        }
    )


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_create_bulk_customer_and_its_result_files(client: EnkashClient, file_format: str) -> None:
    rows = _customer_rows(3)
    rows = rows.with_columns(
        pl.when(pl.int_range(3) == 1)
        .then(pl.lit("123"))
        .otherwise(pl.col("customerKeyContacts.mobile"))
        .alias("customerKeyContacts.mobile")
    )
    result = client.create_bulk_customer(rows, file_format=file_format)  # type: ignore[arg-type]
    assert (result.total_count, result.success_count, result.failure_count) == (3, 2, 1)
    success, failure = client.bulk_results(result)
    assert success["rowNumber"].to_list() == ["1", "3"]
    assert all(cid.startswith("KC") for cid in success["customerId"].to_list())
    assert failure["rowNumber"].to_list() == ["2"]
    assert "mobile" in failure["field"].item()
    assert all(dtype == pl.String for dtype in success.dtypes + failure.dtypes)


def test_create_bulk_customer_refuses_unknown_columns_before_sending(client: EnkashClient) -> None:
    with pytest.raises(BulkFileError, match="shoeSize"):
        client.create_bulk_customer(_customer_rows(1, shoeSize=[42]))


def test_bulk_update_changes_only_given_cells(client: EnkashClient, customer: Customer) -> None:
    rows = pl.DataFrame(
        {"customerId": [customer.customer_id, "KC0000000000ZZZZ"], "state": ["Kerala", "Goa"]}
    )
    result = client.bulk_update(rows)
    assert (result.success_count, result.failure_count) == (1, 1)
    success, failure = client.bulk_results(result)
    assert success["customerId"].to_list() == [customer.customer_id]
    assert failure["rowNumber"].to_list() == ["2"]
    found = client.search_customer({"uniqueRefNos": [customer.unique_ref_no]})[0]
    assert (found.state, found.legal_name) == ("Kerala", customer.legal_name)


def test_bulk_update_without_customer_id_column_is_refused(client: EnkashClient) -> None:
    with pytest.raises(BulkFileError, match="customerId"):
        client.bulk_update(pl.DataFrame({"state": ["Goa"]}))
