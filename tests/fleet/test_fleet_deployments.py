"""The fleet's deployments, on the process pool (prefect.yaml) and on Kubernetes
(prefect.kubernetes.yaml, built from the Dockerfile): each fits its flow, and the image has the code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.fleet import CHILD_DEPLOYMENT, ar_fleet
from flows.nightly_ar_cycle import nightly_ar_cycle

ROOT = Path(__file__).resolve().parents[2]


def deployments(file: str) -> dict[str, dict[str, Any]]:
    loaded = yaml.safe_load((ROOT / file).read_text())
    return {d["name"]: d for d in loaded["deployments"]}


@pytest.mark.parametrize("file", ["prefect.yaml", "prefect.kubernetes.yaml"])
def test_the_fleet_and_its_children_fit_their_flows(file: str) -> None:
    found = deployments(file)
    fleet, child = found["ar-fleet"], found["fleet-seller-cycle"]
    assert fleet["entrypoint"] == "flows/fleet.py:ar_fleet"
    assert child["entrypoint"] == "flows/nightly_ar_cycle.py:nightly_ar_cycle"
    assert (
        fleet["parameters"]["child_deployment"]
        == CHILD_DEPLOYMENT
        == f"{nightly_ar_cycle.name}/{child['name']}"
    )
    ar_fleet.validate_parameters(fleet["parameters"])
    nightly_ar_cycle.validate_parameters({**child["parameters"], "customers_file": "c", "invoices_file": "i"})
    # No deployment limit on the children: it would run the fleet's sellers one after another.
    assert "concurrency_limit" not in child
    assert fleet["work_pool"]["name"] == child["work_pool"]["name"]
    assert "password" not in str(found).lower() and "secret" not in str(found).lower()


def test_the_kubernetes_deployments_build_and_push_the_projects_image() -> None:
    loaded = yaml.safe_load((ROOT / "prefect.kubernetes.yaml").read_text())
    build = loaded["build"][0]["prefect_docker.deployments.steps.build_docker_image"]
    assert build["dockerfile"] == "Dockerfile" and build["id"] == "build_image"
    assert "push_docker_image" in str(loaded["push"])
    pool = deployments("prefect.kubernetes.yaml")["ar-fleet"]["work_pool"]
    assert pool["job_variables"]["image"] == "{{ build_image.image }}"
    workdir = loaded["pull"][0]["prefect.deployments.steps.set_working_directory"]["directory"]

    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"WORKDIR {workdir}" in dockerfile
    copied = {m.split()[0] for m in re.findall(r"^COPY (.+)$", dockerfile, flags=re.M)}
    assert all((ROOT / name).exists() for name in copied), copied
    # Every package the wheel installs is in the image.
    packages = re.search(r"packages = \[(.*?)\]", (ROOT / "pyproject.toml").read_text())
    assert packages is not None
    for package in re.findall(r'"(\w+)"', packages.group(1)):
        assert f"COPY {package} ./{package}" in dockerfile
    assert "uv sync --frozen --no-dev" in dockerfile
    assert "USER enkash" in dockerfile


@pytest.mark.parametrize(
    ("base_url", "limit"),
    [
        ("https://api.enkash.in", "enkash-ar-nights-api.enkash.in"),
        ("https://API.EnKash.in/", "enkash-ar-nights-api.enkash.in"),
        ("http://127.0.0.1:8765", "enkash-ar-nights-127.0.0.1-8765"),
    ],
)
def test_one_limit_per_enkash_host_whatever_the_seller(base_url: str, limit: str) -> None:
    from tasks.fleet_children import nights_limit_name

    assert nights_limit_name(base_url) == limit
