"""Version discovery: the image endpoint's root lists the v2 versions Glance publishes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.auth import public
from onestack.common.http import JSONResponse
from onestack.image.api.common import endpoint_url

CURRENT = "v2.16"
SUPPORTED = tuple(f"v2.{minor}" for minor in range(15, -1, -1))


def document(request: Request) -> dict[str, object]:
    href = f"{endpoint_url(request)}/v2/"
    versions = [(CURRENT, "CURRENT"), *((v, "SUPPORTED") for v in SUPPORTED)]
    return {
        "versions": [
            {"id": vid, "status": status, "links": [{"rel": "self", "href": href}]}
            for vid, status in versions
        ]
    }


@public
async def root(request: Request) -> Response:
    """The bare endpoint answers 300 Multiple Choices, as Glance does."""
    return JSONResponse(document(request), status_code=300)


@public
async def versions(request: Request) -> Response:
    return JSONResponse(document(request))


routes = [
    Route("/", root, methods=["GET"]),
    Route("/versions", versions, methods=["GET"]),
]
