"""Helpers of the backend tests: a company, record factories, bulk uploads built in memory, errors."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import polars as pl
import pytest
from sandbox_helpers import customer_body

from enkash_ar.bulk_template import INVOICE_CREATE
from sandbox.backend import ArBackend
from sandbox.backend.bulk_files import Upload
from sandbox.config import DEFAULT_SELLER_ID
from sandbox.errors import ApiError

#: The company of every backend test (what a token of the default sandbox user acts for).
SELLER = DEFAULT_SELLER_ID
OTHER_COMPANY = "CEKOTHER99"


def add_customer(backend: ArBackend, **overrides: Any) -> dict[str, Any]:
    """Create a customer of ``SELLER`` (an override of None leaves the member out); the Customer."""
    body = {k: v for k, v in customer_body(**overrides).items() if v is not None}
    return backend.customers.create(SELLER, body)


def add_invoice(backend: ArBackend, customer_id: str, **overrides: Any) -> dict[str, Any]:
    """Create an invoice of ``SELLER``; the invoice record."""
    body: dict[str, Any] = {"customerId": customer_id, "dueDate": "2025-08-01", "baseAmount": 100.0}
    body.update(overrides)
    return backend.invoices.create(SELLER, body, "http://sandbox.test/")


def csv_upload(rows: list[dict[str, str]], columns: tuple[str, ...], name: str = "upload.csv") -> Upload:
    """An upload of ``rows`` as CSV with the header ``columns`` (missing cells empty)."""
    buffer = io.BytesIO()
    pl.DataFrame(
        [{c: r.get(c, "") for c in columns} for r in rows], schema=dict.fromkeys(columns, pl.String)
    ).write_csv(buffer)
    return Upload(name, buffer.getvalue())


def invoice_upload(rows: list[dict[str, str]]) -> Upload:
    """An invoice bulk file (``INVOICE_CREATE`` columns) of ``rows``."""
    return csv_upload(rows, INVOICE_CREATE.columns, "invoices.csv")


def refused(call: Callable[[], object]) -> ApiError:
    """The ApiError ``call`` raises (fails the test when it raises none)."""
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


def sub_error_fields(error: ApiError) -> list[str]:
    """The ``field`` of every sub-error of ``error``, in order."""
    return [s.field for s in error.sub_errors]
