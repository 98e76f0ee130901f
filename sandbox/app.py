"""The FastAPI application of the sandbox: the route table wired to handlers, auth and envelopes.

Handlers are plain functions of a ``Call``; one generic endpoint per route counts the request, checks
the token, reads the body or upload, runs the handler in the threadpool and has ``sandbox.answers`` wrap
the result in the route's envelope. FastAPI's own docs and openapi routes are off, and its 422 answer is
replaced: every malformed request is a 400 VALIDATION_ERROR in the envelope; unknown paths and methods
answer the envelope with 404 / 405.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from enkash_ar.contract import ErrorType
from sandbox.admin import router as admin_router
from sandbox.answers import Answer, Answers, EnvelopeKind, new_request_id
from sandbox.backend.bulk_files import Upload
from sandbox.backend.checks import MISSING
from sandbox.call import Call
from sandbox.config import SandboxConfig
from sandbox.errors import ApiError, SubError, validation_error
from sandbox.faults import FaultMiddleware
from sandbox.payment_admin import router as payment_admin_router
from sandbox.routes import OperationResolver, Route, routes_for
from sandbox.state import SandboxState

logger = logging.getLogger(__name__)


def _response(answer: Answer) -> JSONResponse:
    return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)


def error_response(
    answers: Answers,
    error: ApiError,
    request_id: str | None = None,
    envelope: EnvelopeKind = "api",
    *,
    infrastructure: bool = False,
) -> JSONResponse:
    """The JSON response of an ApiError, with the request id header (``Answers.error``)."""
    return _response(
        answers.error(error, request_id or new_request_id(), envelope, infrastructure=infrastructure)
    )


async def _read_body(request: Request, route: Route, call: Call) -> None:
    if route.body == "json":
        raw = await request.body()
        if raw.strip():
            try:
                call.body = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as exc:
                raise validation_error([SubError("body", None, f"malformed JSON: {exc}")]) from None
    elif route.body in ("multipart", "form"):
        try:
            form = await request.form()
        except Exception as exc:  # multipart parser errors have no common base class
            raise validation_error([SubError("body", None, f"malformed form data: {exc}")]) from None
        if route.body == "form":
            call.body = {k: v for k, v in form.items() if isinstance(v, str)}
        else:
            part = form.get("file")
            if isinstance(part, UploadFile):
                call.upload = Upload(part.filename or "upload", await part.read())


def _endpoint(route: Route) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        state: SandboxState = request.app.state.sandbox
        request_id = new_request_id()
        state.count_request(route.operation_id)
        authorization = request.headers.get("authorization")
        try:
            company = "" if route.auth == "basic" else state.tokens.company_of(authorization)
            call = Call(
                state=state,
                company_id=company,
                path=dict(request.path_params),
                query=dict(request.query_params),
                base_url=str(request.base_url),
                request_id=request_id,
                body=MISSING,
                authorization=authorization,
            )
            await _read_body(request, route, call)
            result: Any = await run_in_threadpool(route.handler, call)
        except ApiError as error:
            return error_response(state.answers, error, request_id, route.envelope)
        # Done, whether or not the answer reaches the caller (a killed client never reads it).
        state.count_answer(route.operation_id)
        return _response(state.answers.success(result, request_id, route.envelope))

    endpoint.__name__ = route.operation_id
    return endpoint


def create_app(config: SandboxConfig) -> FastAPI:
    """A new sandbox application with its own (empty or file-backed) state, playing ``config.profile``."""
    state = SandboxState(config)
    answers = state.answers
    routes = routes_for(config.profile)
    app = FastAPI(title="EnKash AR sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sandbox = state
    for route in routes:
        app.add_api_route(
            route.path,
            _endpoint(route),
            methods=[route.method],
            name=route.operation_id,
            include_in_schema=False,
        )
    app.include_router(admin_router)
    app.include_router(payment_admin_router)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(answers, exc)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        subs = [
            SubError(
                ".".join(str(p) for p in e.get("loc", ())[1:]) or "body", e.get("input"), e.get("msg", "")
            )
            for e in exc.errors()
        ]
        return error_response(answers, validation_error(subs))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        error_type = ErrorType.RECORD_NOT_FOUND if exc.status_code == 404 else ErrorType.CLIENT_REQUEST_ERROR
        message = (
            f"No such operation: {request.method} {request.url.path}"
            if exc.status_code in (404, 405)
            else str(exc.detail)
        )
        # The web framework answers an unknown path or method, whatever the application does with errors.
        return error_response(answers, ApiError(exc.status_code, error_type, message), infrastructure=True)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        logger.exception("sandbox bug while answering %s %s", request.method, request.url.path)
        return error_response(
            answers,
            ApiError(500, ErrorType.SYSTEM_ERROR, f"Sandbox error: {type(exc).__name__}"),
            infrastructure=True,
        )

    app.add_middleware(
        FaultMiddleware,
        injector=lambda: state.faults,
        resolve=OperationResolver(routes),
        expire_token=state.tokens.expire,
        answers=answers,
    )
    return app
