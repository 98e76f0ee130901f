"""A sandbox that serves several sellers at once: each logs in with its own credentials and sees only
its own company's records; the single-seller default is unchanged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from enkash_ar.client import EnkashClient
from enkash_ar.errors import EnkashError
from enkash_ar.settings import EnkashSettings
from sandbox.config import SellerAccount, sellers_from_env
from sandbox.server import RunningSandbox, SandboxConfig, running_sandbox
from tests.loopback import http
from tests.sandbox.sandbox_helpers import customer_body

SECOND = SellerAccount.derived("CEKFLEET02")


@pytest.fixture(scope="module")
def two_sellers() -> Iterator[RunningSandbox]:
    """A sandbox serving the default seller and CEKFLEET02."""
    with running_sandbox(SandboxConfig(sellers=(SECOND,))) as running:
        yield running


@pytest.fixture
def fleet_sandbox(two_sellers: RunningSandbox) -> RunningSandbox:
    http.post(f"{two_sellers.base_url}/_sandbox/reset").raise_for_status()
    return two_sellers


def client_for(sandbox: RunningSandbox, seller: SellerAccount | None = None) -> EnkashClient:
    fields = {
        name.removeprefix("ENKASH_").lower(): value for name, value in sandbox.enkash_env(seller).items()
    }
    settings = EnkashSettings(**fields, max_retries=0)
    return EnkashClient.from_settings(settings)


def test_each_seller_sees_only_its_own_customers(fleet_sandbox: RunningSandbox) -> None:
    with client_for(fleet_sandbox) as first, client_for(fleet_sandbox, SECOND) as second:
        first.create_customer(customer_body(uniqueRefNo="A-1"))
        second.create_customer(customer_body(uniqueRefNo="B-1"))
        second.create_customer(customer_body(uniqueRefNo="B-2"))
        assert sorted(first.search_customers_frame()["uniqueRefNo"]) == ["A-1"]
        assert sorted(second.search_customers_frame()["uniqueRefNo"]) == ["B-1", "B-2"]

    scoped = http.get(f"{fleet_sandbox.base_url}/_sandbox/state", params={"company": "CEKFLEET02"}).json()
    assert scoped["customers_count"] == 2
    assert sorted(c["uniqueRefNo"] for c in scoped["customers"]) == ["B-1", "B-2"]
    everything = http.get(f"{fleet_sandbox.base_url}/_sandbox/state", params={"summary": "true"}).json()
    assert everything["customers_count"] == 3


def test_one_sellers_client_cannot_log_in_as_another_company(fleet_sandbox: RunningSandbox) -> None:
    env = fleet_sandbox.enkash_env(SECOND)
    default = fleet_sandbox.config
    response = http.post(
        f"{fleet_sandbox.base_url}/oauth/token",
        auth=(env["ENKASH_CLIENT_ID"], env["ENKASH_CLIENT_SECRET"]),
        data={
            "username": default.username,
            "password": default.password,
            "grant_type": "password",
            "clientId": default.seller_id,
        },
    )
    assert response.status_code == 401
    assert "company" in response.json()["errorResponse"]["errorMessage"]


def test_a_seller_registered_at_run_time_logs_in_and_reset_forgets_it(fleet_sandbox: RunningSandbox) -> None:
    third = SellerAccount("CEKFLEET03", "client-3", "secret-3", "ops@three.example.in", "password-3")
    created = http.post(f"{fleet_sandbox.base_url}/_sandbox/sellers", json=vars(third))
    assert created.status_code == 200 and created.json()["created"] is True
    again = http.post(f"{fleet_sandbox.base_url}/_sandbox/sellers", json=vars(third))
    assert again.json()["created"] is False
    listed = http.get(f"{fleet_sandbox.base_url}/_sandbox/sellers").json()
    assert [s["seller_id"] for s in listed] == ["CEKSANDBX1", "CEKFLEET02", "CEKFLEET03"]
    assert "password-3" not in str(listed) and "secret-3" not in str(listed)
    with client_for(fleet_sandbox, third) as client:
        assert client.warm_token()

    http.post(f"{fleet_sandbox.base_url}/_sandbox/reset").raise_for_status()
    with client_for(fleet_sandbox, third) as client, pytest.raises(EnkashError):
        client.warm_token()


def test_a_seller_clashing_with_another_is_refused(fleet_sandbox: RunningSandbox) -> None:
    clash = {**vars(SellerAccount.derived("CEKFLEET04")), "client_id": SECOND.client_id}
    response = http.post(f"{fleet_sandbox.base_url}/_sandbox/sellers", json=clash)
    assert response.status_code == 409
    assert "client_id" in response.json()["errorResponse"]["errorMessage"]
    unknown = http.post(f"{fleet_sandbox.base_url}/_sandbox/sellers", json={"seller_id": "CEKX", "pin": "1"})
    assert unknown.status_code == 400 and "pin" in unknown.text


def test_a_password_change_names_its_seller(fleet_sandbox: RunningSandbox) -> None:
    http.post(
        f"{fleet_sandbox.base_url}/_sandbox/password", json={"password": "new-one", "seller_id": "CEKFLEET02"}
    ).raise_for_status()
    with client_for(fleet_sandbox) as first:
        assert first.warm_token()  # the default seller's password is unchanged
    with client_for(fleet_sandbox, SECOND) as second, pytest.raises(EnkashError):
        second.warm_token()


def test_sandbox_sellers_from_the_environment() -> None:
    assert sellers_from_env({}) == ()
    ids = sellers_from_env({"SANDBOX_SELLERS": "CEKFLEET05, CEKFLEET06"})
    assert [s.seller_id for s in ids] == ["CEKFLEET05", "CEKFLEET06"]
    assert ids[0] == SellerAccount.derived("CEKFLEET05")
    full = sellers_from_env({"SANDBOX_SELLERS": '[{"seller_id": "CEKFLEET07", "password": "p7"}]'})
    assert full[0].password == "p7" and full[0].client_id == "enkash-client-cekfleet07"
    with pytest.raises(ValueError, match="SANDBOX_SELLERS: unknown seller settings"):
        sellers_from_env({"SANDBOX_SELLERS": '[{"seller_id": "CEKFLEET08", "secret": "x"}]'})


def test_the_single_seller_default_is_unchanged() -> None:
    config = SandboxConfig()
    assert [a.seller_id for a in config.accounts()] == ["CEKSANDBX1"]
    assert config.accounts()[0].client_id == config.client_id
