"""The Swift API as an ASGI app, mounted at /object-store (DevStack's proxy path), accounts
under /v1/AUTH_<project_id>.

Errors are Swift's short HTML bodies (`<html><h1>Not Found</h1><p>...</p></html>`), rendered
here and only here.
"""

from __future__ import annotations

from html import escape

from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from onestack.common.auth import TokenReader
from onestack.common.errors import OneStackError
from onestack.common.http import service_app
from onestack.object.api import accounts, containers, info, objects
from onestack.object.manager import ObjectStorage

MOUNT_PATH = "/object-store"
ROUTERS = (info, accounts, containers, objects)
# Swift's own wording where ours would only repeat the title.
SWIFT_MESSAGES = {
    401: "This server could not verify that you are authorized to access the document you "
    "requested.",
}


def render_error(error: OneStackError) -> Response:
    """Swift's error body: `<html><h1>Title</h1><p>message</p></html>`."""
    message = SWIFT_MESSAGES.get(error.status, error.message)
    body = f"<html><h1>{escape(error.title)}</h1><p>{escape(message)}</p></html>"
    headers = getattr(error, "headers", None)
    return Response(
        body, status_code=error.status, media_type="text/html; charset=UTF-8", headers=headers
    )


def routes() -> list[BaseRoute]:
    """Every route of the Swift API, below its mount path."""
    return [route for router in ROUTERS for route in router.routes]


def build_app(storage: ObjectStorage, reader: TokenReader) -> ASGIApp:
    app = service_app(routes(), render_error, reader)
    app.state.storage = storage
    return app
