"""The contract profile: its shipped values, loading a user's file, and refusing a broken one clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError as PydanticValidationError

from blocks.credentials import EnkashCredentials
from enkash_ar.alternative_profiles import ALTERNATIVES, name_of, named_profile, profile_names
from enkash_ar.contract import ReceivableStatus
from enkash_ar.contract_profile import SHIPPED_PROFILE, ContractProfile
from enkash_ar.errors import ConfigurationError
from enkash_ar.profile_files import dump_profile, load_profile
from enkash_ar.settings import EnkashSettings

CONNECTION = {
    "client_id": "c",
    "client_secret": "s",
    "username": "u",
    "password": "p",
    "seller_id": "CEKSANDBX1",
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profile.yaml"
    path.write_text(text)
    return path


def test_the_shipped_profile_holds_the_guesses_of_the_spec() -> None:
    p = SHIPPED_PROFILE
    assert p.search.response == "list" and p.search.offset == "row" and p.search.over_max == "reject"
    assert p.search.max_page_size == {"searchCustomer": 5000, "searchCollectionInvoices": 5000}
    assert p.open_status_names() == ["UNPAID", "PARTIALLY_PAID"]
    assert p.result_files.row_number == "rowNumber" and p.result_files.first_row_number == 1
    assert p.token.expires_in and p.token.default_lifetime_seconds == 300
    assert p.errors.http_status == "error-status"
    assert p.bulk_files["invoice_create"].format == "csv"
    assert p.operations["getCustomerReminders"].path == "/api/v0/customer/{customerId}/reminder"


def test_no_source_is_the_shipped_profile_and_a_name_is_an_alternative() -> None:
    assert load_profile(None) is SHIPPED_PROFILE
    assert load_profile("") is SHIPPED_PROFILE
    assert load_profile("shipped") is SHIPPED_PROFILE
    for name, (profile, _) in ALTERNATIVES.items():
        assert load_profile(name) == profile
        assert name_of(profile) == name
        assert profile != SHIPPED_PROFILE


def test_a_file_names_only_what_differs_and_keeps_the_rest(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "search:\n  offset: page\n  max_page_size: {searchCustomer: 200}\n"
        "operations:\n  getCustomerReminders:\n    method: GET\n"
        "    path: /api/v1/customers/{customerId}/reminders\n"
        "bulk_files:\n  invoice_create: {format: xlsx}\n",
    )
    profile = load_profile(path)
    assert profile.search.offset == "page"
    assert profile.search.response == "list"
    assert profile.page_size("searchCustomer") == 200
    assert profile.page_size("searchCollectionInvoices") == 5000
    assert profile.operations["getCustomerReminders"].path == "/api/v1/customers/{customerId}/reminders"
    assert profile.operations["deleteReminder"] == SHIPPED_PROFILE.operations["deleteReminder"]
    assert profile.bulk_files["invoice_create"].format == "xlsx"
    assert (
        profile.bulk_files["invoice_create"].columns == SHIPPED_PROFILE.bulk_files["invoice_create"].columns
    )


def test_status_names_are_replaced_whole_not_added_to_the_shipped_ones(tmp_path: Path) -> None:
    path = write(
        tmp_path, "receivable_statuses: {OPEN: UNPAID, PART: PARTIALLY_PAID, PAID: PAID, VOID: CANCELLED}\n"
    )
    profile = load_profile(path)
    assert list(profile.receivable_statuses) == ["OPEN", "PART", "PAID", "VOID"]
    assert profile.wire_status(ReceivableStatus.UNPAID) == "OPEN"
    assert profile.meaning_of("UNPAID") is None


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("search: {offsett: page}\n", "search.offsett"),
        ("receivable_statuses: {OPEN: UNPAID}\n", "none for ['PARTIALLY_PAID', 'PAID', 'CANCELLED']"),
        (
            "receivable_statuses: {UNPAID: PAID, X: UNPAID, Y: PARTIALLY_PAID, Z: CANCELLED}\n",
            "a canonical status name must mean itself",
        ),
        ("operations: {createInvoice: {method: POST, path: /x}}\n", "not operations the profile governs"),
        ("operations: {getCustomerReminder: {method: GET, path: '/r/{id}'}}\n", "placeholders"),
        (
            "bulk_files: {invoice_create: {columns: [customerId, dueDate]}}\n",
            "required members ['baseAmount']",
        ),
        ("search: {max_page_size: {searchCustomer: 0}}\n", "within 1..5000"),
        ("result_files: {row_number: field}\n", "result_files"),
        ("- just a list\n", "must hold a mapping"),
        ("search: [unclosed\n", "cannot be read as YAML"),
    ],
)
def test_a_broken_file_is_refused_naming_the_file_and_the_setting(
    tmp_path: Path, text: str, named: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigurationError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert str(path) in message
    assert named in message
    assert "enkash-ar doctor" in message


def test_an_unknown_name_lists_the_shipped_profiles() -> None:
    with pytest.raises(ConfigurationError, match="spring-page") as caught:
        load_profile("sprng-page")
    assert all(name in str(caught.value) for name in profile_names())


def test_every_alternative_survives_a_round_trip_through_a_file(tmp_path: Path) -> None:
    for name, (profile, _) in ALTERNATIVES.items():
        path = dump_profile(profile, tmp_path / f"{name}.yaml", comment=f"{name}\nsecond line")
        assert path.read_text().startswith(f"# {name}\n# second line\n")
        assert load_profile(path) == profile


def test_the_settings_read_the_profile_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = write(tmp_path, "token: {expires_in: false}\n")
    monkeypatch.setenv("ENKASH_CONTRACT_PROFILE", str(path))
    settings = EnkashSettings(**CONNECTION)  # type: ignore[arg-type]
    assert settings.contract_profile == str(path)
    assert load_profile(settings.contract_profile).token.expires_in is False


def test_a_bad_profile_setting_stops_the_settings_before_any_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENKASH_CONTRACT_PROFILE", "/nowhere/profile.yaml")
    with pytest.raises(PydanticValidationError, match="neither a file nor one of the shipped profiles"):
        EnkashSettings(**CONNECTION)  # type: ignore[arg-type]


def test_the_credentials_block_has_the_profile_field() -> None:
    block = EnkashCredentials(**CONNECTION, contract_profile="page-index")  # type: ignore[arg-type]
    with block.get_client() as client:
        assert client.profile == named_profile("page-index")
    assert "contract_profile" in EnkashCredentials.model_json_schema()["properties"]


def test_a_profile_is_immutable() -> None:
    with pytest.raises(PydanticValidationError):
        SHIPPED_PROFILE.search.offset = "page"  # type: ignore[misc]
    assert ContractProfile() == SHIPPED_PROFILE
