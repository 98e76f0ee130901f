"""Fixtures of the exactly-once tests: a 400-invoice ERP export and the exactly-once check of EnKash.

The check reads the sandbox's own records (``/_sandbox/state``), i.e. what a finance-ops user would
see on the EnKash portal: one customer per valid ``customer_ref``, one invoice per valid
``invoice_number``, each dispatched exactly once, and every customer with the default reminder schedule
exactly once. Nothing else is counted (how many calls it took does not matter to the user).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from sandbox.server import RunningSandbox
from tests.enkash_checks import ErpExport, erp_export, exactly_once_problems
from tests.exactly_once.eo_night import AS_OF, CUSTOMERS, INVOICES
from tests.loopback import http


@pytest.fixture(scope="session")
def erp_night(tmp_path_factory: pytest.TempPathFactory) -> ErpExport:
    """20 customers and 400 invoices (with the generator's few bad rows), written once per session."""
    return erp_export(
        tmp_path_factory.mktemp("erp-night"), customers=CUSTOMERS, invoices=INVOICES, seed=5, as_of=AS_OF
    )


def _set_faults(sandbox: RunningSandbox, **faults: Any) -> None:
    http.post(f"{sandbox.base_url}/_sandbox/faults", json=faults, timeout=10).raise_for_status()


@pytest.fixture
def as_of() -> date:
    """The run date of every exactly-once night."""
    return AS_OF


@pytest.fixture
def set_faults(sandbox: RunningSandbox) -> Callable[..., None]:
    """Change the (reset) sandbox's fault settings at runtime: ``set_faults(drop=0.2, seed=1)``."""
    return lambda **faults: _set_faults(sandbox, **faults)


@pytest.fixture
def check_exactly_once(
    sandbox: RunningSandbox, sandbox_state: Callable[..., dict[str, Any]]
) -> Callable[[ErpExport], None]:
    """Turn the faults off, read EnKash's records and fail with what is wrong, if anything."""

    def check(export: ErpExport) -> None:
        # No faults and no latency while reading, so the end state itself cannot be disturbed.
        _set_faults(sandbox, error_500=0.0, error_429=0.0, drop=0.0, expire_token=0.0, latency_ms=0)
        problems = exactly_once_problems(sandbox_state(), export)
        assert not problems, "EnKash does not hold the ERP export exactly once:\n" + "\n".join(problems)

    return check
