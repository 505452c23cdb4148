"""Discovery of what this image service offers: import methods, stores, and the caller's
quota usage."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.image import errors
from onestack.image.api.common import enforce, manager


async def import_info(request: Request) -> Response:
    enforce(request, "get_info")
    body = {
        "import-methods": {
            "description": "Import methods available.",
            "type": "array",
            "value": manager(request).settings.import_methods,
        }
    }
    return JSONResponse(body)


async def stores_info(request: Request) -> Response:
    enforce(request, "get_info")
    return JSONResponse({"stores": manager(request).stores.describe()})


async def stores_detail(request: Request) -> Response:
    enforce(request, "stores_info_detail")
    return JSONResponse({"stores": manager(request).stores.describe(detail=True)})


async def usage_info(request: Request) -> Response:
    """Limit and usage of each image quota for the caller's project (Glance: /v2/info/usage)."""
    who = enforce(request, "get_info")
    if who.project_id is None:
        raise errors.ActionForbidden("Quota usage is reported for a project-scoped token only.")
    return JSONResponse({"usage": manager(request).quota_report(who.project_id)})


routes = [
    Route("/v2/info/import", import_info, methods=["GET"]),
    Route("/v2/info/stores", stores_info, methods=["GET"]),
    Route("/v2/info/stores/detail", stores_detail, methods=["GET"]),
    Route("/v2/info/usage", usage_info, methods=["GET"]),
]
