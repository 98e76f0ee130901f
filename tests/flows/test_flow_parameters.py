"""Flow parameters as an operator meets them in the Prefect UI or API, against a real deployment:
a typo in an option is refused when the run is created, and a run that overrides some options keeps
the deployment's others. The run is executed the way a worker does (``prefect flow-run execute`` in a
process of its own, in the project folder)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.exceptions import PrefectHTTPStatusError

from flows.ar_summary import ar_summary
from tests.cli.cli_helpers import REPO, cli_env

AS_OF = date(2026, 11, 24)


def _deploy(options: dict[str, Any]) -> uuid.UUID:
    """The ar-summary deployment of prefect.yaml, with ``options`` as its parameters (schema enforced)."""
    deployment: RunnerDeployment = ar_summary.to_deployment(  # type: ignore[assignment]
        name=f"ar-summary-{uuid.uuid4().hex[:8]}",
        parameters={"options": options},
        enforce_parameter_schema=True,
        entrypoint_type=EntrypointType.FILE_PATH,
    )
    deployment.entrypoint = "flows/ar_summary.py:ar_summary"
    return deployment.apply()  # type: ignore[return-value]


def test_a_typo_in_an_option_is_refused_when_the_run_is_created(prefect_server: None, tmp_path: Path) -> None:
    deployment_id = _deploy({"out_dir": str(tmp_path / "out")})

    with get_client(sync_client=True) as client, pytest.raises(PrefectHTTPStatusError) as refused:
        client.create_flow_run_from_deployment(deployment_id, parameters={"options": {"chunk_sise": 500}})

    assert refused.value.response.status_code in (409, 422)
    assert "chunk_sise" in refused.value.response.text
    with get_client(sync_client=True) as client:
        created = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
        )
    assert created == [], "no run was created"


def test_a_partial_override_keeps_the_deployments_other_options(enkash_env: Any, tmp_path: Path) -> None:
    deployed_out = tmp_path / "deployed-out"
    deployment_id = _deploy(
        {"out_dir": str(deployed_out), "ledger_path": str(tmp_path / "ledger.sqlite3"), "chunk_size": 100}
    )
    with get_client(sync_client=True) as client:
        run = client.create_flow_run_from_deployment(
            deployment_id, parameters={"as_of": AS_OF.isoformat(), "options": {"dry_run": True}}
        )

    executed = subprocess.run(
        [sys.executable, "-m", "prefect", "flow-run", "execute", str(run.id)],
        cwd=REPO,
        env=cli_env(enkash_env, tmp_path / "storage"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert executed.returncode == 0, executed.stdout + executed.stderr
    # The run's override applied (a dry run) and the deployment's out_dir and ledger were kept.
    summary = json.loads((deployed_out / "summary.json").read_text())
    assert (summary["dry_run"], summary["as_of"]) == (True, AS_OF.isoformat())
    assert (tmp_path / "ledger.sqlite3").exists()
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
        finished = client.read_flow_run(run.id)
    assert finished.state is not None and finished.state.is_completed()
    kept = [log.message for log in logs if log.message.startswith("Options this run did not set")]
    assert kept == ["Options this run did not set are the deployment's: chunk_size, ledger_path, out_dir"]
