"""The image API (Glance v2) as an ASGI app, mounted at /image.

Every error is rendered in Glance's own body, `{"code": "404 Not Found", "title", "message"}`
(what webob writes for Glance, and what its clients read).
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from onestack.common.auth import TokenReader
from onestack.common.errors import OneStackError
from onestack.common.http import service_app
from onestack.common.policy import Policy
from onestack.image.api import (
    data,
    images,
    imports,
    info,
    members,
    metadef_items,
    metadef_schemas,
    metadefs,
    schemas,
    stores,
    tasks,
    versions,
)
from onestack.image.manager import ImageManager

MOUNT_PATH = "/image"
ROUTERS = (
    versions,
    schemas,
    metadef_schemas,
    info,
    images,
    data,
    members,
    imports,
    stores,
    metadefs,
    metadef_items,
    tasks,
)


def render_error(error: OneStackError) -> dict[str, Any]:
    """Glance's error body."""
    return {
        "code": f"{error.status} {error.title}",
        "title": error.title,
        "message": error.message,
    }


def routes() -> list[BaseRoute]:
    """Every route of the image API, below its mount path."""
    return [route for router in ROUTERS for route in router.routes]


def build_app(manager: ImageManager, policy: Policy, reader: TokenReader) -> Starlette:
    """Glance's routes; `reader` authenticates all but version discovery (`@public`)."""
    # Glance routes exactly: `GET /v2/images/` (an empty id) is a 404, not the image list.
    app = service_app(routes(), render_error, reader, redirect_slashes=False)
    app.state.manager = manager
    app.state.policy = policy
    return app
