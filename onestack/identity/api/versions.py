"""Version discovery at /identity and /identity/v3."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.auth import public
from onestack.common.http import JSONResponse
from onestack.identity.api import render


def v3_url(request: Request) -> str:
    """This API's v3 root as the client addressed it (host and mount path included)."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}/v3"


@public
async def list_versions(request: Request) -> Response:
    body = {"versions": {"values": [render.version(v3_url(request))]}}
    return JSONResponse(body, status_code=300)


@public
async def show_v3(request: Request) -> Response:
    return JSONResponse({"version": render.version(v3_url(request))})


routes = [
    Route("/", list_versions, methods=["GET"]),
    Route("/v3", show_v3, methods=["GET"]),
    Route("/v3/", show_v3, methods=["GET"]),
]
