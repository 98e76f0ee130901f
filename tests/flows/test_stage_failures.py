"""Which failures of a stage let the night's independent stages run on, and what the night keeps of them."""

from __future__ import annotations

import asyncio
from datetime import date

import polars as pl
import pytest

from ar_sync.night_picture import NightPicture
from ar_sync.night_summary import NightSummary, StageFailure
from enkash_ar.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ContractMismatchError,
    ForbiddenError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitError,
    ServerError,
    TransportError,
    UnauthorizedError,
    UnexpectedResponseError,
    UnprocessableError,
)
from flows.stage_failures import NightFailures, fails_alone
from tasks.night_picture import current_picture, keep, shared_picture

OP = "dispatchInvoiceCollection"


@pytest.mark.parametrize(
    "error",
    [
        OutcomeUnknownError("no answer after 3 attempts", operation=OP, status_code=500),
        ServerError(operation=OP, status_code=503),
        RateLimitError(operation=OP, status_code=429),
        BadRequestError(operation=OP, status_code=400),
        NotFoundError(operation=OP, status_code=404),
        UnprocessableError(operation=OP, status_code=422),
    ],
    ids=type,
)
def test_enkash_failing_one_stage_s_own_calls_lets_the_others_run(error: Exception) -> None:
    assert fails_alone(error)


@pytest.mark.parametrize(
    "error",
    [
        AuthenticationError("Bad credentials"),
        UnauthorizedError(operation=OP, status_code=401),
        ForbiddenError(operation=OP, status_code=403),
        TransportError("connection refused", operation=OP),
        UnexpectedResponseError("not JSON", operation=OP),
        ContractMismatchError("page shape", operation=OP, setting="paging"),
        ConfigurationError("plain http"),
        OSError(28, "No space left on device"),
        KeyError("a bug"),
    ],
    ids=type,
)
def test_what_says_nothing_about_one_stage_stops_the_night(error: Exception) -> None:
    assert not fails_alone(error)


def test_a_stage_failing_alone_is_kept_with_what_it_stops_and_the_night_goes_on() -> None:
    failures = NightFailures()
    ran: list[str] = []

    async def fails() -> None:
        ran.append("upload")
        raise ServerError(
            operation="invoiceBulkUpload", status_code=503, error_message="down for maintenance"
        )

    async def works() -> None:
        ran.append("payments")

    async def night() -> tuple[bool, bool]:
        first = await failures.attempt("upload-invoices", fails, then=["dispatch-invoices"])
        second = await failures.attempt("collect-payments", works)
        return first, second

    assert asyncio.run(night()) == (False, True)
    assert ran == ["upload", "payments"]
    assert failures.failures == [
        StageFailure(
            stage="upload-invoices",
            error="ServerError: invoiceBulkUpload failed (HTTP 503): down for maintenance",
            skipped=["dispatch-invoices"],
        )
    ]


def test_a_failure_that_is_not_the_stage_s_own_is_raised_as_it_is() -> None:
    failures = NightFailures()
    refused = UnauthorizedError(operation=OP, status_code=401)

    async def fails() -> None:
        raise refused

    with pytest.raises(UnauthorizedError) as raised:
        asyncio.run(failures.attempt("dispatch-invoices", fails))
    assert raised.value is refused and failures.failures == []


def test_after_a_failed_invoice_stage_the_night_reads_its_invoices_again_before_using_them() -> None:
    invoices = pl.DataFrame({"invoiceId": ["I1"], "dispatched": [False]})
    failures = NightFailures()

    async def fails() -> None:
        raise OutcomeUnknownError("5 rows have no known outcome", operation=OP)

    with shared_picture():
        keep(NightPicture(invoices=invoices))
        # A stage that writes no invoices leaves the picture's invoices as they were (asked for nothing,
        # current_picture reads nothing: it hands back the night's picture).
        asyncio.run(failures.attempt("collect-payments", fails))
        assert not current_picture(None, None).uploads_pending
        asyncio.run(failures.attempt("dispatch-invoices", fails))
        assert current_picture(None, None).uploads_pending
        assert current_picture(None, None).invoices is not None  # kept, to be read again: not dropped


def test_the_summary_names_a_failed_stage_first_under_needs_attention() -> None:
    summary = NightSummary(
        seller_id="CEKSANDBX1",
        as_of=date(2026, 11, 24),
        stages_failed=[
            StageFailure(
                stage="dispatch-invoices", error="OutcomeUnknownError: dispatchInvoiceCollection: no answer"
            )
        ],
    )

    [note] = summary.attention()
    assert note.startswith("dispatch-invoices failed: OutcomeUnknownError: dispatchInvoiceCollection")
    assert "Run the night again" in note and "nothing twice" in note
    assert NightSummary.model_validate_json(summary.to_json()) == summary
