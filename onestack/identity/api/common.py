"""What every identity router shares: the caller, policy checks, collections and links.

`validate_caller` is what identity's `TokenReader` (common/auth.py) validates a request's
X-Auth-Token with; `caller(request)` is its result. `enforce(request, action, target)` checks
the named policy rule against the caller and the target and returns the caller's context.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.requests import Request

from onestack.common.auth import request_details
from onestack.common.body import parse_body
from onestack.common.context import RequestContext
from onestack.common.errors import BadRequest
from onestack.common.http import JSONResponse
from onestack.common.policy import Policy
from onestack.identity import errors
from onestack.identity.api.versions import v3_url
from onestack.identity.manager import IdentityManager, TokenView

__all__ = [
    "allowed",
    "bool_query",
    "caller",
    "check",
    "collection",
    "context",
    "enforce",
    "generation",
    "manager",
    "parse_body",
    "self_link",
]


def manager(request: Request) -> IdentityManager:
    return request.app.state.manager


def policy(request: Request) -> Policy:
    return request.app.state.policy


def generation(request: Request) -> int:
    """The identity write generation, read once per request (at its first use).

    Every token validation and catalog of one request is checked against this one read, so
    a write committed (by any process) before the request started is seen by all of them.
    """
    state = request.scope.setdefault("state", {})
    value = state.get("identity_generation")
    if value is None:
        value = state["identity_generation"] = manager(request).tokens.current_generation()
    return value


def validate_caller(request: Request, token_id: str) -> TokenView:
    """The caller's token validated under the request's generation (InvalidToken: 401)."""
    return manager(request).tokens.validate(token_id, generation(request))


def caller(request: Request) -> TokenView:
    """The caller's validated token, put on the request by the token reader."""
    return request.user


def context(request: Request) -> RequestContext:
    """The caller as policy and notifications see it."""
    return caller(request).context(**request_details(request))


def enforce(request: Request, action: str, target: dict[str, Any] | None = None) -> RequestContext:
    """The caller's context if policy lets them do `action` on `target`; 403 otherwise."""
    check(request, action, target)
    return context(request)


def check(request: Request, action: str, target: dict[str, Any] | None = None) -> None:
    """`enforce` for a handler that needs no context: 403 unless policy allows `action`."""
    creds = caller(request).credentials
    policy(request).enforce(action, creds, target or {}, errors.ActionForbidden)


def allowed(request: Request, action: str, target: dict[str, Any]) -> bool:
    return policy(request).allowed(action, caller(request).credentials, target)


def self_link(request: Request, path: str) -> dict[str, str]:
    return {"self": f"{v3_url(request)}/{path}"}


def collection(request: Request, key: str, items: Iterable[dict[str, Any]]) -> JSONResponse:
    """A list response with Keystone's `links` block."""
    links = {"self": str(request.url), "previous": None, "next": None}
    return JSONResponse({key: list(items), "links": links})


def bool_query(request: Request, name: str) -> bool | None:
    """A boolean query filter (`?enabled=false`); None when absent, 400 when not a boolean."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    lowered = raw.strip().lower()
    if lowered in ("", "true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise BadRequest(f"Invalid value for query parameter '{name}': {raw!r} is not a boolean.")
