"""Version discovery (no token): `/compute/` lists v2.0 and v2.1, `/compute/v2.1/` shows v2.1
with its microversion range, as Nova publishes them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.auth import public
from onestack.common.http import JSONResponse
from onestack.compute.api.common import endpoint_url
from onestack.compute.api.microversion import MAX_TEXT, MIN_TEXT

UPDATED = "2013-07-23T11:33:21Z"


def _v21(request: Request) -> dict[str, object]:
    return {
        "id": "v2.1",
        "status": "CURRENT",
        "version": MAX_TEXT,
        "min_version": MIN_TEXT,
        "updated": UPDATED,
        "links": [{"rel": "self", "href": f"{endpoint_url(request)}/v2.1/"}],
    }


def _v20(request: Request) -> dict[str, object]:
    return {
        "id": "v2.0",
        "status": "SUPPORTED",
        "version": "",
        "min_version": "",
        "updated": "2011-01-21T11:33:21Z",
        "links": [{"rel": "self", "href": f"{endpoint_url(request)}/v2/"}],
    }


@public
async def root(request: Request) -> Response:
    return JSONResponse({"versions": [_v20(request), _v21(request)]})


@public
async def v21(request: Request) -> Response:
    document = {
        **_v21(request),
        "media-types": [
            {
                "base": "application/json",
                "type": "application/vnd.openstack.compute+json;version=2.1",
            }
        ],
    }
    document["links"] = [
        *document["links"],  # type: ignore[list-item]
        {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
    ]
    return JSONResponse({"version": document})


@public
async def v20(request: Request) -> Response:
    """The legacy v2 endpoint's document (its API is not served)."""
    return JSONResponse({"version": _v20(request)})


routes = [
    Route("/", root, methods=["GET"]),
    Route("/v2.1", v21, methods=["GET"]),
    Route("/v2.1/", v21, methods=["GET"]),
    Route("/v2", v20, methods=["GET"]),
    Route("/v2/", v20, methods=["GET"]),
]
