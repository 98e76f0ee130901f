"""Which failures of a stage stop the night, and which let the stages that do not depend on it run.

A night's stages are not one chain. The invoices' upload and dispatch depend on each other, but the
payments export to the ERP and the reminder schedules depend on neither, and the summary depends on
nothing but a read. When EnKash fails one stage's own calls (its dispatch endpoint answers 5xx, a batch's
outcome stays unknown, a call is refused as a whole), the night still exports the payments, sets the
reminders and publishes the summary, which names the failed stage; then the run ends Failed with
:class:`~ar_sync.night_summary.StagesFailedError`, so an operator sees it and reruns the night. The
rerun sends only what is still missing: the ledger and the read before any resend are what make that so,
exactly as for a night that stopped at the failure.

What says nothing about one stage stops the night at once, as before: refused credentials or access
(every later call would be refused too), EnKash not reachable at all, an answer the contract profile
does not describe (a guess about EnKash that turned out wrong must stop the night, loudly), the
seller's lease, a cancelled run, a local disk, a bug.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from prefect.logging import get_logger

from ar_sync.night_summary import StageFailure
from enkash_ar.errors import (
    APIError,
    ForbiddenError,
    OutcomeUnknownError,
    UnauthorizedError,
)
from tasks.night_picture import doubt_invoices

#: The stages that write invoices: after one of them failed, the night's picture of the invoices is read
#: again before anything plans or summarises from it.
INVOICE_STAGES = frozenset({"upload-invoices", "dispatch-invoices"})

#: The project's loggers reach the run they are written in (tasks.run_logging), and the console outside one.
logger = get_logger("enkash_ar.stage_failures")


def fails_alone(exc: BaseException) -> bool:
    """Whether ``exc`` is EnKash failing one stage's own calls, which later independent stages need not
    share: an outcome left unknown after its look-ups, a 5xx or 429 that outlasted the retries, a call
    refused as a whole (400, 404, 422: a read, since a write refused as a whole is recorded against
    its rows instead). Refused credentials or access (401, 403), EnKash unreachable, an answer the
    contract does not describe, and anything not from EnKash are not.
    """
    if isinstance(exc, UnauthorizedError | ForbiddenError):
        return False
    return isinstance(exc, OutcomeUnknownError | APIError)


class NightFailures:
    """The stages of one night that failed alone, in order (:func:`fails_alone`)."""

    def __init__(self) -> None:
        self.failures: list[StageFailure] = []

    async def attempt(
        self, stage: str, run: Callable[[], Awaitable[Any]], *, then: Sequence[str] = ()
    ) -> bool:
        """Run one stage (``run()``, e.g. a subflow call); True when it completed.

        When it fails alone, the failure is logged and kept, ``then`` (the later stages that depend on
        it) is named as not run, and False is returned; any other failure is raised as it is.
        """
        try:
            await run()
        except Exception as exc:
            if not fails_alone(exc):
                raise
            error = f"{type(exc).__name__}: {exc}"
            self.failures.append(StageFailure(stage=stage, error=error, skipped=list(then)))
            if stage in INVOICE_STAGES:
                doubt_invoices()
            after = f"; {', '.join(then)} will not run" if then else ""
            logger.error(
                "%s failed (%s)%s. The stages that do not depend on it run on, then the night ends "
                "Failed; run it again to send what is still missing.",
                stage,
                error,
                after,
            )
            return False
        return True
