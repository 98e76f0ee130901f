"""Flow parameters as the Prefect form shows them: every parameter described, and a run's partial
``options`` laid over its deployment's (the merge itself; the real deployment is in
test_flow_parameters.py)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.utilities.callables import parameter_schema
from pydantic import ValidationError

from flows.options import CycleOptions
from flows.run_options import merge_options

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENTS: list[dict[str, Any]] = yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]
DEPLOYED = {"credentials_block": "enkash-prod", "out_dir": "/var/lib/enkash-ar/out", "chunk_size": 5000}


def test_a_partial_override_keeps_the_deployments_other_options() -> None:
    options = merge_options(CycleOptions(chunk_size=500), DEPLOYED)

    assert (options.credentials_block, options.out_dir, options.chunk_size) == (
        "enkash-prod",
        "/var/lib/enkash-ar/out",
        500,
    )


def test_an_explicit_value_wins_even_when_it_is_the_default() -> None:
    options = merge_options(CycleOptions(credentials_block=None, out_dir="out"), DEPLOYED)

    assert (options.credentials_block, options.out_dir, options.chunk_size) == (None, "out", 5000)


def test_no_override_is_the_deployments_options_and_no_deployment_the_runs() -> None:
    assert merge_options(None, DEPLOYED) == CycleOptions.model_validate(DEPLOYED)
    given = CycleOptions(dry_run=True)
    assert merge_options(given, None) == given
    # Merging again (a stage inside the cycle) changes nothing.
    once = merge_options(given, DEPLOYED)
    assert merge_options(once, DEPLOYED) == once


def test_a_typo_is_refused_wherever_it_comes_from() -> None:
    with pytest.raises(ValidationError, match="chunk_sise"):
        merge_options(None, {**DEPLOYED, "chunk_sise": 10})
    with pytest.raises(ValidationError, match="chunk_sise"):
        CycleOptions.model_validate({"chunk_sise": 10})


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=lambda d: d["name"])
def test_every_flow_parameter_has_a_description_in_the_form(deployment: dict[str, Any]) -> None:
    path, name = deployment["entrypoint"].split(":")
    flow = getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), name)
    schema = parameter_schema(flow)

    undescribed = [p for p, spec in schema.properties.items() if not spec.get("description")]
    assert undescribed == [], f"{deployment['name']}: add them to the docstring's Args"
    if "CycleOptions" in schema.definitions:
        fields = schema.definitions["CycleOptions"]["properties"]
        assert [f for f, spec in fields.items() if not spec.get("description")] == []
        assert schema.definitions["CycleOptions"]["additionalProperties"] is False
