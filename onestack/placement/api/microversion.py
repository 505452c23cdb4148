"""Placement's microversions, 1.0 to 1.39, negotiated with `OpenStack-API-Version: placement
1.x` (or `latest`); no header means 1.0. Every answer says which version served it and that
it varies with the header; a version out of range is a 406, a malformed one a 400, both in
placement's error body, before any route runs."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from onestack.common.errors import OneStackError
from onestack.placement import errors

MIN_VERSION = (1, 0)
MAX_VERSION = (1, 39)
HEADER = "openstack-api-version"
SERVICE = "placement"
VERSION = re.compile(r"^([1-9]\d{0,3})\.(0|[1-9]\d{0,3})$")
# The request id of the request being served, for the error body (its renderer sees no request).
REQUEST_ID: ContextVar[str | None] = ContextVar("placement_request_id", default=None)


def text(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def requested(header: str | None) -> tuple[int, int]:
    """The version a request asks for; NotAcceptable or InvalidRequest when it cannot have it."""
    wanted = _for_placement(header)
    if wanted is None:
        return MIN_VERSION
    if wanted == "latest":
        return MAX_VERSION
    match = VERSION.match(wanted)
    if match is None:
        raise errors.InvalidRequest(f"invalid version string: {wanted}")
    version = (int(match.group(1)), int(match.group(2)))
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise errors.NotAcceptable(
            f"Unacceptable version header: {wanted}; placement supports "
            f"{text(MIN_VERSION)} to {text(MAX_VERSION)}."
        )
    return version


def _for_placement(header: str | None) -> str | None:
    """What the header asks of placement (it may name several services), or None."""
    for part in (header or "").split(","):
        words = part.split()
        if len(words) == 2 and words[0].lower() == SERVICE:
            return words[1].lower()
    return None


class Microversions:
    """Puts the negotiated version on the scope (`state["microversion"]`) and the
    version headers on every response."""

    def __init__(self, app: ASGIApp, render_error: Callable[[OneStackError], Any]) -> None:
        self.app = app
        self.render_error = render_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        REQUEST_ID.set(scope.get("state", {}).get("request_id"))
        header = _header(scope)
        try:
            version = requested(header)
        except OneStackError as exc:
            await self._refuse(exc, send)
            return
        scope.setdefault("state", {})["microversion"] = version
        stamp = [
            (HEADER.encode(), f"{SERVICE} {text(version)}".encode()),
            (b"vary", HEADER.encode()),
        ]

        async def send_stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *stamp]
            await send(message)

        await self.app(scope, receive, send_stamped)

    async def _refuse(self, error: OneStackError, send: Send) -> None:
        body = orjson.dumps(self.render_error(error))
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"vary", HEADER.encode()),
        ]
        await send({"type": "http.response.start", "status": error.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _header(scope: Scope) -> str | None:
    values = [v.decode("latin-1") for k, v in scope["headers"] if k == HEADER.encode()]
    return ",".join(values) if values else None
