"""The cycle command's new options reach CycleOptions, and a bad one is refused in one line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli import main
from flows.options import CycleOptions


def _files(tmp_path: Path) -> list[str]:
    for name in ("customers.csv", "invoices.csv"):
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    return [
        "cycle",
        "--customers",
        str(tmp_path / "customers.csv"),
        "--invoices",
        str(tmp_path / "invoices.csv"),
    ]


def test_the_lifecycle_flags_become_cycle_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[CycleOptions] = []

    def run(customers: Path, invoices: Path, as_of: Any, options: CycleOptions) -> None:
        seen.append(options)
        raise main._fail("stopped by the test")

    monkeypatch.setattr(main, "_run_cycle", run)
    flags = [
        *("--max-invoice-amount", "5,00,000.00", "--max-cancel-share", "0.1", "--confirm-cancellations"),
        *("--rejection-threshold", "0.35"),
    ]

    result = CliRunner().invoke(main.app, [*_files(tmp_path), *flags, "--dry-run"])

    assert result.exit_code == 1
    [options] = seen
    assert options.max_invoice_amount == Decimal("500000.00")
    assert (options.max_cancel_share, options.confirm_cancellations, options.dry_run) == (0.1, True, True)
    assert options.rejection_threshold == 0.35 and CycleOptions().rejection_threshold == 0.2
    assert CycleOptions().max_cancel_share == 0.05 and CycleOptions().confirm_cancellations is False


def test_an_impossible_ceiling_is_refused_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main.app, [*_files(tmp_path), "--max-invoice-amount", "10 crore"])

    assert result.exit_code == 1
    assert "--max-invoice-amount '10 crore' is not an amount above 0 with at most 2 decimals" in result.output
    assert "Traceback" not in result.output
