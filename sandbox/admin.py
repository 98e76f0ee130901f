"""The sandbox's own admin API under ``/_sandbox`` (no bearer token, never faulted).

- ``GET /_sandbox/health``: liveness;
- ``GET /_sandbox/state[?summary=true][&company=CEK...]``: customers, invoices, reminders (omitted with
  ``summary``; only that seller's with ``company``), their counts, ``request_counts`` per operationId
  (requests that reached a handler, every seller's; a request whose client died before its body
  arrived is counted but never done), ``answered_counts`` (requests whose handler succeeded: what
  EnKash did) and ``fault_counts`` (``{kind: {operationId: n}}``);
- ``GET /_sandbox/sellers``: the sellers served (company id, client id, username; never a secret);
- ``POST /_sandbox/sellers``: serve one more seller (``{"seller_id": ..., "client_id": ...,
  "client_secret": ..., "username": ..., "password": ...}``; credentials left out are derived from the
  id, ``SellerAccount.derived``); answers the account. ``/_sandbox/reset`` forgets these;
- ``POST /_sandbox/reset``: wipe data, tokens, lock-outs, counters and runtime faults, put the clock
  back; keep the config;
- ``POST /_sandbox/unlock``: lift every login lock-out;
- ``GET|POST /_sandbox/faults``: read or change the fault settings (``FaultConfig`` member names);
  ``{"expire_tokens": true}`` expires every token now;
- ``GET|POST /_sandbox/clock``: read or move the clock the sandbox stamps its records with
  (``{"offset_seconds": -86400}``: a day behind the machine; ``SandboxClock``);
- ``GET /_sandbox/files/{name}``: a bulk result file (CSV, or XLSX when the profile says so).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from enkash_ar.contract import ErrorType
from sandbox.backend.store import CLOCK, utc_now_iso
from sandbox.config import SellerAccount
from sandbox.errors import ApiError, SubError, validation_error
from sandbox.state import SandboxState

router = APIRouter(prefix="/_sandbox", include_in_schema=False)
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness probe."""
    return {"status": "ok"}


@router.get("/state")
def get_state(request: Request, summary: bool = False, company: str | None = None) -> dict[str, Any]:
    """Everything the sandbox holds (or one seller's records), for tests and the demo."""
    state = _state(request)
    return {
        "request_counts": state.counts(),
        "answered_counts": state.answered(),
        "fault_counts": state.faults.fault_counts(),
        **state.backend.snapshot(summary=summary, company=company),
    }


@router.get("/sellers")
def get_sellers(request: Request) -> list[dict[str, str]]:
    """The sellers this sandbox serves."""
    return _state(request).tokens.sellers()


@router.post("/sellers")
async def add_seller(request: Request) -> dict[str, Any]:
    """Serve one more seller with its own credentials and company id (409 if they clash)."""
    body = await _json_object(request)
    try:
        account = SellerAccount.from_mapping(body)
    except ValueError as exc:
        raise ApiError(400, ErrorType.VALIDATION_ERROR, str(exc)) from None
    created = _state(request).tokens.register(account)
    return {**dataclasses.asdict(account), "created": created}


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise validation_error([SubError("body", None, "must be a JSON object")]) from None
    if not isinstance(body, dict):
        raise validation_error([SubError("body", body, "must be a JSON object")])
    return body


@router.post("/reset")
def reset(request: Request) -> dict[str, str]:
    """Back to an empty sandbox with the start-up faults."""
    _state(request).reset()
    return {"status": "reset"}


def _clock() -> dict[str, Any]:
    return {"offset_seconds": CLOCK.offset.total_seconds(), "now": utc_now_iso()}


@router.get("/clock")
def get_clock() -> dict[str, Any]:
    """How far the sandbox's clock is from the machine's, and its time now."""
    return _clock()


@router.post("/clock")
async def set_clock(request: Request) -> dict[str, Any]:
    """Move the sandbox's clock to ``offset_seconds`` from the machine's (negative: behind it)."""
    body = await _json_object(request)
    offset = body.get("offset_seconds")
    if isinstance(offset, bool) or not isinstance(offset, int | float) or set(body) != {"offset_seconds"}:
        raise validation_error([SubError("offset_seconds", offset, "must be the only member, a number")])
    CLOCK.offset = timedelta(seconds=offset)
    return _clock()


@router.post("/unlock")
def unlock(request: Request) -> dict[str, str]:
    """Lift every login lock-out."""
    _state(request).tokens.unlock()
    return {"status": "unlocked"}


@router.post("/password")
async def change_password(request: Request) -> dict[str, str]:
    """Change an API user's password, as a user would on the portal (``{"password": "..."}``, and
    ``"seller_id"`` for a seller other than the configured one)."""
    body = await _json_object(request)
    password = body.get("password")
    if not isinstance(password, str) or not password:
        raise validation_error([SubError("password", None, "is required")])
    seller_id = body.get("seller_id")
    _state(request).tokens.change_password(password, seller_id if isinstance(seller_id, str) else None)
    return {"status": "password changed"}


@router.get("/faults")
def get_faults(request: Request) -> dict[str, Any]:
    """The current fault settings."""
    return dataclasses.asdict(_state(request).faults.config)


@router.post("/faults")
async def set_faults(request: Request) -> dict[str, Any]:
    """Change fault settings (and reseed); ``expire_tokens: true`` expires every token."""
    state = _state(request)
    body = await _json_object(request)
    expired = state.tokens.expire() if body.pop("expire_tokens", False) else 0
    if body:
        try:
            state.faults.configure(state.faults.config.updated(body))
        except (ValueError, TypeError) as exc:
            raise ApiError(400, ErrorType.VALIDATION_ERROR, str(exc)) from None
    return {**dataclasses.asdict(state.faults.config), "expired_tokens": expired}


@router.get("/files/{name}")
def get_file(request: Request, name: str) -> Response:
    """A bulk result file."""
    content = _state(request).backend.result_file(name)
    media_type = XLSX_MEDIA_TYPE if name.endswith(".xlsx") else "text/csv"
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
