"""The ERP validation is a Prefect cache hit the second time (a retried night in a new process), and
Prefect's result storage holds only the folder of the project's own files: no customer's data."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect import flow
from prefect.settings import get_current_settings
from prefect.states import State

from sandbox.sample_data import generate_erp_files
from tasks import inputs as inputs_module
from tasks.inputs import load_erp_inputs, validate_erp_export
from tests.flows.conftest import AS_OF


@flow
def _validate_twice(customers: str, invoices: str, cache_dir: str) -> list[State]:
    first = validate_erp_export(customers, invoices, cache_dir=cache_dir, return_state=True)
    second = validate_erp_export(customers, invoices, cache_dir=cache_dir, return_state=True)
    return [first, second]


@flow
def _load(customers: str, invoices: str, cache_dir: str) -> int:
    loaded = load_erp_inputs(customers, invoices, cache_dir=cache_dir)
    assert loaded.invoices is not None
    return loaded.invoices.valid.height


def test_a_second_validation_is_a_cache_hit_whose_result_holds_no_customer_data(
    prefect_server: None, tmp_path: Path
) -> None:
    customers, invoices = generate_erp_files(tmp_path / "erp", customers=12, invoices=40, seed=5, as_of=AS_OF)
    cache_dir = str(tmp_path / "cache")

    first, second = _validate_twice(str(customers), str(invoices), cache_dir)

    assert first.is_completed() and first.name == "Completed"
    assert second.name == "Cached"
    folder = Path(second.result())
    assert folder.parent == (tmp_path / "cache" / "inputs").resolve()
    # What Prefect keeps for the cache is the folder's path, nothing of the export itself.
    storage = Path(get_current_settings().results.local_storage_path)
    legal_name = customers.read_text(encoding="utf-8").splitlines()[1].split(",")[1]
    kept = [p for p in storage.rglob("*") if p.is_file() and str(folder).encode() in p.read_bytes()]
    assert kept, "the cached result was not persisted"
    for path in kept:
        assert legal_name.encode() not in path.read_bytes()


def test_a_new_process_reads_the_validated_files_back_and_a_cleared_folder_is_validated_again(
    prefect_server: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    customers, invoices = generate_erp_files(tmp_path / "erp", customers=12, invoices=40, seed=6, as_of=AS_OF)
    cache_dir = tmp_path / "cache"
    rows = _load(str(customers), str(invoices), str(cache_dir))

    # A new process (a UI retry on a worker): nothing in memory, the cache and the files remain.
    monkeypatch.setattr(inputs_module, "_memo", {})
    assert _load(str(customers), str(invoices), str(cache_dir)) == rows

    # The files were cleared by hand while Prefect still remembers them: validated again, not an error.
    monkeypatch.setattr(inputs_module, "_memo", {})
    for entry in (cache_dir / "inputs").iterdir():
        for file in entry.iterdir():
            file.unlink()
    assert _load(str(customers), str(invoices), str(cache_dir)) == rows
    assert any((entry / "complete.json").exists() for entry in (cache_dir / "inputs").iterdir())
