"""Every answer of the sandbox conforms to spec/openapi.yaml (schemathesis, property-based).

For each of the 24 operations, schemathesis generates requests from the spec, sends them to the
running sandbox with a valid token and checks that the response has a documented content type, a
schema-valid body and (where the spec documents error statuses) a documented status code, and is never
a 5xx.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from sandbox_helpers import basic_header, get_token, new_customer  # noqa: F401 - keeps helpers importable
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from sandbox.server import RunningSandbox

SPEC = Path(__file__).resolve().parents[2] / "spec" / "openapi.yaml"
SCHEMA = schemathesis.openapi.from_path(str(SPEC))
OPERATIONS = {op.label: op for op in (result.ok() for result in SCHEMA.get_all_operations())}
#: Operations whose spec documents only 200: any error status is "undocumented" there by construction.
ONLY_200 = {
    "POST /oauth/token",
    "POST /api/v0/invoice/payment-confirmation",
    "POST /api/v0/invoice/change-status",
}


def test_the_spec_has_the_24_operations() -> None:
    assert len(OPERATIONS) == 24


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_responses_conform_to_the_spec(label: str, sandbox: RunningSandbox) -> None:
    operation = OPERATIONS[label]
    if label == "POST /oauth/token":
        headers = basic_header(sandbox)
    else:
        headers = {"Authorization": f"Bearer {get_token(sandbox)}"}
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance]
    if label not in ONLY_200:
        checks.append(status_code_conformance)

    @given(case=operation.as_strategy())
    @settings(
        max_examples=20,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        response = case.call(base_url=sandbox.base_url, headers=headers)
        case.validate_response(response, checks=checks)

    check()
