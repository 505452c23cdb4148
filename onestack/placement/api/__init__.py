"""The placement API as an ASGI app, mounted at /placement.

Every error is rendered in placement's body, `{"errors": [{"status", "title", "detail",
"code", "request_id"}]}`; every answer carries the negotiated microversion
(`api/microversion.py`).
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from onestack.common.auth import TokenReader
from onestack.common.errors import OneStackError
from onestack.common.http import service_app
from onestack.common.policy import Policy
from onestack.placement.api import (
    allocations,
    candidates,
    classes,
    inventories,
    providers,
    traits,
    usages,
    versions,
)
from onestack.placement.api.microversion import REQUEST_ID, Microversions
from onestack.placement.errors import code_of
from onestack.placement.manager import PlacementManager

MOUNT_PATH = "/placement"
ROUTERS = (versions, providers, inventories, allocations, usages, classes, traits, candidates)


def render_error(error: OneStackError) -> dict[str, Any]:
    """Placement's error body."""
    return {
        "errors": [
            {
                "status": error.status,
                "title": error.title,
                "detail": error.message,
                "code": code_of(error),
                "request_id": REQUEST_ID.get(),
            }
        ]
    }


def routes() -> list[BaseRoute]:
    """Every route of the placement API, below its mount path."""
    return [route for router in ROUTERS for route in router.routes]


def build_app(manager: PlacementManager, policy: Policy, reader: TokenReader) -> ASGIApp:
    """Placement's routes behind microversion negotiation; `reader` authenticates all but
    version discovery."""
    app = service_app(routes(), render_error, reader)
    app.state.manager = manager
    app.state.policy = policy
    return Microversions(app, render_error)
