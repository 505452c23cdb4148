"""Who is calling: the one reader of X-Auth-Token, for every service.

`service_app` hands each route's endpoint to a service's `TokenReader`, which validates the
token before the endpoint runs (after routing: an unknown path is still a 404 and a wrong
method a 405, but a 401 comes before anything is looked up) and puts the service's caller on
the request as `request.user`. Endpoints never read the header. An endpoint that needs no
token says so with `@public`. A reader may have a `FastPath`: answers remembered from earlier
requests, sent before the service's app is entered at all (identity's repeated validations).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, NamedTuple, Protocol, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import Scope

from onestack.common.context import RequestContext
from onestack.common.errors import Unauthorized

Endpoint = Callable[[Request], Awaitable[Response]]
E = TypeVar("E", bound=Endpoint)

# (request, token id) -> the service's caller; raises a 401 OneStackError when the token is bad.
Validate = Callable[[Request, str], Any]
# token id -> the caller as another service sees it (built by the assembler over identity).
TokenValidator = Callable[[str], RequestContext]

HEADER = b"x-auth-token"


def public(endpoint: E) -> E:
    """Marks an endpoint that needs no token (version discovery, logging in)."""
    endpoint.public = True  # type: ignore[attr-defined]
    return endpoint


def is_public(endpoint: Callable[..., Any]) -> bool:
    return getattr(endpoint, "public", False)


def presented_token(scope: Scope) -> str | None:
    """The X-Auth-Token of a request (the first, as Starlette's headers give it), or None."""
    for name, value in scope["headers"]:
        if name == HEADER:
            return value.decode("latin-1")
    return None


def request_details(request: Request) -> dict[str, Any]:
    """What a `RequestContext` records of the request itself, besides the token's holder."""
    client = request.client
    return {
        "request_id": request.scope.get("state", {}).get("request_id"),
        "remote_address": client.host if client else None,
        "user_agent": request.headers.get("user-agent"),
    }


class EarlyAnswer(NamedTuple):
    """A response kept serialised: all its headers as raw pairs, and its body."""

    route: BaseRoute  # what the request log and metrics name as the route answered
    headers: list[tuple[bytes, bytes]]
    body: bytes
    status: int = 200


class FastPath(Protocol):
    """Answers some requests from memory, given the token they carry; None passes them on."""

    def answer(self, scope: Scope, token_id: str) -> EarlyAnswer | None: ...


class TokenReader:
    """Validates a request's X-Auth-Token once, before its endpoint, into `request.user`."""

    def __init__(self, validate: Validate, fast_path: FastPath | None = None) -> None:
        self.validate = validate
        self.fast_path = fast_path

    def authenticate(self, request: Request) -> Any:
        """The caller of `request`, now also `request.user`; 401 when the token is absent or bad."""
        token_id = presented_token(request.scope)
        if not token_id:
            raise Unauthorized()
        caller = request.scope["user"] = self.validate(request, token_id)
        return caller

    def guard(self, endpoint: Endpoint) -> Endpoint:
        """`endpoint` run after authentication, unless it is marked `@public`."""
        if is_public(endpoint):
            return endpoint

        @functools.wraps(endpoint)
        async def authenticated(request: Request) -> Response:
            self.authenticate(request)
            return await endpoint(request)

        return authenticated

    def early_answer(self, scope: Scope) -> EarlyAnswer | None:
        """The fast path's answer to this request, if it has one; None when the app must answer."""
        if self.fast_path is None:
            return None
        token_id = presented_token(scope)
        return self.fast_path.answer(scope, token_id) if token_id else None


def context_reader(validate: TokenValidator) -> TokenReader:
    """The reader of a service other than identity: its caller is a `RequestContext` with the
    request's own details, from `validate` (identity's public interface, handed in)."""

    def caller(request: Request, token_id: str) -> RequestContext:
        return _with_details(validate(token_id), request)

    return TokenReader(caller)


def _with_details(context: RequestContext, request: Request) -> RequestContext:
    return replace(context, **request_details(request))
