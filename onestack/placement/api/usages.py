"""Usages over HTTP: /resource_providers/{uuid}/usages and /usages?project_id=[&user_id=]."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.placement import errors
from onestack.placement.api.common import at_least, enforce, manager, query_value, require


async def provider_usages(request: Request) -> Response:
    enforce(request, "resource_providers:usages")
    generation, usage = manager(request).usage.of_provider(request.path_params["uuid"])
    return JSONResponse({"usages": usage, "resource_provider_generation": generation})


async def project_usages(request: Request) -> Response:
    require(request, 9)
    enforce(request, "usages")
    unknown = set(request.query_params) - {"project_id", "user_id"}
    if unknown:
        raise errors.BadQuery(f"Invalid query string parameters: {', '.join(sorted(unknown))}")
    project_id = query_value(request, "project_id")
    if not project_id:
        raise errors.BadQuery("'project_id' is a required property")
    user_id = query_value(request, "user_id")
    usage = manager(request).usage
    if at_least(request, 38):
        return JSONResponse({"usages": usage.of_project_by_type(project_id, user_id)})
    return JSONResponse({"usages": usage.of_project(project_id, user_id)})


routes = [
    Route("/resource_providers/{uuid}/usages", provider_usages, methods=["GET"]),
    Route("/usages", project_usages, methods=["GET"]),
]
