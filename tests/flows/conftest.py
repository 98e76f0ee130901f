"""Fixtures for flow tests: a small sample ERP export and the run date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sandbox.sample_data import generate_erp_files

AS_OF = date(2026, 11, 24)


@pytest.fixture
def erp_files(tmp_path: Path) -> tuple[Path, Path]:
    """A small, realistic ERP export with a few bad rows."""
    return generate_erp_files(tmp_path / "erp", customers=30, invoices=200, seed=11, as_of=AS_OF)


@pytest.fixture
def as_of() -> date:
    """The run date of every flow test (aging is counted from it)."""
    return AS_OF
