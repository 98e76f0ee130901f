"""Every way an ERP export arrives broken stops the night with a message naming the file and what to do.

The loader is called as the night calls it (``load_erp_inputs``, without Prefect); the same failures
through the real command are in test_bad_input_cycle.py.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ar_sync.erp_input import InputFileError
from sandbox.sample_data import generate_erp_files
from tasks.inputs import load_erp_inputs
from tests.bad_input.broken_exports import BROKEN, Broken

AS_OF = date(2026, 11, 24)


@pytest.fixture(scope="module")
def good_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return generate_erp_files(
        tmp_path_factory.mktemp("erp"), customers=30, invoices=200, seed=11, as_of=AS_OF
    )


@pytest.mark.parametrize("broken", BROKEN, ids=[b.name for b in BROKEN])
def test_a_broken_file_is_refused_with_what_to_do(
    broken: Broken, good_files: tuple[Path, Path], tmp_path: Path
) -> None:
    customers, invoices = good_files
    good = customers if broken.entity == "customers" else invoices
    bad = tmp_path / broken.name
    bad.write_bytes(broken.make(good.read_text(encoding="utf-8")))
    files = (bad, invoices) if broken.entity == "customers" else (customers, bad)

    with pytest.raises(InputFileError) as caught:
        load_erp_inputs.fn(str(files[0]), str(files[1]))

    message = str(caught.value)
    assert str(bad) in message and "\n" not in message
    for fragment in broken.fragments:
        assert fragment in message
