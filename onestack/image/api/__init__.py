"""The image API (Glance v2) as an ASGI app, mounted at /image.

Every error is rendered in Glance's own body, `{"code": "404 Not Found", "title", "message"}`
(what webob writes for Glance, and what its clients read).
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from onestack.common.auth import TokenValidator
from onestack.common.errors import OneStackError
from onestack.common.http import service_app
from onestack.common.policy import Policy
from onestack.image.api import data, images, imports, info, members, schemas, stores, versions
from onestack.image.manager import ImageManager

MOUNT_PATH = "/image"


def render_error(error: OneStackError) -> dict[str, Any]:
    """Glance's error body."""
    return {
        "code": f"{error.status} {error.title}",
        "title": error.title,
        "message": error.message,
    }


def routes() -> list[BaseRoute]:
    """Every route of the image API, below its mount path."""
    return [
        *versions.routes,
        *schemas.routes,
        *info.routes,
        *images.routes,
        *data.routes,
        *members.routes,
        *imports.routes,
        *stores.routes,
    ]


def build_app(manager: ImageManager, policy: Policy, validate: TokenValidator) -> Starlette:
    app = service_app(routes(), render_error)
    app.state.manager = manager
    app.state.policy = policy
    app.state.validate = validate
    return app
