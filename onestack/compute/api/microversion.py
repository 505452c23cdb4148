"""Microversions: `OpenStack-API-Version: compute 2.x` or `X-OpenStack-Nova-API-Version: 2.x`
chooses the behaviour (2.1 when absent, `latest` = 2.96); the answer echoes the version in
both headers with `Vary`. Out of range is a 406, a malformed value a 400, in Nova's body.
Routes read the chosen version with `version(request)`."""

from __future__ import annotations

import re

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MIN = (2, 1)
MAX = (2, 96)
MIN_TEXT, MAX_TEXT = "2.1", "2.96"
_FORMAT = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")
_VARY = b"OpenStack-API-Version, X-OpenStack-Nova-API-Version"


def version(request: Request) -> tuple[int, int]:
    return request.scope.get("compute_version", MIN)


def at_least(request: Request, major: int, minor: int) -> bool:
    return version(request) >= (major, minor)


def requested(headers: dict[bytes, bytes]) -> str | None:
    """The version the headers ask for (the newer header wins), or None."""
    value = headers.get(b"openstack-api-version")
    if value is not None:
        for part in value.decode("latin-1").split(","):
            words = part.strip().split()
            if len(words) == 2 and words[0].lower() == "compute":
                return words[1]
    legacy = headers.get(b"x-openstack-nova-api-version")
    return legacy.decode("latin-1").strip() if legacy is not None else None


def parse(text: str | None) -> tuple[int, int] | str:
    """The version, or the error ("bad" malformed, "range" unsupported)."""
    if text is None:
        return MIN
    if text.lower() == "latest":
        return MAX
    match = _FORMAT.match(text)
    if match is None:
        return "bad"
    chosen = (int(match.group(1)), int(match.group(2)))
    return chosen if MIN <= chosen <= MAX else "range"


class MicroversionMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        text = requested(dict(scope["headers"]))
        chosen = parse(text)
        if isinstance(chosen, str):
            await _refuse(send, text or "", chosen)
            return
        scope["compute_version"] = chosen
        echo = f"{chosen[0]}.{chosen[1]}".encode()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"openstack-api-version", b"compute " + echo),
                    (b"x-openstack-nova-api-version", echo),
                    (b"vary", _VARY),
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


async def _refuse(send: Send, text: str, problem: str) -> None:
    if problem == "bad":
        status, key = 400, "badRequest"
        message = f"Invalid API version request string: {text}"
    else:
        status, key = 406, "notAcceptable"
        message = (
            f"Version {text} is not supported by the API. Minimum is {MIN_TEXT} and maximum "
            f"is {MAX_TEXT}."
        )
    body = orjson.dumps({key: {"code": status, "message": message}})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
