"""Foreseeable failures of a command, told in one line: what failed (a file, a service) and what to do.

The flows raise the project's own errors with such a message already (a bad ERP file, refused
credentials, a busy seller ...). What they cannot phrase is what fails around them: the Prefect API
that does not answer, a temporary Prefect server too slow to start, a disk that fills up or a file
that turns read-only during the night. :func:`explain` turns those into one line; the console then
shows that line and no traceback (:func:`foreseeable`), while the run's logs in Prefect keep the
full traceback.
"""

from __future__ import annotations

import httpx

from ar_sync.local_files import explain_local_failure

_EPHEMERAL_TIMEOUT = "Timed out while attempting to connect to ephemeral Prefect API server"
_UNREACHABLE = "Failed to reach API at "


def _api_url() -> str:
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value() or "")


def _startup_timeout() -> float:
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

    return float(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())


def explain_prefect_failure(exc: BaseException) -> str | None:
    """One line for a Prefect API that cannot be reached or a temporary server that did not start."""
    from cli.local_prefect import NOT_STARTED

    text = str(exc)
    if isinstance(exc, RuntimeError) and text.startswith((_EPHEMERAL_TIMEOUT, NOT_STARTED)):
        return (
            f"The temporary Prefect server did not start within {_startup_timeout():.0f} s. On a slow "
            "machine raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS (e.g. to 180), or start a "
            "server once (prefect server start) and set PREFECT_API_URL to it."
        )
    api = _api_url()
    unreachable = isinstance(exc, RuntimeError) and text.startswith(_UNREACHABLE)
    if isinstance(exc, httpx.TransportError) and api:
        try:
            unreachable = str(exc.request.url).startswith(api.rstrip("/"))
        except RuntimeError:  # an error raised without its request
            unreachable = False
    if unreachable:
        where = api or text.removeprefix(_UNREACHABLE)
        return (
            f"The Prefect API at {where} does not answer. Start it (prefect server start) or point "
            "PREFECT_API_URL at a running server; without PREFECT_API_URL a temporary local server is used."
        )
    return None


def explain(exc: BaseException, *, out_dir: str = "out", ledger_path: str = "the run ledger") -> str | None:
    """One line for a foreseeable failure met around the flows, or None when it is not one."""
    return explain_local_failure(exc, out_dir=out_dir, ledger_path=ledger_path) or explain_prefect_failure(
        exc
    )


def foreseeable(exc: BaseException | None) -> bool:
    """Whether the console should show ``exc`` without its traceback (the user can act on it)."""
    from ar_sync.erp_input import InputFileError
    from ar_sync.local_files import LocalFileError
    from ar_sync.night_summary import NeedsAttentionError, StagesFailedError
    from ar_sync.run_ledger import NightRecordPrunedError
    from ar_sync.seller_lease import SellerBusyError
    from enkash_ar.errors import EnkashError

    if exc is None:
        return False
    expected = (
        InputFileError,
        EnkashError,
        SellerBusyError,
        NeedsAttentionError,
        StagesFailedError,
        LocalFileError,
        NightRecordPrunedError,
    )
    return isinstance(exc, expected) or explain(exc) is not None
