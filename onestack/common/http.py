"""The HTTP layer every service is built on: one ASGI app, one port, services mounted by path.

Each service hands `service_app` its routes and a function that turns a `OneStackError` into
that API's own error body; every error (domain, routing, malformed body, or a bug) is rendered
by that one function. `RequestIdMiddleware` stamps every response with x-openstack-request-id
and writes one structured log line per request.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from onestack.common.errors import OneStackError, error_for_status
from onestack.common.metrics import Metrics

log = logging.getLogger("onestack.http")

ErrorRenderer = Callable[[OneStackError], dict[str, Any]]


class JSONResponse(Response):
    """A JSON response serialised with orjson (the token path is hot)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def service_app(routes: Sequence[BaseRoute], render_error: ErrorRenderer) -> Starlette:
    """A service's ASGI app whose every error is rendered by `render_error`."""

    def respond(request: Request, error: OneStackError) -> Response:
        headers = getattr(error, "headers", None)
        return JSONResponse(render_error(error), status_code=error.status, headers=headers)

    async def on_domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, OneStackError)
        return respond(request, exc)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return respond(request, error_for_status(exc.status_code))

    async def on_bug(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return respond(request, OneStackError())

    return Starlette(
        routes=list(routes),
        exception_handlers={
            OneStackError: on_domain_error,
            HTTPException: on_http_error,
            Exception: on_bug,
        },
    )


def root_app(mounts: dict[str, ASGIApp], metrics: Metrics | None = None) -> ASGIApp:
    """The one-port app: each service under its DevStack path, wrapped for request ids."""
    return RequestIdMiddleware(PathDispatcher(mounts), metrics)


class PathDispatcher:
    """Sends a request to the service mounted at its first path segment.

    `/identity` and `/identity/...` both reach the identity app (no redirect for the bare
    prefix, which clients use as their auth URL); the app sees the prefix as its root_path.
    """

    def __init__(self, mounts: dict[str, ASGIApp]) -> None:
        self.mounts = {prefix.rstrip("/"): app for prefix, app in mounts.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return
        path: str = scope["path"]
        prefix = "/" + path.split("/", 2)[1]
        app = self.mounts.get(prefix)
        if app is None:
            await _not_found(scope, receive, send)
            return
        child = {
            **scope,
            "root_path": scope.get("root_path", "") + prefix,
            "path": path if path != prefix else prefix + "/",
        }
        try:
            await app(child, receive, send)
        finally:
            # What answered, for the request log's metrics: the service and the route template.
            scope["service"] = prefix[1:]
            route = child.get("route")
            scope["route_path"] = getattr(route, "path", None)


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    body = orjson.dumps(
        {
            "error": {
                "code": 404,
                "title": "Not Found",
                "message": f"No service is mounted at {scope['path']}.",
            }
        }
    )
    response = Response(body, status_code=404, media_type="application/json")
    await response(scope, receive, send)


class RequestIdMiddleware:
    """Adds x-openstack-request-id to every response, logs one line and counts each request."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.pid = os.getpid()  # built in the worker that serves, so each logs its own

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"req-{uuid.uuid4()}"
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-openstack-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            if self.metrics is not None:
                # Unmatched paths share one label, so a scanner cannot grow the series.
                route = scope.get("route_path") or "unmatched"
                service = scope.get("service") or "none"
                self.metrics.observe(service, route, scope["method"], status, seconds)
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round(seconds * 1000, 2),
                        "pid": self.pid,
                    },
                )
