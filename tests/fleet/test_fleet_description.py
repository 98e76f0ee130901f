"""The fleet description: YAML or form, checked with one line per problem naming the seller and field."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ar_sync.fleet import (
    Fleet,
    FleetError,
    check_fleet,
    expand,
    load_fleet,
    parse_fleet,
    plan_night,
    pydantic_options_check,
)
from flows.options import CycleOptions

NIGHT = date(2026, 11, 24)
CHECK = pydantic_options_check(CycleOptions)


def seller(seller_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "seller_id": seller_id,
        "credentials_block": f"enkash-{seller_id.lower()}",
        "customers_file": "erp/{seller}/{date:%Y-%m-%d}/customers.csv",
        "invoices_file": "erp/{seller}/{date:%Y-%m-%d}/invoices.csv",
        **overrides,
    }


def problems_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(FleetError) as caught:
        check_fleet(parse_fleet(raw), CHECK)
    return str(caught.value).splitlines()


def test_a_yaml_fleet_plans_each_enabled_sellers_night(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(
        "options:\n  chunk_size: 2000\n"
        "sellers:\n"
        "  - seller_id: CEKACME001\n    credentials_block: enkash-acme\n"
        "    customers_file: erp/{seller}/{date:%Y-%m-%d}/customers.csv\n"
        "    invoices_file: erp/{seller}/{date:%Y-%m-%d}/invoices.csv\n"
        "    options: {chunk_size: 500, max_cancel_share: 0.1}\n"
        "  - seller_id: CEKBETA002\n    credentials_block: enkash-beta\n"
        "    customers_file: /srv/beta/c.csv\n    invoices_file: /srv/beta/i.csv\n    enabled: false\n"
    )
    fleet = check_fleet(load_fleet(path), CHECK)
    nights = plan_night(fleet, NIGHT, {"enkash-acme": "CEKACME001"}, file_exists=lambda p: True)

    assert [n.seller_id for n in nights] == ["CEKACME001"]  # the disabled seller is left out
    night = nights[0]
    assert night.customers_file == "erp/CEKACME001/2026-11-24/customers.csv"
    assert night.options == {
        "out_dir": "out/CEKACME001/2026-11-24",
        "ledger_path": "ledgers/CEKACME001.sqlite3",
        "chunk_size": 500,  # the seller's own option wins over the fleet's
        "max_cancel_share": 0.1,
        "credentials_block": "enkash-acme",
    }
    assert night.problem is None
    CycleOptions.model_validate(night.options)  # what the child run receives is valid cycle options


def test_duplicate_sellers_unknown_options_and_bad_values_are_each_named() -> None:
    lines = problems_of(
        {
            "sellers": [
                seller("CEKACME001", options={"chunk_sise": 10}),
                seller("CEKBETA002", options={"rejection_threshold": 3}),
                seller("CEKACME001"),
            ]
        }
    )
    assert lines[0] == "seller CEKACME001: listed twice (sellers #1 and #3); keep one entry per seller"
    assert any(
        line.startswith("seller CEKACME001 options.chunk_sise: unknown option; known: ") for line in lines
    )
    assert any(line.startswith("seller CEKBETA002 options.rejection_threshold: ") for line in lines)


def test_a_wrong_field_names_the_seller_and_the_field() -> None:
    with pytest.raises(FleetError) as caught:
        parse_fleet({"sellers": [seller("CEKACME001", enabeld=False), seller("nope")]}, where="fleet.yaml")
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("fleet.yaml: seller CEKACME001 enabeld: unknown field; remove it")
    assert lines[1].startswith("fleet.yaml: seller nope seller_id: String should match pattern")


def test_sellers_sharing_an_output_folder_or_a_ledger_are_refused() -> None:
    lines = problems_of(
        {
            "options": {"ledger_path": "ledger.sqlite3"},
            "sellers": [seller("CEKACME001"), seller("CEKBETA002")],
        }
    )
    assert lines == [
        "seller CEKBETA002 ledger_path: the same as seller CEKACME001's (ledger.sqlite3); "
        "give each seller its own, e.g. with {seller} in the path"
    ]


def test_the_block_is_the_fleets_to_set_and_placeholders_are_checked() -> None:
    lines = problems_of(
        {
            "options": {"credentials_block": "shared"},
            "sellers": [seller("CEKACME001", invoices_file="erp/{company}/i.csv")],
        }
    )
    assert (
        "fleet options.credentials_block: set by the fleet from the seller's credentials_block; remove it"
        in lines
    )
    assert any("invoices_file: unknown placeholder {company}" in line for line in lines)


def test_a_missing_block_or_file_stops_that_seller_alone() -> None:
    fleet = check_fleet(
        parse_fleet({"sellers": [seller("CEKACME001"), seller("CEKBETA002"), seller("CEKGAMA003")]}), CHECK
    )
    blocks = {"enkash-cekacme001": "CEKACME001", "enkash-cekgama003": "CEKOTHER03"}
    present = {"erp/CEKACME001/2026-11-24/customers.csv"}
    nights = {n.seller_id: n.problem for n in plan_night(fleet, NIGHT, blocks, present.__contains__)}

    assert nights["CEKACME001"] == (
        "seller CEKACME001: ERP file missing: erp/CEKACME001/2026-11-24/invoices.csv; deliver tonight's "
        "export there (or fix customers_file / invoices_file), then rerun the seller"
    )
    assert nights["CEKBETA002"] is not None
    assert nights["CEKBETA002"].startswith(
        "seller CEKBETA002 credentials_block: no EnkashCredentials block named 'enkash-cekbeta002'"
    )
    assert nights["CEKGAMA003"] == (
        "seller CEKGAMA003 credentials_block: block 'enkash-cekgama003' is for seller CEKOTHER03; "
        "name this seller's own block"
    )


def test_fleet_files_that_cannot_be_read_say_so_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(FleetError, match=r"fleet.yaml: no such fleet file"):
        load_fleet(tmp_path / "fleet.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("sellers: [\n")
    with pytest.raises(FleetError, match=r"broken.yaml: not a readable YAML fleet file") as caught:
        load_fleet(broken)
    assert "\n" not in str(caught.value)
    listed = tmp_path / "list.yaml"
    listed.write_text("- CEKACME001\n")
    with pytest.raises(FleetError, match="a fleet is a mapping with 'sellers'"):
        load_fleet(listed)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("erp/{seller}/{date:%Y-%m-%d}/i.csv", "erp/CEKACME001/2026-11-24/i.csv"),
        ("erp/{date}/{seller}.csv", "erp/2026-11-24/CEKACME001.csv"),
        ("erp/{date:%d%m%Y}.xlsx", "erp/24112026.xlsx"),
        ("/fixed/invoices.csv", "/fixed/invoices.csv"),
    ],
)
def test_patterns_fill_in_the_seller_and_the_night(pattern: str, expected: str) -> None:
    assert expand(pattern, "CEKACME001", NIGHT) == expected


def test_the_form_is_the_same_model_as_the_file() -> None:
    schema = Fleet.model_json_schema()
    assert schema["required"] == ["sellers"]
    seller_schema = schema["$defs"]["FleetSeller"]
    assert set(seller_schema["properties"]) == {
        "seller_id",
        "credentials_block",
        "customers_file",
        "invoices_file",
        "options",
        "enabled",
    }
    assert all(p.get("description") for p in seller_schema["properties"].values())
