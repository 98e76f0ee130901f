"""enkash-ar doctor against the sandbox in each profile: writes nothing, names the profile that fits."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from enkash_ar.alternative_profiles import SHIPPED_NAME, named_profile, profile_names
from enkash_ar.doctor import EXIT_CANNOT_CHECK, EXIT_CONTRADICTED, EXIT_OK, run_doctor
from enkash_ar.doctor.probes import Exchange, ReadOnlyProbes
from enkash_ar.doctor.search_checks import check_customer_filter, check_narrow_reads
from enkash_ar.doctor.spec_schemas import SpecAnswers
from enkash_ar.profile_files import load_profile
from sandbox.routes import WRITE_OPERATIONS
from tests.contract.profile_helpers import (
    ALTERNATIVE_NAMES,
    ProfileSandboxes,
    profile_client,
    seed,
    settings_for,
    state,
)

#: Profiles whose difference from the shipped one breaks what the nightly cycle reads.
BREAKS_THE_CYCLE = {"spring-page", "page-index", "capped-limit", "result-files-xlsx", "other-status-names"}


def seeded(profile_sandbox: ProfileSandboxes, name: str) -> tuple[Any, list[str], dict[str, Any]]:
    """The sandbox of ``name`` with an account to read; its result file URLs; its state before doctor."""
    sandbox = profile_sandbox(name)
    with profile_client(sandbox, name) as writer:
        urls = seed(writer).result_files
    return sandbox, urls, state(sandbox)


def assert_nothing_written(sandbox: Any, before: dict[str, Any]) -> None:
    after = state(sandbox)
    writes = {
        op: after["request_counts"].get(op, 0) - before["request_counts"].get(op, 0)
        for op in WRITE_OPERATIONS
    }
    assert set(writes.values()) == {0}, writes
    for table in ("customers", "invoices", "reminders"):
        assert after[table] == before[table]


def test_against_the_shipped_sandbox_every_checkable_assumption_is_confirmed(
    profile_sandbox: ProfileSandboxes,
) -> None:
    sandbox, urls, before = seeded(profile_sandbox, SHIPPED_NAME)

    report = run_doctor(settings_for(sandbox), result_files=urls)

    assert_nothing_written(sandbox, before)
    assert report.exit_code == EXIT_OK
    assert report.recommended_name == SHIPPED_NAME
    verdicts = {f.verdict for f in report.findings}
    assert verdicts == {"confirmed", "not checkable"}, [
        f for f in report.findings if f.verdict not in verdicts
    ]
    checked = {f.setting for f in report.findings if f.verdict == "confirmed"}
    assert {
        "search.response",
        "search.offset",
        "receivable_statuses",
        "result_files",
        "token.expires_in",
    } <= checked
    assert {
        "operations.getCustomerReminders",
        "operations.getCustomerReminder",
        "errors.http_status",
    } <= checked
    # The filters of a night's narrow reads (ar_sync.kept_reads): each record a filtered page returned
    # matched (the seeded account has owed and paid invoices).
    assert {"balanceAmountFrom", "createdOnFrom, balanceAmountTo"} <= checked
    # Every answer doctor got was validated against the spec, and valid.
    assert {"searchCustomer", "searchCollectionInvoices", "getInvoice", "getAuthenticationToken"} <= checked
    not_checkable = {f.setting for f in report.findings if f.verdict == "not checkable"}
    assert {"bulk_files.invoice_create", "operations.createCustomerReminder"} <= not_checkable
    assert (
        state(sandbox)["request_counts"]["getAuthenticationToken"]
        == before["request_counts"]["getAuthenticationToken"] + 1
    )


@pytest.mark.parametrize("name", ALTERNATIVE_NAMES)
def test_against_each_alternative_doctor_recommends_that_profile(
    name: str, profile_sandbox: ProfileSandboxes
) -> None:
    sandbox, urls, before = seeded(profile_sandbox, name)

    report = run_doctor(settings_for(sandbox), result_files=urls)

    assert_nothing_written(sandbox, before)
    assert report.recommended == named_profile(name)
    assert report.recommended_name == name
    assert report.exit_code == (EXIT_CONTRADICTED if name in BREAKS_THE_CYCLE else EXIT_OK)
    assert any(f.verdict == "different" for f in report.findings)
    # Run with the profile it recommends, doctor finds nothing the cycle depends on contradicted.
    again = run_doctor(settings_for(sandbox, name), result_files=urls)
    assert again.exit_code == EXIT_OK
    assert again.recommended == again.configured


def test_a_refused_token_is_asked_for_once_and_stops_doctor(profile_sandbox: ProfileSandboxes) -> None:
    sandbox = profile_sandbox(SHIPPED_NAME)
    wrong = settings_for(sandbox).model_copy(update={"password": "not-the-password"})

    report = run_doctor(wrong)

    assert report.exit_code == EXIT_CANNOT_CHECK
    assert [f.verdict for f in report.findings] == ["failed"]
    assert "not-the-password" not in report.to_markdown()
    assert state(sandbox)["request_counts"] == {"getAuthenticationToken": 1}


def test_doctor_refuses_to_send_a_write() -> None:
    probes = ReadOnlyProbes(client=None, spec=SpecAnswers())  # type: ignore[arg-type]
    for operation in sorted(WRITE_OPERATIONS):
        with pytest.raises(ValueError, match="doctor only reads"):
            probes.call(operation)


def test_the_command_prints_the_table_writes_the_profile_and_fails_on_a_contradiction(
    profile_sandbox: ProfileSandboxes, tmp_path: Path
) -> None:
    sandbox, _, before = seeded(profile_sandbox, "capped-limit")
    out = tmp_path / "fits.yaml"
    env = {**sandbox.enkash_env(), "ENKASH_CONTRACT_PROFILE": ""}

    result = CliRunner().invoke(app, ["doctor", "--profile-out", str(out)], env=env, terminal_width=200)

    assert result.exit_code == EXIT_CONTRADICTED, result.output
    assert "caps pages at 20" in result.output
    assert (
        "contradicted:" in result.output and "search.max_page_size.searchCollectionInvoices" in result.output
    )
    assert load_profile(out) == named_profile("capped-limit")
    assert out.read_text().startswith("# Contract profile fitting what `enkash-ar doctor` saw")
    assert_nothing_written(sandbox, before)
    passed = CliRunner().invoke(
        app, ["doctor", "--profile", str(out), "--profile-out", str(tmp_path / "again.yaml")], env=env
    )
    assert passed.exit_code == EXIT_OK, passed.output


def test_the_sandbox_command_names_every_profile_it_plays() -> None:
    result = CliRunner().invoke(app, ["sandbox", "serve", "--help"], terminal_width=200)
    text = " ".join(result.output.split())
    assert all(name in text for name in profile_names())


class _Answers:
    """Read-only probes whose invoice search answers ``records`` (or ``status`` without them)."""

    def __init__(self, records: list[dict[str, Any]], status: int = 200) -> None:
        self.records, self.status, self.bodies = records, status, []

    def call(self, operation: str, **request: Any) -> Exchange:
        self.bodies.append(request["json"])
        payload = {"payload": self.records} if self.status == 200 else {"errorResponse": {"errorType": "BAD"}}
        return Exchange(operation, request["params"], status=self.status, body=payload)


def test_doctor_says_when_a_narrow_read_filter_is_not_applied_or_refused() -> None:
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    recent = "2026-12-01 10:00:00"
    profile = named_profile(SHIPPED_NAME)
    assert profile is not None

    def verdicts(probes: _Answers) -> list[tuple[str, str]]:
        found = check_narrow_reads(probes, profile, now)  # type: ignore[arg-type]
        assert not any(f.critical for f in found)  # a night still reads right, only more
        return [(f.setting, f.verdict) for f in found]

    # EnKash applies each: owed records for the first search, settled ones for the second, undispatched
    # ones for the third, recently dispatched ones for the fourth.
    owed = _Answers([{"invoiceId": "A", "balanceAmount": 10.5, "createdOn": recent, "dispatched": False}])
    assert verdicts(owed)[0] == ("balanceAmountFrom", "confirmed")
    assert verdicts(owed)[2] == ("dispatched", "confirmed")
    settled = _Answers([{"invoiceId": "B", "balanceAmount": 0, "createdOn": recent}])
    assert verdicts(settled)[1] == ("createdOnFrom, balanceAmountTo", "confirmed")
    assert settled.bodies == [
        {"balanceAmountFrom": 0.01},
        {"createdOnFrom": "2026-11-06 12:00:00", "balanceAmountTo": 0},
        {"dispatched": False},
        {"dispatched": True, "dispatchedOnFrom": "2026-11-06 12:00:00"},
    ]
    sent = _Answers([{"invoiceId": "C", "balanceAmount": 5, "dispatched": True, "dispatchedOn": recent}])
    assert verdicts(sent)[3] == ("dispatched, dispatchedOnFrom", "confirmed")
    assert verdicts(sent)[2] == ("dispatched", "different")  # a dispatched invoice among the undispatched
    # A filter EnKash ignores shows in what it returns; one it refuses in its answer.
    ignored = _Answers(
        [
            {
                "invoiceId": "A",
                "balanceAmount": 10.5,
                "dispatched": True,
                "dispatchedOn": "2025-01-01 10:00:00",
            },
            {"invoiceId": "B", "balanceAmount": 0, "dispatched": False},
        ]
    )
    everything_different = [
        ("balanceAmountFrom", "different"),
        ("createdOnFrom, balanceAmountTo", "different"),
        ("dispatched", "different"),
        ("dispatched, dispatchedOnFrom", "different"),
    ]
    assert verdicts(ignored) == everything_different
    old = _Answers([{"invoiceId": "B", "balanceAmount": 0, "createdOn": "2025-01-01 10:00:00"}])
    assert verdicts(old)[1] == ("createdOnFrom, balanceAmountTo", "different")
    long_ago = _Answers([{"invoiceId": "C", "dispatched": True, "dispatchedOn": "2025-01-01 10:00:00"}])
    assert verdicts(long_ago)[3] == ("dispatched, dispatchedOnFrom", "different")
    assert verdicts(_Answers([], status=400)) == everything_different
    assert verdicts(_Answers([]))[0] == ("balanceAmountFrom", "not checkable")


def test_doctor_says_whether_the_invoice_search_applies_customer_ids() -> None:
    profile = named_profile(SHIPPED_NAME)
    assert profile is not None
    first = [{"invoiceId": "A", "customerId": "C1"}, {"invoiceId": "B", "customerId": "C2"}]

    def verdict(probes: _Answers, invoices: list[dict[str, Any]] | None = first) -> str:
        (found,) = check_customer_filter(probes, profile, invoices)  # type: ignore[arg-type]
        assert found.setting == "customerIds" and not found.critical
        return found.verdict

    applied = _Answers([{"invoiceId": "A", "customerId": "C1"}])
    assert verdict(applied) == "confirmed"
    assert applied.bodies == [{"customerIds": ["C1"]}]  # the customer of the plain search's first invoice
    assert verdict(_Answers(first)) == "different"  # ignored: another customer's invoice came back
    assert verdict(_Answers([], status=400)) == "different"
    assert verdict(_Answers([]), invoices=None) == "not checkable"  # no invoice to take a customer from
    assert verdict(_Answers([]), invoices=[{"invoiceId": "A"}]) == "not checkable"
