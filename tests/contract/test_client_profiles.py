"""The client against the sandbox playing each alternative profile, over real HTTP.

With the matching profile it reads and writes as with the shipped one; with the shipped profile
against an alternative, it stops with an error that names the profile setting, never with a partial
or misread result.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from enkash_ar import (
    EnkashClient,
    NotFoundError,
    OutcomeUnknownError,
    UnexpectedResponseError,
    ValidationError,
)
from enkash_ar.contract import ReceivableStatus
from enkash_ar.errors import ContractMismatchError
from tests.client.client_helpers import request_counts, set_faults
from tests.contract.profile_helpers import (
    ALTERNATIVE_NAMES,
    CUSTOMERS,
    INVOICES,
    ProfileSandboxes,
    customer_rows,
    invoice_rows,
    profile_client,
    seed,
)

STATUSES = {s.value for s in ReceivableStatus}


@pytest.mark.parametrize("name", ALTERNATIVE_NAMES)
def test_the_matching_profile_reads_and_writes_as_usual(name: str, profile_sandbox: ProfileSandboxes) -> None:
    sandbox = profile_sandbox(name)
    with profile_client(sandbox, name) as client:
        client.warm_token()
        seeded = seed(client)
        # The bulk upload's result files, in the profile's layout, read back in the one shape.
        assert len(seeded.customer_ids) == CUSTOMERS and len(seeded.invoice_ids) == INVOICES
        customers = client.create_bulk_customer(customer_rows(1, bad_last=True))
        created, failed = client.bulk_results(customers)
        assert created.is_empty()
        assert failed.select("rowNumber", "field").rows() == [("1", "customerKeyContacts.mobile")]
        # Paging over more than one page (the capped profile's page is 20 rows).
        everyone = client.search_all_customers(page_size=20)
        assert sorted(c.customer_id or "" for c in everyone) == sorted(seeded.customer_ids)
        invoices = client.search_invoices_frame()
        assert invoices.height == INVOICES
        # EnKash's count of invoices, where its pages carry one (a Spring Page); none, unasked, where not.
        before = request_counts(sandbox).get("searchCollectionInvoices", 0)
        counted = client.count_invoices()
        asked = request_counts(sandbox).get("searchCollectionInvoices", 0) - before
        assert (counted, asked) == ((INVOICES, 1) if client.profile.search.response == "page" else (None, 0))
        assert set(invoices.get_column("receivableStatus").to_list()) == STATUSES
        # A search by status, by the canonical name whatever EnKash calls it.
        paid = client.search_collection_invoices({"receivableStatuses": ["PAID"]})
        assert [(i.invoice_id, i.receivable_status and i.receivable_status.name) for i in paid] == [
            (seeded.invoice_ids[0], "PAID")
        ]
    counts = request_counts(sandbox)
    assert counts["getAuthenticationToken"] == 1
    assert counts["searchCustomer"] >= 3


#: What the shipped client does against each alternative that it cannot read: (call, error, setting).
MISMATCHES: dict[str, tuple[Callable[[EnkashClient, list[str]], object], type[Exception], str]] = {
    "spring-page": (lambda c, _: c.search_all_customers(), ContractMismatchError, "search.response: page"),
    "page-index": (
        lambda c, _: c.search_all_customers(page_size=20),
        ContractMismatchError,
        "search.offset: page",
    ),
    "capped-limit": (
        lambda c, _: c.search_all_invoices(),
        ContractMismatchError,
        "search.max_page_size.searchCollectionInvoices: 20",
    ),
    "result-files-xlsx": (
        lambda c, ids: c.bulk_results(c.invoice_bulk_upload(invoice_rows(ids[:2]))),
        OutcomeUnknownError,
        "result_files",
    ),
    "other-status-names": (
        lambda c, _: c.search_all_invoices(),
        UnexpectedResponseError,
        "receivable_statuses",
    ),
}


@pytest.mark.parametrize("name", sorted(MISMATCHES))
def test_the_shipped_profile_against_an_alternative_fails_loudly(
    name: str, profile_sandbox: ProfileSandboxes
) -> None:
    sandbox = profile_sandbox(name)
    with profile_client(sandbox, name) as writer:
        seeded = seed(writer)
    call, error, setting = MISMATCHES[name]
    with profile_client(sandbox) as shipped, pytest.raises(error) as caught:
        call(shipped, seeded.customer_ids)
    assert setting in str(caught.value)
    assert "ENKASH_CONTRACT_PROFILE" in str(caught.value)


def test_a_status_name_the_profile_does_not_know_stops_a_read_into_a_frame(
    profile_sandbox: ProfileSandboxes,
) -> None:
    # The frame read takes the fast path (no model per invoice): it must stop as the model read does.
    sandbox = profile_sandbox("other-status-names")
    with profile_client(sandbox, "other-status-names") as writer:
        seed(writer)
    with profile_client(sandbox) as shipped, pytest.raises(UnexpectedResponseError) as caught:
        shipped.search_invoices_frame()
    message = str(caught.value)
    assert "searchCollectionInvoices" in message and "receivable_statuses" in message
    assert "ENKASH_CONTRACT_PROFILE" in message


def test_a_status_name_the_profile_does_not_know_is_refused_in_a_filter(
    profile_sandbox: ProfileSandboxes,
) -> None:
    sandbox = profile_sandbox("other-status-names")
    with profile_client(sandbox) as shipped, pytest.raises(ValidationError, match="PENDING"):
        shipped.search_collection_invoices({"receivableStatuses": ["UNPAID"]})


def test_a_token_without_lifetime_gets_the_default_not_zero(
    profile_sandbox: ProfileSandboxes, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox = profile_sandbox("no-expires-in")
    with caplog.at_level(logging.WARNING, logger="enkash_ar"), profile_client(sandbox) as shipped:
        token = shipped.get_authentication_token()
        for _ in range(5):
            shipped.search_customer()
    assert token.expires_in == 300 and not token.lifetime_given
    assert request_counts(sandbox)["getAuthenticationToken"] == 1
    assert "token.expires_in: false" in caplog.text
    caplog.clear()
    with (
        caplog.at_level(logging.WARNING, logger="enkash_ar"),
        profile_client(sandbox, "no-expires-in") as matching,
    ):
        matching.warm_token()
    assert "expires_in" not in caplog.text


def test_errors_answered_200_are_still_errors_and_a_200_unauthorized_renews_the_token(
    profile_sandbox: ProfileSandboxes,
) -> None:
    sandbox = profile_sandbox("errors-200")
    with profile_client(sandbox) as shipped:
        with pytest.raises(NotFoundError, match="RECORD_NOT_FOUND") as caught:
            shipped.get_invoice("NO-SUCH-INVOICE")
        assert caught.value.status_code == 404
        with pytest.raises(ValidationError, match="status: must be one of"):
            shipped.search_customer({"status": "NOT-A-STATUS"})
        set_faults(sandbox, expire_tokens=True)
        assert shipped.search_customer() == []
    assert request_counts(sandbox)["getAuthenticationToken"] == 2
