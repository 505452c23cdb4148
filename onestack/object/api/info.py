"""What needs no token: `/info` (the cluster's capabilities and limits, as swiftclient's
`swift capabilities` reads them) and `/healthcheck`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from onestack.common.auth import public
from onestack.common.http import JSONResponse
from onestack.object.api import common
from onestack.object.manager import MAX_LIMIT

SWIFT_VERSION = "2.34.0"


@public
async def info(request: Request) -> Response:
    return JSONResponse(
        {
            "swift": {
                "version": SWIFT_VERSION,
                "max_file_size": common.MAX_FILE_SIZE,
                "max_meta_name_length": common.MAX_META_NAME,
                "max_meta_value_length": common.MAX_META_VALUE,
                "max_meta_count": common.MAX_META_COUNT,
                "max_meta_overall_size": common.MAX_META_OVERALL,
                "max_object_name_length": common.MAX_OBJECT_NAME,
                "max_container_name_length": common.MAX_CONTAINER_NAME,
                "max_account_name_length": common.MAX_CONTAINER_NAME,
                "container_listing_limit": MAX_LIMIT,
                "account_listing_limit": MAX_LIMIT,
                "allow_account_management": False,
                "account_autocreate": True,
                "policies": [{"name": "Policy-0", "default": True}],
            },
            "keystoneauth": {},
        }
    )


@public
async def healthcheck(request: Request) -> Response:
    return PlainTextResponse("OK")


routes = [
    Route("/info", info, methods=["GET"]),
    Route("/healthcheck", healthcheck, methods=["GET"]),
]
