"""prefect.yaml: every deployment points at a real flow and its parameters fit the flow's schema."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.utilities.callables import parameter_schema

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENTS: list[dict[str, Any]] = yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]
EXPECTED = {
    "nightly-ar-cycle",
    "cancel-removed",
    "sync-customers",
    "upload-invoices",
    "dispatch-invoices",
    "collect-payments",
    "setup-reminders",
    "ar-summary",
    "doctor",
    "fleet-seller-cycle",
    "ar-fleet",
}
#: Deployments whose required parameters each run gets from the fleet (one seller's files each night).
FLEET_CHILDREN = {"fleet-seller-cycle"}


def test_one_deployment_per_stage_and_the_nightly_schedule() -> None:
    assert {d["name"] for d in DEPLOYMENTS} == EXPECTED
    nightly = next(d for d in DEPLOYMENTS if d["name"] == "nightly-ar-cycle")
    assert nightly["schedules"] == [{"cron": "30 1 * * *", "timezone": "Asia/Kolkata"}]


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=lambda d: d["name"])
def test_deployment_parameters_fit_the_flow(deployment: dict[str, Any]) -> None:
    path, name = deployment["entrypoint"].split(":")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    flow = getattr(module, name)
    schema = parameter_schema(flow)
    assert deployment["enforce_parameter_schema"] is True
    if deployment["name"] in FLEET_CHILDREN:
        # A limit of 1 would run a fleet's sellers one after another; the seller lock keeps each apart.
        assert "concurrency_limit" not in deployment
    else:
        assert deployment["concurrency_limit"] == {"limit": 1, "collision_strategy": "ENQUEUE"}
    assert deployment["work_pool"]["name"] == "enkash-ar-process"
    parameters = deployment["parameters"]
    assert set(parameters) <= set(schema.properties)
    if deployment["name"] in FLEET_CHILDREN:
        parameters = {**parameters, "customers_file": "c.csv", "invoices_file": "i.csv"}
    assert set(schema.required or []) <= set(parameters)
    flow.validate_parameters(parameters)
    text = str(parameters).lower()
    assert "password" not in text and "secret" not in text, "credentials only by block name"
