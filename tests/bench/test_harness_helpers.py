"""The benchmark harness's pure helpers (no timing is asserted, nothing is started)."""

from pathlib import Path

from bench.breakdown import breakdown
from bench.common import LOCKED, locked_answers
from bench.phases import Phases, extra_requests, request_delta
from bench.report import quiet_pairs
from bench.run_all import median_pair
from bench.targets import S1_RATIO, S4_RSS, ratio


def test_request_delta_keeps_only_operations_that_moved() -> None:
    before = {"searchCustomer": 2, "createInvoice": 1}
    after = {"searchCustomer": 5, "createInvoice": 1, "invoiceBulkUpload": 2}
    assert request_delta(before, after) == {"invoiceBulkUpload": 2, "searchCustomer": 3}


def test_extra_requests_names_what_the_cycle_added_and_saved() -> None:
    cycle = {"searchCustomer": 8, "getCustomerReminders": 100, "invoiceBulkUpload": 2}
    floor = {"searchCustomer": 2, "invoiceBulkUpload": 2, "createCustomerReminder": 5}
    assert extra_requests(cycle, floor) == {
        "createCustomerReminder": -5,
        "getCustomerReminders": 100,
        "searchCustomer": 6,
    }


def test_verdicts_and_ratios() -> None:
    assert S1_RATIO.verdict(ratio(5.0, 4.0))["met"] is True
    assert S1_RATIO.verdict(ratio(6.0, 4.0))["met"] is False
    assert S4_RSS.verdict(None)["met"] is None
    assert ratio(1.0, 0.0) is None


def test_phases_add_up_a_phase_entered_twice() -> None:
    phases = Phases()
    for _ in range(2):
        with phases.phase("reminders"):
            pass
    assert list(phases.rounded()) == ["reminders"]


def test_breakdown_accounts_for_every_second_of_the_cycle() -> None:
    stages = {"nightly-ar-cycle": 9.0, "upload-invoices": 3.0, "collect-payments": 2.0}
    rows = breakdown(10.0, stages, {"invoices_upload": 1.0, "load": 0.5})
    assert sum(r["cycle_seconds"] for r in rows) == 10.0
    extra = {r["stage"]: r["extra_seconds"] for r in rows}
    assert extra["upload-invoices"] == 2.0
    assert extra["collect-payments"] == 2.0
    assert extra["nightly-ar-cycle outside stages"] == 3.5


def test_locked_answers_are_counted_in_the_server_log_from_where_the_last_count_ended(tmp_path: Path) -> None:
    server_log = tmp_path / "server.log"
    assert locked_answers(server_log, 0) == (0, 0)
    refused = b"Traceback ...\n" + LOCKED + b"\n[SQL: INSERT INTO task_run ...]\n"
    server_log.write_bytes(b"INFO started\n" + refused)
    count, at = locked_answers(server_log, 0)
    assert (count, at) == (1, server_log.stat().st_size)
    with server_log.open("ab") as file:
        file.write(refused * 2)
    assert locked_answers(server_log, at)[0] == 2


def test_the_quiet_ratio_is_the_median_pair_and_the_report_names_every_pair() -> None:
    pairs = [
        {"night": "2026-11-25", "ratio": 1.61, "cycle_s": 18.2, "floor_s": 11.3},
        {"night": "2026-11-26", "ratio": 1.27, "cycle_s": 14.0, "floor_s": 11.0},
        {"night": "2026-11-27", "ratio": 1.42, "cycle_s": 15.6, "floor_s": 11.0},
    ]
    assert median_pair(pairs)["night"] == "2026-11-27"
    assert median_pair(pairs[:2])["night"] == "2026-11-26"  # an even number: the lower middle
    assert median_pair(pairs[:1])["night"] == "2026-11-25"
    assert quiet_pairs(pairs) == "18.2 s / 11.3 s = 1.61, 14.0 s / 11.0 s = 1.27, 15.6 s / 11.0 s = 1.42"
