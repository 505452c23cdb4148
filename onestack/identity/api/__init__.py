"""The identity API (Keystone v3) as an ASGI app, mounted at /identity."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from onestack.common.errors import OneStackError
from onestack.common.http import service_app
from onestack.common.policy import Policy
from onestack.identity.api import (
    application_credentials,
    assignments,
    auth,
    catalog,
    common,
    credentials,
    domains,
    ec2,
    groups,
    limits,
    projects,
    roles,
    users,
    versions,
)
from onestack.identity.api.repeat_validations import RepeatValidations, ValidationMemo
from onestack.identity.manager import IdentityManager

MOUNT_PATH = "/identity"

# Routers whose every route needs a valid X-Auth-Token before anything else is looked at.
AUTHENTICATED_ROUTERS = (
    domains,
    projects,
    users,
    groups,
    roles,
    assignments,
    catalog,
    credentials,
    limits,
    ec2,
    application_credentials,
)

Endpoint = Callable[[Request], Awaitable[Response]]


def render_error(error: OneStackError) -> dict[str, Any]:
    """Keystone's error body."""
    return {"error": {"code": error.status, "title": error.title, "message": error.message}}


def _authenticated(endpoint: Endpoint) -> Endpoint:
    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        common.caller(request)  # 401 before any 404 or 403 can leak what exists
        return await endpoint(request)

    return guarded


def _guard(routes: list[Route]) -> list[Route]:
    return [Route(r.path, _authenticated(r.endpoint), methods=r.methods) for r in routes]


def routes() -> list[Route]:
    """Every route of the identity API, below its mount path."""
    guarded = [route for router in AUTHENTICATED_ROUTERS for route in _guard(router.routes)]
    return [*versions.routes, *auth.routes, *users.public_routes, *ec2.public_routes, *guarded]


def build_app(manager: IdentityManager, policy: Policy) -> ASGIApp:
    app = service_app(routes(), render_error)
    app.state.manager = manager
    app.state.policy = policy
    app.state.validations = ValidationMemo()  # see auth._validation_response
    return RepeatValidations(app, app.state.validations, manager.tokens, auth.validate_route)
