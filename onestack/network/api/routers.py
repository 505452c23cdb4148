"""/v2.0/routers: the collection, and add_router_interface / remove_router_interface."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.body import parse_body
from onestack.common.http import JSONResponse
from onestack.network.api import crud
from onestack.network.api.common import caller, check, manager
from onestack.network.api.schemas import RouterCreateBody, RouterInterfaceBody, RouterUpdateBody

GUARDED = (
    "distributed",
    "ha",
    "external_gateway_info:enable_snat",
    "external_gateway_info:external_fixed_ips",
)
COLLECTION = crud.Collection(
    singular="router",
    plural="routers",
    path="routers",
    records=lambda m: m.routers,
    create_body=RouterCreateBody,
    update_body=RouterUpdateBody,
    module=__name__,
    guarded=GUARDED,
)


async def add_interface(request: Request) -> Response:
    body = await parse_body(request, RouterInterfaceBody)
    who = caller(request)
    routers = manager(request).routers
    router = routers.get(who, request.path_params["router_id"])
    check(request, who, "add_router_interface", router)
    info = routers.add_interface(who, router["id"], body.model_dump(exclude_none=True))
    return JSONResponse(info)


async def remove_interface(request: Request) -> Response:
    body = await parse_body(request, RouterInterfaceBody)
    who = caller(request)
    routers = manager(request).routers
    router = routers.get(who, request.path_params["router_id"])
    check(request, who, "remove_router_interface", router)
    info = routers.remove_interface(who, router["id"], body.model_dump(exclude_none=True))
    return JSONResponse(info)


routes = [
    *crud.routes(COLLECTION),
    Route("/v2.0/routers/{router_id}/add_router_interface", add_interface, methods=["PUT"]),
    Route("/v2.0/routers/{router_id}/remove_router_interface", remove_interface, methods=["PUT"]),
]
