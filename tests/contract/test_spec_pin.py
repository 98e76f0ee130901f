"""The client's and the sandbox's route tables agree with spec/openapi.yaml, and follow one profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from enkash_ar import APIError
from enkash_ar.contract_profile import INFERRED_OPERATIONS, SHIPPED_PROFILE
from enkash_ar.routes import READ_OPERATIONS, ROUTES, routes_for
from sandbox import routes as sandbox_routes
from sandbox.server import SandboxConfig, running_sandbox
from tests.client.client_helpers import client_for, customer_request

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "spec" / "openapi.yaml").read_text())
METHODS = ("get", "post", "put", "patch", "delete")
Table = set[tuple[str, str, str]]


def spec_table() -> Table:
    return {
        (method.upper(), path, op["operationId"])
        for path, item in SPEC["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


def spec_inferred_operations() -> set[str]:
    """Operations whose path (or the operation itself) the spec marks as a guess."""
    return {
        op["operationId"]
        for item in SPEC["paths"].values()
        for method, op in item.items()
        if method in METHODS and (item.get("x-inferred") or op.get("x-inferred"))
    }


def test_the_clients_table_is_the_specs() -> None:
    assert {(r.method, r.path, r.operation_id) for r in ROUTES.values()} == spec_table()


def test_the_sandboxs_table_is_the_specs() -> None:
    assert {(r.method, r.path, r.operation_id) for r in sandbox_routes.ROUTES} == spec_table()


def test_every_guessed_operation_of_the_spec_is_governed_by_the_profile() -> None:
    assert spec_inferred_operations() == set(INFERRED_OPERATIONS)
    for operation_id, route in SHIPPED_PROFILE.operations.items():
        assert (route.method, route.path, operation_id) in spec_table()


def test_what_only_reads_and_what_writes_split_the_operations() -> None:
    every = {op for _, _, op in spec_table()}
    assert every == READ_OPERATIONS | sandbox_routes.WRITE_OPERATIONS
    assert not READ_OPERATIONS & sandbox_routes.WRITE_OPERATIONS


def test_a_profile_that_moves_a_guessed_path_moves_it_in_the_client_and_the_sandbox() -> None:
    moved = SHIPPED_PROFILE.with_changes(
        {
            "operations": {
                "getCustomerReminders": {"method": "GET", "path": "/api/v1/customers/{customerId}/reminders"}
            }
        }
    )
    assert routes_for(moved)["getCustomerReminders"].path == "/api/v1/customers/{customerId}/reminders"
    with running_sandbox(SandboxConfig(profile=moved)) as sandbox:
        with client_for(sandbox, profile=moved) as client:
            customer = client.create_customer(customer_request())
            assert customer.customer_id
            assert client.get_customer_reminders(customer.customer_id) == []
        # A client that still assumes the shipped path finds no such operation there, and says so
        # (405: createCustomerReminder still answers POSTs on that path).
        with (
            client_for(sandbox) as shipped,
            pytest.raises(APIError, match=r"getCustomerReminders failed.*No such"),
        ):
            shipped.get_customer_reminders(customer.customer_id)


@pytest.mark.parametrize("operation_id", sorted(INFERRED_OPERATIONS))
def test_each_guessed_operation_says_why_in_the_spec(operation_id: str) -> None:
    reasons: list[Any] = [
        item.get("x-inferred-reason") or op.get("x-inferred-reason")
        for item in SPEC["paths"].values()
        for method, op in item.items()
        if method in METHODS and op.get("operationId") == operation_id
    ]
    assert reasons and reasons[0]


def profile_settings_named_in_the_spec(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["x-profile-setting"]] if "x-profile-setting" in node else []
        return own + [s for v in node.values() for s in profile_settings_named_in_the_spec(v)]
    if isinstance(node, list):
        return [s for v in node for s in profile_settings_named_in_the_spec(v)]
    return []


def test_the_spec_names_an_existing_profile_setting_for_each_guess() -> None:
    named = profile_settings_named_in_the_spec(SPEC)
    document = SHIPPED_PROFILE.model_dump(mode="json")
    for setting in named:
        node: Any = document
        for part in setting.split("."):
            assert isinstance(node, dict) and part in node, (
                f"x-profile-setting {setting!r} is not a profile setting"
            )
            node = node[part]
    assert {f"operations.{op}" for op in INFERRED_OPERATIONS} <= set(named)
    assert {"search", "result_files", "receivable_statuses", "token.expires_in", "errors.http_status"} <= set(
        named
    )
