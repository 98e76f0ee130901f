"""The doctor flow (the Prefect UI's doctor) under a real Prefect server: an artifact, a file, a verdict."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prefect.artifacts import Artifact

from enkash_ar.alternative_profiles import named_profile
from enkash_ar.doctor import ContradictedAssumptionsError
from enkash_ar.profile_files import load_profile
from flows.doctor import doctor
from tests.contract.profile_helpers import ProfileSandboxes, profile_client, seed


def point_at(monkeypatch: pytest.MonkeyPatch, sandbox: object) -> None:
    for name, value in sandbox.enkash_env().items():  # type: ignore[attr-defined]
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ENKASH_CONTRACT_PROFILE", raising=False)


def test_the_flow_publishes_the_check_and_fails_when_the_cycle_would(
    profile_sandbox: ProfileSandboxes, prefect_server: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sandbox = profile_sandbox("shipped")
    with profile_client(sandbox) as writer:
        urls = seed(writer).result_files
    point_at(monkeypatch, sandbox)

    result = asyncio.run(doctor(result_files=urls, profile_out=str(tmp_path / "shipped.yaml")))

    assert result["exit_code"] == 0 and result["fits"] == "shipped"
    artifact = Artifact.get("enkash-contract-check")
    assert artifact is not None
    assert "| assumption | setting |" in str(artifact.data)
    assert "`search.offset` | row | confirmed" in str(artifact.data)

    spring = profile_sandbox("spring-page")
    with profile_client(spring, "spring-page") as writer:
        seed(writer)
    point_at(monkeypatch, spring)
    with pytest.raises(ContradictedAssumptionsError, match=r"search\.response"):
        asyncio.run(doctor(profile_out=str(tmp_path / "spring.yaml")))
    assert load_profile(tmp_path / "spring.yaml") == named_profile("spring-page")
