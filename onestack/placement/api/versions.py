"""Version discovery: placement's root lists its one version and its microversion range."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.auth import public
from onestack.common.http import JSONResponse
from onestack.placement.api.microversion import MAX_VERSION, MIN_VERSION, text


@public
async def root(request: Request) -> Response:
    return JSONResponse(
        {
            "versions": [
                {
                    "id": "v1.0",
                    "max_version": text(MAX_VERSION),
                    "min_version": text(MIN_VERSION),
                    "status": "CURRENT",
                    "links": [{"rel": "self", "href": ""}],
                }
            ]
        }
    )


routes = [Route("/", root, methods=["GET"])]
