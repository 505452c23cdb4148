"""Version discovery: `/networking/` lists v2.0, `/networking/v2.0` its resources."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.auth import public
from onestack.common.http import JSONResponse
from onestack.network.api.common import endpoint_url

RESOURCES = (
    ("network", "networks"),
    ("subnet", "subnets"),
    ("port", "ports"),
)


@public
async def versions(request: Request) -> Response:
    href = f"{endpoint_url(request)}/v2.0/"
    body = {
        "versions": [{"id": "v2.0", "status": "CURRENT", "links": [{"rel": "self", "href": href}]}]
    }
    return JSONResponse(body)


@public
async def resources(request: Request) -> Response:
    root = f"{endpoint_url(request)}/v2.0"
    body = {
        "resources": [
            {
                "name": name,
                "collection": collection,
                "links": [{"rel": "self", "href": f"{root}/{collection}"}],
            }
            for name, collection in RESOURCES
        ]
    }
    return JSONResponse(body)


routes = [
    Route("/", versions, methods=["GET"]),
    Route("/v2.0", resources, methods=["GET"]),
    Route("/v2.0/", resources, methods=["GET"]),
]
