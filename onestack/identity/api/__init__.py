"""The identity API (Keystone v3) as an ASGI app, mounted at /identity."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from onestack.common.errors import OneStackError
from onestack.common.http import service_app
from onestack.identity.api import auth, versions
from onestack.identity.manager import IdentityManager

MOUNT_PATH = "/identity"


def render_error(error: OneStackError) -> dict[str, Any]:
    """Keystone's error body."""
    return {"error": {"code": error.status, "title": error.title, "message": error.message}}


def build_app(manager: IdentityManager) -> Starlette:
    app = service_app([*versions.routes, *auth.routes], render_error)
    app.state.manager = manager
    return app
