"""The cycle command refuses bad arguments in one line, before any Prefect run or request (in-process)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"--as-of": "2026-13-45"}, "error: --as-of '2026-13-45' is not a date; use YYYY-MM-DD."),
        ({"--customers": "nowhere/customers.csv"}, "error: nowhere/customers.csv: no such file."),
        (
            {"--customer-column": "Cust Code"},
            "error: --customer-column 'Cust Code' is not 'ERP header=canonical_name'",
        ),
        (
            {"--invoice-column": "=invoice_number"},
            "error: --invoice-column '=invoice_number' is not 'ERP header=canonical_name'",
        ),
    ],
    ids=["as-of", "missing-file", "mapping", "empty-header"],
)
def test_bad_arguments_are_refused_before_anything_runs(
    change: dict[str, str], expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    customers, invoices = tmp_path / "customers.csv", tmp_path / "invoices.csv"
    customers.write_text("customer_ref\n")
    invoices.write_text("invoice_number\n")
    # No ENKASH_* and no Prefect server: the arguments are checked first.
    for name in ("ENKASH_BASE_URL", "ENKASH_PASSWORD", "PREFECT_API_URL"):
        monkeypatch.delenv(name, raising=False)
    options = {"--customers": str(customers), "--invoices": str(invoices), **change}
    args = ["cycle", *(part for pair in options.items() for part in pair)]

    result = CliRunner().invoke(app, args, env={"COLUMNS": "80", "NO_COLOR": "1"})

    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and lines[0].startswith(expected), result.output


@pytest.mark.parametrize(
    "option", [("--chunk-size", "0"), ("--lock-timeout", "-1"), ("--rejection-threshold", "20")]
)
def test_out_of_range_numbers_are_refused(option: tuple[str, str], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["cycle", "--customers", "c.csv", "--invoices", "i.csv", *option])
    assert result.exit_code == 2
    assert option[0] in result.output
