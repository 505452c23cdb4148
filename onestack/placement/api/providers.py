"""Resource providers over HTTP: /resource_providers[/{uuid}]."""

from __future__ import annotations

import uuid as uuids

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.placement import errors
from onestack.placement.api import render
from onestack.placement.api.common import (
    at_least,
    base_path,
    body,
    enforce,
    manager,
    parse_required,
    parse_resources,
    query_value,
    version,
)
from onestack.placement.api.schemas import ProviderBody, ProviderUpdateBody
from onestack.placement.manager import ProviderQuery
from onestack.placement.models import Provider


def _render(request: Request, row: Provider) -> dict[str, object]:
    return render.provider(base_path(request), row, version(request)[1])


def _query(request: Request) -> ProviderQuery:
    known = {"name", "uuid"} | ({"resources"} if at_least(request, 4) else set())
    known |= {"in_tree"} if at_least(request, 14) else set()
    known |= {"required"} if at_least(request, 18) else set()
    unknown = set(request.query_params) - known - {"member_of"}
    if unknown:
        raise errors.BadQuery(f"Invalid query string parameters: {', '.join(sorted(unknown))}")
    if query_value(request, "member_of"):
        raise errors.BadQuery("The member_of filter is not supported yet.")
    required, forbidden = parse_required(request)
    resources = query_value(request, "resources")
    wanted = parse_resources(resources) if resources is not None else None
    for name in wanted or {}:
        if not manager(request).classes.exists(name):
            raise errors.BadQuery(f"Invalid resource class in resources parameter: {name}")
    return ProviderQuery(
        name=query_value(request, "name"),
        uuid=query_value(request, "uuid"),
        in_tree=query_value(request, "in_tree"),
        resources=wanted,
        required=required,
        forbidden=forbidden,
    )


async def list_providers(request: Request) -> Response:
    enforce(request, "resource_providers:list")
    rows = manager(request).providers.list(_query(request))
    return JSONResponse({"resource_providers": [_render(request, row) for row in rows]})


async def create_provider(request: Request) -> Response:
    enforce(request, "resource_providers:create")
    data = await body(request, ProviderBody)
    if data.parent_provider_uuid is not None and not at_least(request, 14):
        raise errors.InvalidRequest("parent_provider_uuid needs microversion 1.14 or later.")
    uuid = str(uuids.UUID(data.uuid)) if data.uuid else str(uuids.uuid4())
    row = manager(request).providers.create(uuid, data.name, data.parent_provider_uuid)
    location = {"location": f"{base_path(request)}/resource_providers/{row.uuid}"}
    if at_least(request, 20):
        return JSONResponse(_render(request, row), status_code=200, headers=location)
    return Response(status_code=201, headers=location)


async def show_provider(request: Request) -> Response:
    enforce(request, "resource_providers:show")
    row = manager(request).providers.get(request.path_params["uuid"])
    return JSONResponse(_render(request, row))


async def update_provider(request: Request) -> Response:
    enforce(request, "resource_providers:update")
    data = await body(request, ProviderUpdateBody)
    if data.parent_provider_uuid is not None and not at_least(request, 14):
        raise errors.InvalidRequest("parent_provider_uuid needs microversion 1.14 or later.")
    uuid = request.path_params["uuid"]
    row = manager(request).providers.update(uuid, data.name, data.parent_provider_uuid)
    return JSONResponse(_render(request, row))


async def delete_provider(request: Request) -> Response:
    enforce(request, "resource_providers:delete")
    manager(request).providers.delete(request.path_params["uuid"])
    return Response(status_code=204)


routes = [
    Route("/resource_providers", list_providers, methods=["GET"]),
    Route("/resource_providers", create_provider, methods=["POST"]),
    Route("/resource_providers/{uuid}", show_provider, methods=["GET"]),
    Route("/resource_providers/{uuid}", update_provider, methods=["PUT"]),
    Route("/resource_providers/{uuid}", delete_provider, methods=["DELETE"]),
]
