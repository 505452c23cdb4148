"""Resource classes over HTTP: /resource_classes[/{name}] (from microversion 1.2)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.placement.api import render
from onestack.placement.api.common import base_path, body, enforce, manager, require
from onestack.placement.api.schemas import ResourceClassBody


async def list_classes(request: Request) -> Response:
    require(request, 2)
    enforce(request, "resource_classes:list")
    names = manager(request).classes.list()
    base = base_path(request)
    return JSONResponse({"resource_classes": [render.resource_class(base, n) for n in names]})


async def show_class(request: Request) -> Response:
    require(request, 2)
    enforce(request, "resource_classes:show")
    name = manager(request).classes.get(request.path_params["resource_class"])
    return JSONResponse(render.resource_class(base_path(request), name))


async def create_class(request: Request) -> Response:
    require(request, 2)
    enforce(request, "resource_classes:create")
    name = (await body(request, ResourceClassBody)).name
    manager(request).classes.create(name)
    location = f"{base_path(request)}/resource_classes/{name}"
    return Response(status_code=201, headers={"location": location})


async def ensure_class(request: Request) -> Response:
    """PUT (1.7+) creates a CUSTOM_ class: 201 when new, 204 when it was there."""
    require(request, 7)
    enforce(request, "resource_classes:update")
    name = request.path_params["resource_class"]
    created = manager(request).classes.ensure(name)
    location = f"{base_path(request)}/resource_classes/{name}"
    status = 201 if created else 204
    return Response(status_code=status, headers={"location": location})


async def delete_class(request: Request) -> Response:
    require(request, 2)
    enforce(request, "resource_classes:delete")
    manager(request).classes.delete(request.path_params["resource_class"])
    return Response(status_code=204)


routes = [
    Route("/resource_classes", list_classes, methods=["GET"]),
    Route("/resource_classes", create_class, methods=["POST"]),
    Route("/resource_classes/{resource_class}", show_class, methods=["GET"]),
    Route("/resource_classes/{resource_class}", ensure_class, methods=["PUT"]),
    Route("/resource_classes/{resource_class}", delete_class, methods=["DELETE"]),
]
