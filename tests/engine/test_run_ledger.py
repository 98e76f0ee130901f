"""The run ledger: the night's record over attempts, refused credentials and the seller's lease."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from ar_sync import run_ledger
from ar_sync.exactly_once import outcomes_frame
from ar_sync.results import RESULT_SCHEMA, Origin, RowOutcome, Stage, result_rows
from ar_sync.run_ledger import MAX_REFUSED_PER_SELLER, NightRecordPrunedError, Outcome, RunLedger

SELLER, NIGHT = "CEKSANDBX1", "2026-11-24"


@pytest.fixture
def ledger() -> RunLedger:
    return RunLedger(":memory:")


def record(ledger: RunLedger, key: str, outcome: RowOutcome, origin: Origin, night: str = NIGHT) -> None:
    ledger.record_results(
        SELLER, night, result_rows(Stage.INVOICES_UPLOAD, [key], outcome=outcome, origin=origin)
    )


def rows(ledger: RunLedger, night: str = NIGHT) -> dict[str, tuple[str, str]]:
    return {
        r["key"]: (r["outcome"], r["origin"])
        for r in ledger.night_results(SELLER, night).iter_rows(named=True)
    }


def test_what_the_night_sent_stays_sent_over_later_attempts(ledger: RunLedger) -> None:
    record(ledger, "A", RowOutcome.SUCCESS, Origin.SENT)
    record(ledger, "A", RowOutcome.SUCCESS, Origin.ALREADY_PRESENT)  # the retry finds it in EnKash
    record(ledger, "A", RowOutcome.FAILURE, Origin.SENT)
    record(ledger, "B", RowOutcome.FAILURE, Origin.SENT)  # failed first ...
    record(ledger, "B", RowOutcome.SUCCESS, Origin.SENT)  # ... then went through
    record(ledger, "C", RowOutcome.SUCCESS, Origin.ALREADY_PRESENT)
    record(ledger, "C", RowOutcome.SUCCESS, Origin.SENT, night="2026-11-25")

    assert rows(ledger) == {
        "A": ("success", "sent"),
        "B": ("success", "sent"),
        "C": ("success", "already_present"),
    }
    assert rows(ledger, "2026-11-25") == {"C": ("success", "sent")}
    assert ledger.night_results(SELLER, "2026-01-01").is_empty()


def test_a_night_read_a_page_at_a_time_is_the_same_night(
    ledger: RunLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = [f"INV-{i:03d}" for i in range(7)]
    ledger.record_results(
        SELLER,
        NIGHT,
        result_rows(Stage.INVOICES_UPLOAD, keys, outcome=RowOutcome.SUCCESS, origin=Origin.SENT),
    )
    ledger.record_results(
        SELLER, NIGHT, result_rows(Stage.INVOICES_DISPATCH, keys[:2], outcome=RowOutcome.FAILURE)
    )
    whole = ledger.night_results(SELLER, NIGHT)
    monkeypatch.setattr(run_ledger, "READ_PAGE_ROWS", 2)  # 9 rows: five pages, the last of one row
    paged = ledger.night_results(SELLER, NIGHT)
    assert paged.height == 9
    assert paged.equals(whole)
    assert paged.schema == RESULT_SCHEMA


def test_seen_is_what_an_earlier_batch_of_this_seller_and_stage_may_have_written(ledger: RunLedger) -> None:
    sent = ledger.begin_batch(
        SELLER, Stage.INVOICES_UPLOAD, "invoiceBulkUpload", ["A", "B", "C"], night=NIGHT
    )
    ledger.finish_batch(sent, [Outcome("A", "done", "IN1", None), Outcome("B", "failed", None, "refused")])
    ledger.begin_batch("CEKOTHER01", Stage.INVOICES_UPLOAD, "invoiceBulkUpload", ["D"], night=NIGHT)
    ledger.begin_batch(SELLER, Stage.INVOICES_DISPATCH, "dispatchInvoiceCollection", ["E"], night=NIGHT)
    # A done, C still pending; B failed (sendable again); D another seller's, E another stage's.
    probe = ["A", "B", "C", "D", "E", "A", "Z", 'it\'s "quoted"']
    assert ledger.seen(SELLER, Stage.INVOICES_UPLOAD, probe) == {"A": NIGHT, "C": NIGHT}
    assert ledger.seen(SELLER, Stage.INVOICES_UPLOAD, []) == {}


def test_keys_of_any_text_are_kept_as_written_and_a_key_sent_again_moves_to_its_new_batch(
    ledger: RunLedger,
) -> None:
    # begin_batch passes its keys to SQLite as one JSON array: quotes, backslashes, non-ASCII and
    # emoji must come back as the same text.
    odd = ['it\'s "quoted"', "back\\slash", "ग्राहक-१", "INV-😀", " padded ", "A"]
    first = ledger.begin_batch(SELLER, Stage.INVOICES_UPLOAD, "invoiceBulkUpload", odd, night=NIGHT)
    assert ledger.unresolved(SELLER, Stage.INVOICES_UPLOAD) == sorted(odd)
    ledger.finish_batch(first, [Outcome(key, "done", f"IN-{i}", None) for i, key in enumerate(odd)])
    assert ledger.remote_ids(SELLER, Stage.INVOICES_UPLOAD) == {key: f"IN-{i}" for i, key in enumerate(odd)}
    again = ledger.begin_batch(SELLER, Stage.INVOICES_UPLOAD, "invoiceBulkUpload", ["A"], night="2026-11-25")
    assert ledger.unresolved_nights(SELLER, Stage.INVOICES_UPLOAD) == {"A": "2026-11-25"}
    ledger.finish_batch(again, [Outcome("A", "done", "IN-A2", None)])
    assert ledger.remote_ids(SELLER, Stage.INVOICES_UPLOAD)["A"] == "IN-A2"


def test_batches_know_their_night(ledger: RunLedger) -> None:
    ledger.begin_batch(SELLER, Stage.INVOICES_UPLOAD, "invoiceBulkUpload", ["A", "B"], night=NIGHT)
    done = ledger.begin_batch(SELLER, Stage.INVOICES_UPLOAD, "invoiceBulkUpload", ["C"], night="2026-11-23")
    ledger.resolve(SELLER, Stage.INVOICES_UPLOAD, {"C": "IN3"}, missing=[])
    assert ledger.seen(SELLER, Stage.INVOICES_UPLOAD, ["A", "C", "Z"]) == {"A": NIGHT, "C": "2026-11-23"}
    assert ledger.unresolved_nights(SELLER, Stage.INVOICES_UPLOAD) == {"A": NIGHT, "B": NIGHT}
    assert ledger.done_in_night(SELLER, Stage.INVOICES_UPLOAD, "2026-11-23") == {"C"}
    assert ledger.remote_ids(SELLER, Stage.INVOICES_UPLOAD) == {"C": "IN3"}
    assert done


def test_a_ledger_written_before_nights_existed_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE batches (batch_id TEXT PRIMARY KEY, seller_id TEXT NOT NULL, run_id TEXT,"
            " stage TEXT NOT NULL, operation TEXT NOT NULL, row_count INTEGER NOT NULL,"
            " status TEXT NOT NULL, detail TEXT,"
            " started_at TEXT NOT NULL, finished_at TEXT)"
        )
    with RunLedger(path) as ledger:
        ledger.begin_batch(SELLER, Stage.REMINDERS, "createCustomerReminder", ["C1"], night=NIGHT)
        assert ledger.unresolved_nights(SELLER, Stage.REMINDERS) == {"C1": NIGHT}


def test_refused_credentials_keep_the_newest_few_and_can_be_forgotten(ledger: RunLedger) -> None:
    for n in range(MAX_REFUSED_PER_SELLER + 2):
        ledger.remember_refused(SELLER, bytes([n]), f"fp{n}", "Bad credentials")
    kept = ledger.refused_credentials(SELLER)
    assert len(kept) == MAX_REFUSED_PER_SELLER
    assert ledger.refused_credentials("CEKOTHER01") == []
    assert ledger.forget_refused(SELLER) == MAX_REFUSED_PER_SELLER
    assert ledger.refused_credentials(SELLER) == []


def test_a_lease_is_held_until_released_expired_or_its_process_is_gone(ledger: RunLedger) -> None:
    minute = timedelta(minutes=1)
    assert ledger.try_lease(SELLER, "first", "flow run one", minute, host="this-host") is None
    assert ledger.try_lease(SELLER, "first", "flow run one", minute, host="this-host") is None  # renewal
    busy = ledger.try_lease(SELLER, "second", "flow run two", minute, host="this-host")
    assert busy is not None and busy.description == "flow run one"
    assert ledger.try_lease("CEKOTHER01", "second", "flow run two", minute, host="this-host") is None
    ledger.release_lease(SELLER, "second")  # not the holder: nothing happens
    assert ledger.try_lease(SELLER, "second", "flow run two", minute, host="this-host") is not None
    ledger.release_lease(SELLER, "first")
    assert ledger.try_lease(SELLER, "second", "flow run two", minute, host="this-host") is None
    # A lease that ran out (its holder stopped renewing) is taken over.
    assert ledger.try_lease(SELLER, "second", "flow run two", -minute, host="other-host") is None
    assert ledger.try_lease(SELLER, "third", "flow run three", minute, host="other-host") is None
    current = ledger.try_lease(SELLER, "second", "flow run two", minute, host="other-host")
    assert current is not None and current.holder == "third"
    assert current.acquired_at <= datetime.now(UTC) < current.lease_until


def test_the_lease_of_a_killed_process_on_this_host_is_taken_at_once(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with RunLedger(path) as ledger:
        assert ledger.try_lease(SELLER, "dead", "killed run", timedelta(hours=1), host="here") is None
    # The holder was SIGKILLed: its pid no longer exists (no pid can exceed the kernel's pid_max).
    dead_pid = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE seller_leases SET pid = ?", (dead_pid,))
    with RunLedger(path) as ledger:
        assert (
            ledger.try_lease(SELLER, "alive", "new run", timedelta(minutes=1), host="elsewhere") is not None
        )
        assert ledger.try_lease(SELLER, "alive", "new run", timedelta(minutes=1), host="here") is None
        assert ledger.try_lease(SELLER, "third", "x", timedelta(minutes=1), host="here") is not None


def present(
    ledger: RunLedger, keys: list[str], night: str = NIGHT, stage: Stage = Stage.INVOICES_UPLOAD
) -> None:
    frame = pl.DataFrame(
        {"key": keys, "amount": [100.0] * len(keys), "remote_id": [f"IN-{k}" for k in keys]},
        schema={"key": pl.String, "amount": pl.Float64, "remote_id": pl.String},
    )
    ledger.record_present(SELLER, night, stage, frame)


def test_what_a_stage_found_present_is_one_set_and_yields_to_what_the_night_did(ledger: RunLedger) -> None:
    record(ledger, "A", RowOutcome.SUCCESS, Origin.SENT)  # attempt 1 sent A ...
    record(ledger, "B", RowOutcome.FAILURE, Origin.SENT)  # ... and failed B
    present(ledger, ["A", "B", "C", "D"])  # attempt 2 finds them all in EnKash
    record(ledger, "D", RowOutcome.FAILURE, Origin.SENT)  # a row recorded after the set wins

    assert rows(ledger) == {
        "A": ("success", "sent"),
        "B": ("success", "already_present"),
        "C": ("success", "already_present"),
        "D": ("failure", "sent"),
    }
    results = ledger.night_results(SELLER, NIGHT)
    assert results.columns == list(RESULT_SCHEMA.names())
    assert results["key"].to_list() == ["A", "B", "C", "D"]
    assert results.filter(pl.col("key") == "C").row(0, named=True) == {
        "stage": "invoices_upload",
        "key": "C",
        "outcome": "success",
        "origin": "already_present",
        "amount": 100.0,
        "reason": None,
        "remote_id": "IN-C",
    }
    # A later attempt's set replaces the earlier one: C is gone from EnKash and was not sent again.
    present(ledger, ["A", "B"])
    assert rows(ledger) == {
        "A": ("success", "sent"),
        "B": ("success", "already_present"),
        "D": ("failure", "sent"),
    }


def test_a_quiet_night_adds_one_set_per_stage_not_a_row_per_record(tmp_path: Path) -> None:
    with RunLedger(tmp_path / "ledger.sqlite3") as ledger:
        keys = [f"INV-{n:06d}" for n in range(20_000)]
        for night in ("2026-11-24", "2026-11-25"):
            present(ledger, keys, night=night)
            present(ledger, keys, night=night, stage=Stage.INVOICES_DISPATCH)
        assert ledger.night_results(SELLER, "2026-11-25").height == 40_000
    with sqlite3.connect(tmp_path / "ledger.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM night_results").fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM night_present").fetchone() == (4,)


def test_the_row_level_record_is_kept_for_a_window_of_nights_and_older_ones_are_refused(
    ledger: RunLedger,
) -> None:
    old, kept, newest = "2026-09-01", "2026-10-01", "2026-11-24"
    for night in (old, kept, newest):
        record(ledger, "A", RowOutcome.SUCCESS, Origin.SENT, night=night)
        present(ledger, ["B"], night=night)
        ledger.record_night_summary(SELLER, night, json.dumps({"as_of": night}))
    assert ledger.night_record_kept_from(SELLER) is None

    assert ledger.prune_night_record(SELLER, newest) == "2026-09-23"  # 62 days before

    assert ledger.night_results(SELLER, old).is_empty()
    assert (
        rows(ledger, kept)
        == rows(ledger, newest)
        == {
            "A": ("success", "sent"),
            "B": ("success", "already_present"),
        }
    )
    assert len(ledger.night_summaries(SELLER, until=newest)) == 3  # the trend keeps every summary
    ledger.check_night_kept(SELLER, kept)
    with pytest.raises(NightRecordPrunedError) as gone:
        ledger.check_night_kept(SELLER, old)
    message = str(gone.value)
    assert all(part in message for part in (old, SELLER, "2026-09-23", "bulk_results.parquet", "nothing was"))
    # Summarising an older night again never brings the horizon back.
    assert ledger.prune_night_record(SELLER, kept) == "2026-09-23"
    # Another seller's pruning leaves this seller's nights and horizon alone.
    assert ledger.prune_night_record("CEKOTHER01", "2027-06-01") == "2027-03-31"
    assert rows(ledger, newest) == {"A": ("success", "sent"), "B": ("success", "already_present")}
    assert ledger.night_record_kept_from(SELLER) == "2026-09-23"


def test_the_ledger_answers_which_of_the_ids_asked_about_a_stage_recorded_done(ledger: RunLedger) -> None:
    batch = ledger.begin_batch(SELLER, Stage.INVOICES_UPLOAD, "invoiceBulkUpload", ["A", "B", "C", "D"])
    ledger.finish_batch(
        batch,
        [
            Outcome("A", "done", "IN-A", None),
            Outcome("B", "done", "IN-B", None),
            Outcome("C", "failed", "IN-C", "refused"),
        ],
    )  # D stays pending
    other = ledger.begin_batch(SELLER, Stage.CUSTOMERS_CREATE, "createBulkCustomer", ["K"])
    ledger.finish_batch(other, [Outcome("K", "done", "IN-K", None)])
    elsewhere = ledger.begin_batch("ANOTHER", Stage.INVOICES_UPLOAD, "invoiceBulkUpload", ["E"])
    ledger.finish_batch(elsewhere, [Outcome("E", "done", "IN-E", None)])

    asked = ["IN-A", "IN-C", "IN-K", "IN-E", "IN-Z", "IN-A", 'IN-"odd"']
    assert ledger.remote_ids_among(SELLER, Stage.INVOICES_UPLOAD, asked) == {"IN-A"}
    assert ledger.remote_ids_among(SELLER, Stage.INVOICES_UPLOAD, ["IN-B"]) == {"IN-B"}
    assert ledger.remote_ids_among(SELLER, Stage.INVOICES_UPLOAD, []) == set()


def test_a_key_is_done_in_the_night_of_its_last_batch_only(ledger: RunLedger) -> None:
    first = ledger.begin_batch(SELLER, Stage.INVOICES_UPLOAD, "invoiceBulkUpload", ["A", "B"], night=NIGHT)
    ledger.finish_batch(first, [Outcome("A", "done", "IN-A", None), Outcome("B", "failed", None, "no")])
    later = ledger.begin_batch(SELLER, Stage.INVOICES_UPLOAD, "invoiceBulkUpload", ["B"], night="2026-11-25")
    ledger.finish_batch(later, [Outcome("B", "done", "IN-B", None)])
    again = ledger.begin_batch(SELLER, Stage.INVOICES_UPLOAD, "invoiceBulkUpload", ["A"], night="2026-11-26")
    ledger.finish_batch(again, [Outcome("A", "done", "IN-A2", None)])
    other = ledger.begin_batch(
        SELLER, Stage.INVOICES_DISPATCH, "dispatchInvoiceCollection", ["C"], night=NIGHT
    )
    ledger.finish_batch(other, [Outcome("C", "done", "IN-C", None)])

    assert ledger.done_in_night(SELLER, Stage.INVOICES_UPLOAD, NIGHT) == set()
    assert ledger.done_in_night(SELLER, Stage.INVOICES_UPLOAD, "2026-11-25") == {"B"}
    assert ledger.done_in_night(SELLER, Stage.INVOICES_UPLOAD, "2026-11-26") == {"A"}
    assert ledger.done_in_night(SELLER, Stage.INVOICES_DISPATCH, NIGHT) == {"C"}
    assert ledger.done_in_night("ANOTHER", Stage.INVOICES_DISPATCH, NIGHT) == set()


def test_a_ledger_written_before_nights_existed_opens_and_its_batches_belong_to_no_night(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE batches (batch_id TEXT PRIMARY KEY, seller_id TEXT NOT NULL, run_id TEXT,
            stage TEXT NOT NULL, operation TEXT NOT NULL, row_count INTEGER NOT NULL, status TEXT NOT NULL,
            detail TEXT, started_at TEXT NOT NULL, finished_at TEXT);
        INSERT INTO batches VALUES ('b1', 'CEKSANDBX1', NULL, 'invoices_upload', 'invoiceBulkUpload', 1,
            'answered', NULL, '2026-11-01T00:00:00+00:00', NULL);
        """
    )
    old.commit()
    old.close()

    ledger = RunLedger(path)
    with sqlite3.connect(path) as reader:
        indexes = {row[1] for row in reader.execute("PRAGMA index_list(batches)")}
    assert "batches_night" in indexes
    assert ledger.done_in_night(SELLER, Stage.INVOICES_UPLOAD, NIGHT) == set()
    batch = ledger.begin_batch(SELLER, Stage.INVOICES_UPLOAD, "invoiceBulkUpload", ["A"], night=NIGHT)
    ledger.finish_batch(batch, [Outcome("A", "done", "IN-A", None)])
    assert ledger.done_in_night(SELLER, Stage.INVOICES_UPLOAD, NIGHT) == {"A"}


def test_the_nights_record_comes_in_stage_and_key_order_over_pages(
    ledger: RunLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Recorded out of order, over two stages and several read pages, with and without present sets.
    monkeypatch.setattr(run_ledger, "READ_PAGE_ROWS", 3)
    keys = ["K9", "K1", "é", "K10", "k2", "K2", "Z"]
    for stage in (Stage.INVOICES_UPLOAD, Stage.CUSTOMERS_CREATE):
        ledger.record_results(SELLER, NIGHT, result_rows(stage, keys, outcome=RowOutcome.SUCCESS))
    recorded = ledger.night_results(SELLER, NIGHT).select("stage", "key")
    assert recorded.height == 2 * len(keys)
    assert recorded.rows() == recorded.sort("stage", "key").rows()

    present(ledger, ["A0", "K15", "zz"], stage=Stage.INVOICES_DISPATCH)
    every = ledger.night_results(SELLER, NIGHT)
    assert every.schema == RESULT_SCHEMA
    assert every.height == 2 * len(keys) + 3
    assert every.select("stage", "key").rows() == every.sort("stage", "key").select("stage", "key").rows()


def test_the_nights_record_written_to_a_file_is_the_record_page_by_page(
    ledger: RunLedger, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # bulk_results.parquet is written from the ledger a page at a time: the same rows, in the same order,
    # as the record read whole, whether or not a stage found records present, over pages of 3 rows.
    monkeypatch.setattr(run_ledger, "READ_PAGE_ROWS", 3)
    target = tmp_path / "bulk_results.parquet"
    target.write_bytes(b"an earlier night's file")

    def written() -> pl.DataFrame:
        assert ledger.write_night_results(SELLER, NIGHT, target) == target
        assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]  # no partial file left
        return pl.read_parquet(target)

    empty = written()
    assert empty.is_empty() and empty.schema == RESULT_SCHEMA

    keys = ["K9", "K1", "é", "K10", "k2", "K2", "Z"]
    ledger.record_results(SELLER, NIGHT, result_rows(Stage.INVOICES_UPLOAD, keys, outcome=RowOutcome.SUCCESS))
    ledger.record_results(
        SELLER,
        NIGHT,
        result_rows(Stage.CUSTOMERS_CREATE, keys[:4], outcome=RowOutcome.FAILURE, reasons=["x"] * 4),
    )
    present(ledger, keys[:2], stage=Stage.INVOICES_UPLOAD)  # every one of them recorded after: nothing to add
    assert written().equals(ledger.night_results(SELLER, NIGHT))
    assert written().height == len(keys) + 4

    present(ledger, ["A0", "K15", "zz"], stage=Stage.INVOICES_DISPATCH)  # found present, none recorded
    every = written()
    assert every.equals(ledger.night_results(SELLER, NIGHT))
    assert every.schema == RESULT_SCHEMA
    assert every.height == len(keys) + 4 + 3
    assert every.select("stage", "key").rows() == every.sort("stage", "key").select("stage", "key").rows()


def test_every_commit_of_the_ledger_is_synced_to_the_disk(tmp_path: Path) -> None:
    # WAL's NORMAL would sync only at checkpoints: a batch recorded as about to be sent could be gone
    # after a power cut, though its request reached EnKash.
    ledger = RunLedger(tmp_path / "ledger.sqlite3")
    assert ledger._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert ledger._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_a_batch_answered_as_a_frame_is_recorded_as_the_same_outcomes_one_by_one(tmp_path: Path) -> None:
    outcomes = [
        Outcome("K1", "done", "R1"),
        Outcome("K2", "failed", None, "bad GSTIN"),
        Outcome("K3", "done"),
    ]
    recorded = []
    for name, answer in (("objects", outcomes), ("frame", outcomes_frame(outcomes))):
        ledger = RunLedger(tmp_path / f"{name}.sqlite3")
        batch = ledger.begin_batch(
            "S1", "invoices_upload", "invoiceBulkUpload", ["K1", "K2", "K3"], night="2026-11-24"
        )
        ledger.finish_batch(batch, answer)
        with sqlite3.connect(tmp_path / f"{name}.sqlite3") as conn:
            recorded.append(
                conn.execute("SELECT key, status, remote_id, message FROM entries ORDER BY key").fetchall()
            )
        ledger.close()

    assert (
        recorded[0]
        == recorded[1]
        == [("K1", "done", "R1", None), ("K2", "failed", None, "bad GSTIN"), ("K3", "done", None, None)]
    )


def test_a_batch_s_answers_are_recorded_in_a_few_statements_whatever_its_size(tmp_path: Path) -> None:
    # A statement per row hands the interpreter lock back and forth once per row: with other threads
    # busy in Python (chunks in flight), a 5,000-row batch took seconds instead of ~50 ms.
    ledger = RunLedger(tmp_path / "ledger.sqlite3", run_id="run-1")
    keys = [f"INV-{n:05d}" for n in range(2000)]
    outcomes = [Outcome(k, "done", f"ID{n}") for n, k in enumerate(keys)]
    results = result_rows(Stage.INVOICES_UPLOAD, keys, remote_ids=[o.remote_id for o in outcomes])
    statements: list[str] = []
    for answer in (outcomes, outcomes_frame(outcomes)):
        batch = ledger.begin_batch(SELLER, Stage.INVOICES_UPLOAD, "invoiceBulkUpload", keys, night=NIGHT)
        ledger._conn.set_trace_callback(statements.append)
        ledger.finish_batch(batch, answer, results=results)
        ledger._conn.set_trace_callback(None)
        assert len(statements) <= 8, statements
        statements.clear()
    ledger._conn.set_trace_callback(statements.append)
    ledger.resolve(SELLER, Stage.INVOICES_UPLOAD, dict.fromkeys(keys[:1000], "X"), missing=keys[1000:])
    ledger._conn.set_trace_callback(None)

    assert len(statements) <= 6, statements
    assert ledger.status_counts(SELLER, Stage.INVOICES_UPLOAD) == {"done": 1000, "failed": 1000}
    assert ledger.remote_ids(SELLER, Stage.INVOICES_UPLOAD)[keys[0]] == "X"
    assert len(ledger.night_results(SELLER, NIGHT)) == 2000


def test_answers_for_keys_the_batch_did_not_send_change_nothing(ledger: RunLedger) -> None:
    first = ledger.begin_batch(SELLER, "invoices_upload", "invoiceBulkUpload", ["A", "B"], night=NIGHT)
    later = ledger.begin_batch(SELLER, "invoices_upload", "invoiceBulkUpload", ["B"], night=NIGHT)

    # B moved to the later batch; C was never sent: the first batch's answer changes only A.
    ledger.finish_batch(
        first, [Outcome("A", "done", "1"), Outcome("B", "done", "2"), Outcome("C", "done", "3")]
    )

    assert ledger.remote_ids(SELLER, "invoices_upload") == {"A": "1"}
    assert ledger.unresolved(SELLER, "invoices_upload") == ["B"]
    ledger.finish_batch(later, outcomes_frame([Outcome("B", "failed", None, "bad date")]))
    assert ledger.status_counts(SELLER, "invoices_upload") == {"done": 1, "failed": 1}
    with pytest.raises(ValueError, match="not in the ledger"):
        ledger.finish_batch("no-such-batch", [Outcome("A", "done", "1")])
