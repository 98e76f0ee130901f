"""Fault injection: 500s, 429s, dropped responses, latency and token expiry, deterministic under a seed.

Faults apply to ``/api/v0/...`` and ``/oauth/token`` only, never to ``/_sandbox``. Each such request
takes exactly one draw from ``random.Random(seed)`` in arrival order, and the bands
``[error_500 | error_429 | drop | expire_token | none]`` of [0, 1) decide its fate:

- ``error_500``: answered 500 SYSTEM_ERROR, not processed;
- ``error_429``: answered 429 CLIENT_REQUEST_ERROR with ``Retry-After``, not processed;
- ``drop``: processed (the data changes), then the response is thrown away: the sandbox sends a
  response head announcing a body it never finishes and closes the connection, so the client sees a
  transport error (httpx ``RemoteProtocolError``) and cannot know the outcome;
- ``expire_token``: the bearer token of the request is expired first, so it is answered 401.

``latency_ms`` is added to every faultable request. Settings can be changed at runtime through
``POST /_sandbox/faults``; ``{"expire_tokens": true}`` there expires every token at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any, Literal

from enkash_ar.contract import ErrorType
from sandbox.answers import Answers, new_request_id
from sandbox.config import FaultConfig
from sandbox.errors import ApiError

FaultKind = Literal["error_500", "error_429", "drop", "expire_token"]
_KINDS: tuple[FaultKind, ...] = ("error_500", "error_429", "drop", "expire_token")
_DROP_LOG_MESSAGE = "ASGI callable returned without completing response."

ASGIApp = Callable[..., Any]


class FaultInjector:
    """The current fault settings, the seeded random source and what was injected so far."""

    def __init__(self, config: FaultConfig) -> None:
        self._lock = threading.Lock()
        self.config = config
        self._rng = random.Random(config.seed)
        self.counts: Counter[str] = Counter()

    def configure(self, config: FaultConfig, *, clear_counts: bool = False) -> None:
        """Replace the settings and reseed the random source (counts kept unless ``clear_counts``)."""
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)
            if clear_counts:
                self.counts.clear()

    def decide(self, operation_id: str) -> FaultKind | None:
        """The fault for the next request (one draw, in arrival order)."""
        with self._lock:
            cfg = self.config
            if not (cfg.error_500 or cfg.error_429 or cfg.drop or cfg.expire_token):
                return None
            if cfg.operations and operation_id not in cfg.operations:
                return None
            draw = self._rng.random()
            edge = 0.0
            for kind in _KINDS:
                edge += getattr(cfg, kind)
                if draw < edge:
                    self.counts[f"{kind}:{operation_id}"] += 1
                    return kind
            return None

    def fault_counts(self) -> dict[str, dict[str, int]]:
        """Injected faults as ``{kind: {operationId: count}}``."""
        with self._lock:
            result: dict[str, dict[str, int]] = {}
            for key, count in self.counts.items():
                kind, _, op = key.partition(":")
                result.setdefault(kind, {})[op] = count
            return result


class _QuietDrops(logging.Filter):
    """Keep uvicorn's error log free of the incomplete responses the sandbox cuts on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _DROP_LOG_MESSAGE


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


class FaultMiddleware:
    """Raw ASGI middleware that applies ``FaultInjector`` decisions around the app."""

    def __init__(
        self,
        app: ASGIApp,
        injector: Callable[[], FaultInjector],
        resolve: Callable[[str, str], str | None],
        expire_token: Callable[[str], int],
        answers: Answers,
    ) -> None:
        self.app = app
        self.injector = injector
        self.resolve = resolve
        self.expire_token = expire_token
        self.answers = answers

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Run the app, possibly delayed, replaced by an error, or with its answer dropped."""
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path.startswith("/api/") or path == "/oauth/token"):
            await self.app(scope, receive, send)
            return
        injector = self.injector()
        if injector.config.latency_ms:
            await asyncio.sleep(injector.config.latency_ms / 1000)
        op = self.resolve(scope["method"], path) or "unknown"
        kind = injector.decide(op)
        if kind == "error_500":
            await self._answer(
                send, ApiError(500, ErrorType.SYSTEM_ERROR, "Injected server error (sandbox fault)")
            )
        elif kind == "error_429":
            retry = str(injector.config.retry_after)
            await self._answer(
                send,
                ApiError(
                    429,
                    ErrorType.CLIENT_REQUEST_ERROR,
                    "Too many requests (sandbox fault)",
                    [],
                    {"Retry-After": retry},
                ),
            )
        elif kind == "drop":
            await self.app(scope, receive, _discard)
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"payload":', "more_body": True})
            # Returning now, with the body unfinished, makes uvicorn close the connection.
        else:
            if kind == "expire_token":
                headers = dict(scope.get("headers", []))
                auth = headers.get(b"authorization")
                if auth:
                    self.expire_token(auth.decode("latin-1"))
            await self.app(scope, receive, send)

    async def _answer(self, send: Any, error: ApiError) -> None:
        """Send the answer of an injected error in place of the app's."""
        # A gateway answers these, with their real status, whatever the application does with errors.
        answer = self.answers.error(error, new_request_id(), infrastructure=True)
        body = json.dumps(answer.body).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *((k.lower().encode(), v.encode()) for k, v in answer.headers.items()),
        ]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _discard(message: dict[str, Any]) -> None:
    """An ASGI ``send`` that throws the app's response away."""
