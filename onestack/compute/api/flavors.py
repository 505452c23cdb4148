"""Flavors: list, detail, show, create and delete (admins), and extra specs."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.body import validate
from onestack.common.http import JSONResponse
from onestack.compute import errors
from onestack.compute.api import render
from onestack.compute.api.common import caller, enforce, json_object, manager, query_int
from onestack.compute.api.schemas import ExtraSpecsBody, FlavorActionBody, FlavorCreateBody
from onestack.compute.manager import FlavorSpec


def _is_public(request: Request) -> bool | None:
    value = request.query_params.get("is_public", "true").lower()
    if value in ("none", "all"):
        return None
    if value in ("true", "t", "1", "yes", "y", "on"):
        return True
    if value in ("false", "f", "0", "no", "n", "off"):
        return False
    raise errors.InvalidInput(f"Invalid is_public filter [{value}]")


def _listed(request: Request) -> list:
    who = caller(request)
    rows = manager(request).flavors.list(who, _is_public(request))
    min_ram = query_int(request, "minRam") or 0
    min_disk = query_int(request, "minDisk") or 0
    rows = [r for r in rows if r.memory_mb >= min_ram and r.root_gb >= min_disk]
    marker = request.query_params.get("marker")
    if marker is not None:
        ids = [r.flavor_id for r in rows]
        if marker not in ids:
            raise errors.InvalidInput(f"marker [{marker}] not found")
        rows = rows[ids.index(marker) + 1 :]
    limit = query_int(request, "limit")
    return rows if limit is None else rows[:limit]


async def index(request: Request) -> Response:
    rows = _listed(request)
    return JSONResponse({"flavors": [render.flavor(request, r, detail=False) for r in rows]})


async def detail(request: Request) -> Response:
    rows = _listed(request)
    return JSONResponse({"flavors": [render.flavor(request, r) for r in rows]})


async def show(request: Request) -> Response:
    row = manager(request).flavors.get(caller(request), request.path_params["flavor_id"])
    return JSONResponse({"flavor": render.flavor(request, row)})


async def create(request: Request) -> Response:
    enforce(request, "os-flavor-manage:create")
    body = validate(await json_object(request), FlavorCreateBody).flavor
    spec = FlavorSpec(
        name=body.name.strip(),
        memory_mb=body.ram,
        vcpus=body.vcpus,
        root_gb=body.disk,
        flavor_id=str(body.id) if body.id not in (None, "auto") else None,
        ephemeral_gb=body.OS_FLV_EXT_DATA_ephemeral,
        swap=body.swap,
        rxtx_factor=body.rxtx_factor,
        is_public=body.os_flavor_access_is_public,
        description=body.description,
    )
    if not spec.name:
        raise errors.InvalidInput("Flavor names must contain a non-space character.")
    row = manager(request).flavors.create(caller(request), spec)
    return JSONResponse({"flavor": render.flavor(request, row)})


async def delete(request: Request) -> Response:
    enforce(request, "os-flavor-manage:delete")
    manager(request).flavors.delete(request.path_params["flavor_id"])
    return Response(status_code=202)


async def extra_specs(request: Request) -> Response:
    row = manager(request).flavors.get(caller(request), request.path_params["flavor_id"])
    return JSONResponse({"extra_specs": {spec.key: spec.value for spec in row.extra_specs}})


async def set_extra_specs(request: Request) -> Response:
    enforce(request, "os-flavor-extra-specs:create")
    body = validate(await json_object(request), ExtraSpecsBody)
    specs = {key: str(value) for key, value in body.extra_specs.items()}
    row = manager(request).flavors.set_extra_specs(request.path_params["flavor_id"], specs)
    return JSONResponse({"extra_specs": {spec.key: spec.value for spec in row.extra_specs}})


async def extra_spec(request: Request) -> Response:
    enforce(request, "os-flavor-extra-specs:index")
    flavor_id, key = request.path_params["flavor_id"], request.path_params["key"]
    row = manager(request).flavors.get(caller(request), flavor_id)
    found = {spec.key: spec.value for spec in row.extra_specs}
    if key not in found:
        raise errors.ExtraSpecNotFound(flavor_id, key)
    return JSONResponse({key: found[key]})


async def set_extra_spec(request: Request) -> Response:
    enforce(request, "os-flavor-extra-specs:update")
    document = await json_object(request)
    key = request.path_params["key"]
    if len(document) > 1:
        raise errors.InvalidInput("Request body contains too many items.")
    if key not in document:
        raise errors.InvalidInput("Request body and URI mismatch.")
    specs = validate({"extra_specs": document}, ExtraSpecsBody).extra_specs
    flavors = manager(request).flavors
    flavors.set_extra_specs(request.path_params["flavor_id"], {key: str(specs[key])})
    return JSONResponse({key: str(specs[key])})


async def delete_extra_spec(request: Request) -> Response:
    enforce(request, "os-flavor-extra-specs:delete")
    flavor_id, key = request.path_params["flavor_id"], request.path_params["key"]
    manager(request).flavors.remove_extra_spec(flavor_id, key)
    return Response(status_code=200)


def _access_body(flavor_id: str, projects: list[str]) -> dict[str, Any]:
    return {"flavor_access": [{"flavor_id": flavor_id, "tenant_id": p} for p in projects]}


async def access(request: Request) -> Response:
    enforce(request, "os-flavor-access")
    flavor_id = request.path_params["flavor_id"]
    return JSONResponse(_access_body(flavor_id, manager(request).flavors.access(flavor_id)))


async def action(request: Request) -> Response:
    """addTenantAccess / removeTenantAccess."""
    body = validate(await json_object(request), FlavorActionBody)
    flavor_id = request.path_params["flavor_id"]
    flavors = manager(request).flavors
    if body.addTenantAccess is not None:
        enforce(request, "os-flavor-access:add_tenant_access")
        projects = flavors.add_access(flavor_id, body.addTenantAccess.tenant)
    elif body.removeTenantAccess is not None:
        enforce(request, "os-flavor-access:remove_tenant_access")
        projects = flavors.remove_access(flavor_id, body.removeTenantAccess.tenant)
    else:
        raise errors.InvalidInput("Name an action: addTenantAccess or removeTenantAccess.")
    return JSONResponse(_access_body(flavor_id, projects))


routes = [
    Route("/v2.1/flavors", index, methods=["GET"]),
    Route("/v2.1/flavors", create, methods=["POST"]),
    Route("/v2.1/flavors/detail", detail, methods=["GET"]),
    Route("/v2.1/flavors/{flavor_id}", show, methods=["GET"]),
    Route("/v2.1/flavors/{flavor_id}", delete, methods=["DELETE"]),
    Route("/v2.1/flavors/{flavor_id}/os-extra_specs", extra_specs, methods=["GET"]),
    Route("/v2.1/flavors/{flavor_id}/os-extra_specs", set_extra_specs, methods=["POST"]),
    Route("/v2.1/flavors/{flavor_id}/os-extra_specs/{key}", extra_spec, methods=["GET"]),
    Route("/v2.1/flavors/{flavor_id}/os-extra_specs/{key}", set_extra_spec, methods=["PUT"]),
    Route("/v2.1/flavors/{flavor_id}/os-extra_specs/{key}", delete_extra_spec, methods=["DELETE"]),
    Route("/v2.1/flavors/{flavor_id}/os-flavor-access", access, methods=["GET"]),
    Route("/v2.1/flavors/{flavor_id}/action", action, methods=["POST"]),
]
