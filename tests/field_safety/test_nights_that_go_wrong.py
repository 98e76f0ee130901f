"""Nights that go wrong the way real operations do: twins left behind, a retried night, a rotated password.

Each test asserts what EnKash (the sandbox) holds afterwards and what the night reports.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect.states import State

from ar_sync.night_summary import NeedsAttentionError, StagesFailedError
from flows.nightly_ar_cycle import nightly_ar_cycle
from flows.options import CycleOptions
from sandbox.server import RunningSandbox
from tests.cli.cli_helpers import cli_env, cycle_args, error_lines, run_cli
from tests.enkash_checks import ErpExport, erp_export, exactly_once_problems
from tests.field_safety.cycle_process import Cycle, wait_until
from tests.flows.night_helpers import night_markdown
from tests.loopback import http

#: Starts processes (the enkash-ar command) against a Prefect server: end to end.
pytestmark = [pytest.mark.e2e, pytest.mark.slow]

AS_OF = date(2026, 11, 24)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> ErpExport:
    return erp_export(tmp_path_factory.mktemp("wrong"), customers=12, invoices=60, seed=31, as_of=AS_OF)


def state(sandbox: RunningSandbox) -> dict[str, Any]:
    return http.get(f"{sandbox.base_url}/_sandbox/state", timeout=30).json()


def faults(sandbox: RunningSandbox, **settings: Any) -> None:
    http.post(f"{sandbox.base_url}/_sandbox/faults", json=settings).raise_for_status()


def api(sandbox: RunningSandbox) -> httpx.Client:
    config = sandbox.config
    token = http.post(
        f"{sandbox.base_url}/oauth/token",
        data={
            "username": config.username,
            "password": config.password,
            "grant_type": "password",
            "clientId": config.seller_id,
        },
        auth=(config.client_id, config.client_secret),
    ).json()["access_token"]
    return httpx.Client(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def options(tmp_path: Path, **changes: Any) -> CycleOptions:
    return CycleOptions(
        out_dir=str(tmp_path / "out"), ledger_path=str(tmp_path / "ledger.sqlite3"), chunk_size=25, **changes
    )


def night(export: ErpExport, opts: CycleOptions, as_of: date = AS_OF) -> Any:
    return asyncio.run(nightly_ar_cycle(str(export.customers_file), str(export.invoices_file), as_of, opts))


def test_one_night_repairs_twins_and_reports_what_only_a_person_can_fix(
    enkash_env: RunningSandbox, export: ErpExport, tmp_path: Path
) -> None:
    opts = options(tmp_path)
    night(export, opts)
    live = [i for i in state(enkash_env)["invoices"] if not i["deleted"]]
    number_a, number_b = sorted(i["externalId"] for i in live)[:2]
    by_number = {i["externalId"]: i for i in live}
    # What two runs that shared nothing could leave behind:
    with api(enkash_env) as client:
        seller = {"sellerId": enkash_env.config.seller_id}
        for number in (number_a, number_b):
            original = client.get(f"/api/v0/invoice/{by_number[number]['invoiceId']}", params=seller).json()[
                "payload"
            ]
            body = {
                "customerId": original["customerId"],
                "externalId": number,
                "invoiceNumber": number,
                "baseAmount": original["baseAmount"],
                "dueDate": original["dueDate"],
            }
            copy = client.post("/api/v0/invoice", json=body, params=seller).json()["payload"]
            if number == number_b:  # a twin that reached the customer too
                client.post("/api/v0/invoice/bulk/dispatch", json={"invoiceIds": [copy["invoiceId"]]})
        customer_id = by_number[number_a]["customerId"]
        on_due = next(
            r
            for r in state(enkash_env)["reminders"]
            if r["customerId"] == customer_id and r["stage"] == "on_due"
        )
        client.post(
            f"/api/v0/customer/{customer_id}/reminder",
            json={
                k: on_due[k]
                for k in ("stage", "dueDateDifference", "reminderType", "reminderInterval", "reminderTime")
            },
        )

    with pytest.raises(NeedsAttentionError, match=number_b):
        night(export, opts, AS_OF + timedelta(days=1))

    after = state(enkash_env)
    copies = Counter(i["externalId"] for i in after["invoices"] if not i["deleted"])
    assert copies[number_a] == 1  # the undispatched extra copy was deleted, the dispatched one kept
    assert copies[number_b] == 2  # both dispatched: never deleted by the cycle, reported instead
    assert {n for n, c in copies.items() if c > 1} == {number_b}
    stages = Counter(
        r["stage"] for r in after["reminders"] if r["customerId"] == customer_id and not r.get("deleted")
    )
    assert stages == Counter({"before_due": 1, "on_due": 1, "after_due": 1})
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["invoice_twins_deleted"] == 1 and summary["reminder_duplicates_deleted"] == 1
    assert [t["invoice_number"] for t in summary["invoice_twins"]] == [number_b]
    assert summary["invoices_dispatched"] == 0  # no twin was dispatched by the repair night


def test_a_night_whose_dispatch_fails_runs_its_other_stages_and_its_retry_reports_the_whole_night(
    enkash_env: RunningSandbox, export: ErpExport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every dispatch answers 500 until the faults are lifted: how often the client retries before it
    # gives up changes nothing here but the seconds spent in its backoff.
    monkeypatch.setenv("ENKASH_MAX_RETRIES", "1")
    opts = options(tmp_path)
    faults(enkash_env, error_500=1.0, operations=["dispatchInvoiceCollection"])
    failed: State[Any] = asyncio.run(
        nightly_ar_cycle(  # type: ignore[call-overload]
            str(export.customers_file), str(export.invoices_file), AS_OF, opts, return_state=True
        )
    )
    assert failed.is_failed()
    with pytest.raises(StagesFailedError, match=r"dispatch-invoices failed: .*dispatchInvoiceCollection"):
        failed.result()
    before_retry = Counter(state(enkash_env)["request_counts"])
    assert before_retry["invoiceBulkUpload"] > 0  # the first attempt did real work before it failed
    # The stages that do not depend on the dispatch ran: every customer's reminders are set, the
    # payments stage ran, and the summary is published and names the failure.
    assert before_retry["createCustomerReminder"] > 0
    first = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [f["stage"] for f in first["stages_failed"]] == ["dispatch-invoices"]
    assert "dispatchInvoiceCollection" in first["stages_failed"][0]["error"]
    assert first["reminders_set"] == len(export.customer_refs) and first["collections"] is not None
    assert first["invoices_dispatched"] == 0
    # What is owed comes from EnKash as it is after the failure, not from the picture before it.
    assert first["open_invoices"] == len(export.invoice_numbers)
    markdown = night_markdown(failed.state_details.flow_run_id)
    assert "## Needs attention" in markdown and "dispatch-invoices failed" in markdown
    assert "the night stopped" not in markdown  # the summary, not the note of a night that stopped

    faults(enkash_env, error_500=0.0, operations=[])
    summary = night(export, opts)

    after = Counter(state(enkash_env)["request_counts"])
    assert not exactly_once_problems(state(enkash_env), export)
    # The night's totals, not the retry's: everything was uploaded by the first attempt.
    assert summary.invoices_uploaded == len(export.invoice_numbers)
    assert summary.invoices_already_present == 0
    assert summary.invoices_dispatched == len(export.invoice_numbers)
    assert summary.customers_created == len(export.customer_refs)
    assert summary.reminders_set == len(export.customer_refs)
    assert summary.stages_failed == []
    # The retry sent only what was missing: the dispatches, no upload and no reminder again.
    assert after["invoiceBulkUpload"] == before_retry["invoiceBulkUpload"]
    assert after["createCustomerReminder"] == before_retry["createCustomerReminder"]


def test_a_password_rotated_mid_run_costs_one_token_attempt_and_is_not_tried_the_next_night(
    sandbox: RunningSandbox, prefect_server: None, export: ErpExport, tmp_path: Path
) -> None:
    env = cli_env(sandbox, tmp_path / "storage")
    faults(sandbox, latency_ms=20)
    cycle = Cycle(env, export, tmp_path / "out", AS_OF, "--chunk-size", "10")
    wait_until(lambda: state(sandbox)["request_counts"].get("invoiceBulkUpload", 0) >= 1, "the first upload")
    # The password is rotated on the portal, and the run's token dies: it must renew with the old one.
    http.post(f"{sandbox.base_url}/_sandbox/password", json={"password": "rotated-on-the-portal"})
    tokens_before = state(sandbox)["request_counts"].get("getAuthenticationToken", 0)
    faults(sandbox, expire_tokens=True)
    code = cycle.finish()

    assert code == 1, cycle.output
    assert state(sandbox)["request_counts"]["getAuthenticationToken"] == tokens_before + 1
    lines = [line for line in cycle.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Bad credentials" in lines[0] and "not retried" in lines[0]

    # The next night, nobody has updated ENKASH_PASSWORD yet: the stale password is not sent again.
    faults(sandbox, latency_ms=0)
    next_night = run_cli(
        *cycle_args(export.customers_file, export.invoices_file, tmp_path / "out", AS_OF), env=env
    )
    assert next_night.returncode == 1
    assert state(sandbox)["request_counts"]["getAuthenticationToken"] == tokens_before + 1
    assert "have not changed since" in error_lines(next_night)[0]
    # Updated: tried once, works, and the night completes.
    fixed = run_cli(
        *cycle_args(export.customers_file, export.invoices_file, tmp_path / "out", AS_OF),
        env={**env, "ENKASH_PASSWORD": "rotated-on-the-portal"},
    )
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr


def test_plain_http_to_a_remote_host_is_refused_in_one_line(
    sandbox: RunningSandbox, prefect_server: None, export: ErpExport, tmp_path: Path
) -> None:
    env = {**cli_env(sandbox, tmp_path / "storage"), "ENKASH_BASE_URL": "http://ekpayout-uat.enkash.in"}
    result = run_cli(
        *cycle_args(export.customers_file, export.invoices_file, tmp_path / "out", AS_OF), env=env
    )

    assert result.returncode == 1
    [line] = error_lines(result)
    assert "ENKASH_BASE_URL" in line and "plain http to another machine" in line and "https://" in line
    assert "Traceback" not in result.stdout + result.stderr
    assert env["ENKASH_PASSWORD"] not in result.stdout + result.stderr
