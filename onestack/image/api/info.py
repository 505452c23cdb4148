"""Discovery of what this image service offers: import methods and stores."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
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


routes = [
    Route("/v2/info/import", import_info, methods=["GET"]),
    Route("/v2/info/stores", stores_info, methods=["GET"]),
    Route("/v2/info/stores/detail", stores_detail, methods=["GET"]),
]
