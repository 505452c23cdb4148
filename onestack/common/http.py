"""The HTTP layer every service is built on: one ASGI app, one port, services mounted by path.

Each service hands `service_app` its routes, a function that turns a `OneStackError` into
that API's own error body, and its `TokenReader`; every error (domain, routing, malformed body,
or a bug) is rendered by that one function, every path and query string passes
`common.text`'s rule first (in `ServiceApp`, before Starlette's own layers), and every
route not marked `@public` is authenticated by that one reader (`common/auth.py`) before its
endpoint runs.
`RequestIdMiddleware` stamps every response with x-openstack-request-id and writes one
structured log line per request.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from onestack.common.auth import TokenReader
from onestack.common.errors import BadRequest, OneStackError, error_for_status
from onestack.common.metrics import Metrics
from onestack.common.text import ForbiddenText, url_problem

log = logging.getLogger("onestack.http")

# An API's error body as JSON, or (Swift's plain HTML bodies) a whole response of its own.
ErrorRenderer = Callable[[OneStackError], "dict[str, Any] | Response"]


def error_response(render_error: ErrorRenderer, error: OneStackError) -> Response:
    """The response `render_error` makes of `error`, with the error's status and headers."""
    body = render_error(error)
    if isinstance(body, Response):
        return body
    return JSONResponse(body, status_code=error.status, headers=getattr(error, "headers", None))


class JSONResponse(Response):
    """A JSON response serialised with orjson (the token path is hot)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class RawResponse(Response):
    """A response kept serialised by a hot path: its body, and all its headers as raw
    (lower-case name, value) byte pairs (see `json_headers`); nothing is rendered or parsed."""

    def __init__(
        self, body: bytes, raw_headers: list[tuple[bytes, bytes]], status_code: int = 200
    ) -> None:
        self.status_code = status_code
        self.background = None
        self.body = body
        self.raw_headers = raw_headers


def json_headers(
    body: bytes, extra: Sequence[tuple[bytes, bytes]] = ()
) -> list[tuple[bytes, bytes]]:
    """The raw headers of a JSON body: its length and type, then `extra`."""
    return [
        (b"content-length", str(len(body)).encode()),
        (b"content-type", b"application/json"),
        *extra,
    ]


class ServiceApp(Starlette):
    """Starlette, with the token reader's fast path tried before its middleware and routing,
    and the text rule's URL half applied to everything else (no middleware layer of its own:
    every layer costs each request an extra call)."""

    def __init__(self, reader: TokenReader, render_error: ErrorRenderer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reader = reader
        self.render_error = render_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        if self.reader.fast_path is not None:
            answer = self.reader.early_answer(scope)
            if answer is not None:
                # Sent here, not in a helper: this is the hottest path of the cloud.
                scope["route"] = answer.route  # what the request log and metrics name
                headers = [*answer.headers]  # a new list: the sender may extend it
                start = {"type": "http.response.start", "status": answer.status, "headers": headers}
                await send(start)
                await send({"type": "http.response.body", "body": answer.body})
                return
        problem = url_problem(scope["path"], scope.get("query_string", b""))
        if problem is not None:
            await self._refuse(ForbiddenText(problem), scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def _refuse(
        self, error: OneStackError, scope: Scope, receive: Receive, send: Send
    ) -> None:
        await error_response(self.render_error, error)(scope, receive, send)


def service_app(
    routes: Sequence[BaseRoute],
    render_error: ErrorRenderer,
    reader: TokenReader,
    redirect_slashes: bool = True,
) -> ServiceApp:
    """A service's ASGI app whose every error is rendered by `render_error` and whose every
    route not marked `@public` is authenticated by `reader` first. With `redirect_slashes`
    off, a path that matches only with or without its trailing slash is a 404 (Glance's
    routing), not a redirect."""

    def respond(request: Request, error: OneStackError) -> Response:
        return error_response(render_error, error)

    async def on_domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, OneStackError)
        return respond(request, exc)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return respond(request, error_for_status(exc.status_code))

    async def on_client_gone(request: Request, exc: Exception) -> Response:
        # The client closed, or the server timed its body out: nobody reads this answer, but
        # the request's log line shows a 4xx, not a bug.
        return respond(request, BadRequest("The client went away before its request was whole."))

    async def on_bug(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return respond(request, OneStackError())

    app = ServiceApp(
        reader,
        render_error,
        exception_handlers={
            OneStackError: on_domain_error,
            HTTPException: on_http_error,
            ClientDisconnect: on_client_gone,
            Exception: on_bug,
        },
    )
    guarded = [_guarded(route, reader) for route in routes]
    app.router = IndexedRouter(guarded, redirect_slashes=redirect_slashes)
    return app


def _guarded(route: BaseRoute, reader: TokenReader) -> Route:
    """`route` with its endpoint behind `reader` (a copy, so a route list can be shared)."""
    if not isinstance(route, Route):
        # Anything else (a mount) would reach endpoints the reader never saw.
        raise TypeError(f"a service declares plain routes, not {route!r}")
    endpoint = reader.guard(route.endpoint)
    return Route(route.path, endpoint, methods=route.methods, name=route.name)


class IndexedRouter(Router):
    """Starlette's router that remembers which route answers a method and path.

    Starlette tries every route's regex in turn (identity has over a hundred) on every
    request. A plain `Route` matches on nothing but the path and method, so the first route
    that matches fully (else the first that matches the path only: its 405) is the same for
    every request with that method and path; this router works it out once and then runs that
    one route's match (for its path parameters). With a route of another kind (a mount) or no
    match, it does what Starlette does (redirects, 404).
    """

    MEMO_SIZE = 4096  # ids make paths unbounded: a full memo starts over

    def __init__(self, routes: Sequence[BaseRoute], redirect_slashes: bool = True) -> None:
        super().__init__(routes=list(routes), redirect_slashes=redirect_slashes)
        self._plain = all(isinstance(route, Route) for route in self.routes)
        self._memo: dict[tuple[str, str], BaseRoute | None] = {}

    def _route_for(self, scope: Scope) -> BaseRoute | None:
        partial = None
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return route
            if match is Match.PARTIAL and partial is None:
                partial = route
        return partial

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._plain:
            await super().app(scope, receive, send)
            return
        key = (scope["method"], _route_path(scope))
        try:
            route = self._memo[key]
        except KeyError:
            if len(self._memo) >= self.MEMO_SIZE:
                self._memo.clear()
            route = self._memo[key] = self._route_for(scope)
        if route is None:
            await super().app(scope, receive, send)
            return
        scope.setdefault("router", self)
        _, child_scope = route.matches(scope)
        scope["route"] = route
        scope.update(child_scope)
        await route.handle(scope, receive, send)  # a path-only match answers 405 here


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


def _route_path(scope: Scope) -> str:
    """The path below the app's mount point, as Starlette's routes match it."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path) and path[len(root_path) :][:1] in ("", "/"):
        return path[len(root_path) :]
    return path


def new_request_id() -> str:
    """`req-` and a random (version 4) UUID, as OpenStack's request ids are; cheaper than
    `uuid.uuid4()` and its string, which every request paid for."""
    h = os.urandom(16).hex()
    variant = "89ab"[int(h[16], 16) & 3]
    return f"req-{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"


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
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # A new list (the sender may keep its own), in the message it handed over.
                header = (b"x-openstack-request-id", request_id.encode())
                message["headers"] = [*message.get("headers", ()), header]
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
