"""The network API (Neutron v2.0) as an ASGI app, mounted at /networking.

Every error is rendered in Neutron's body, `{"NeutronError": {"type", "message",
"detail"}}`: the type is the domain error's class name (`NetworkNotFound`), or webob's
`HTTPBadRequest`-style name for the generic ones (malformed bodies, unknown routes).
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from onestack.common.auth import TokenReader
from onestack.common.errors import OneStackError
from onestack.common.http import service_app
from onestack.common.policy import Policy
from onestack.network.api import (
    extensions,
    floating_ips,
    networks,
    ports,
    quotas,
    routers,
    security_groups,
    subnets,
    versions,
)
from onestack.network.manager import NetworkManager

MOUNT_PATH = "/networking"
ROUTERS = (
    versions,
    extensions,
    networks,
    subnets,
    ports,
    security_groups,
    routers,
    floating_ips,
    quotas,
)
GENERIC = {
    400: "HTTPBadRequest",
    401: "HTTPUnauthorized",
    403: "HTTPForbidden",
    404: "HTTPNotFound",
    405: "HTTPMethodNotAllowed",
    409: "HTTPConflict",
}


def error_type(error: OneStackError) -> str:
    if type(error).__module__ == "onestack.network.errors":
        return type(error).__name__
    return GENERIC.get(error.status, "HTTPInternalServerError")


def render_error(error: OneStackError) -> dict[str, Any]:
    """Neutron's error body."""
    return {"NeutronError": {"type": error_type(error), "message": error.message, "detail": ""}}


def routes() -> list[BaseRoute]:
    """Every route of the network API, below its mount path."""
    return [route for router in ROUTERS for route in router.routes]


def build_app(manager: NetworkManager, policy: Policy, reader: TokenReader) -> Starlette:
    """Neutron's routes; `reader` authenticates all but version discovery (`@public`)."""
    app = service_app(routes(), render_error, reader)
    app.state.manager = manager
    app.state.policy = policy
    return app
