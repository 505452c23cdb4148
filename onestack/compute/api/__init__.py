"""The compute API (Nova v2.1) as an ASGI app, mounted at /compute (endpoint /compute/v2.1).

Every error is rendered in Nova's body, `{"itemNotFound": {"code": 404, "message": ...}}`,
the key chosen by status as Nova's fault wrapper chooses it; every answer carries the
microversion it was served at (`api.microversion`).
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from onestack.common.auth import TokenReader
from onestack.common.errors import OneStackError
from onestack.common.http import service_app
from onestack.common.policy import Policy
from onestack.compute.api import actions, flavors, info, keypairs, servers, versions
from onestack.compute.api.microversion import MicroversionMiddleware
from onestack.compute.manager import ComputeManager

MOUNT_PATH = "/compute"
ROUTERS = (versions, flavors, keypairs, servers, actions, info)
FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    406: "notAcceptable",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}


def render_error(error: OneStackError) -> dict[str, Any]:
    """Nova's error body."""
    name = FAULT_NAMES.get(error.status, "computeFault")
    return {name: {"code": error.status, "message": error.message}}


def routes() -> list[BaseRoute]:
    """Every route of the compute API, below its mount path."""
    return [route for router in ROUTERS for route in router.routes]


def build_app(manager: ComputeManager, policy: Policy, reader: TokenReader) -> ASGIApp:
    """Nova's routes behind the microversion negotiation; `reader` authenticates all but
    version discovery (`@public`)."""
    app = service_app(routes(), render_error, reader)
    app.state.manager = manager
    app.state.policy = policy
    return MicroversionMiddleware(app)
