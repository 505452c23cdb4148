"""/v3/OS-EP-FILTER: endpoint groups and the project associations that narrow a catalog.

Everything here is the cloud admin's to change and cloud readers' to read, as in Keystone.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.identity.api import render
from onestack.identity.api.catalog import render_endpoint
from onestack.identity.api.common import check, collection, enforce, manager, parse_body, self_link
from onestack.identity.api.fields import Envelope, Name
from onestack.identity.api.versions import v3_url
from onestack.identity.manager.endpoint_filter import EndpointFilterManager
from onestack.identity.models import Endpoint, EndpointGroup, Project

BASE = "/v3/OS-EP-FILTER"
Description = Annotated[str, StringConstraints(max_length=65535, strict=True)]


class GroupCreate(Envelope):
    name: Name
    description: Description | None = None
    filters: dict[str, Any]


class GroupUpdate(Envelope):
    name: Name | None = None
    description: Description | None = None
    filters: dict[str, Any] | None = None


class CreateBody(Envelope):
    endpoint_group: GroupCreate


class UpdateBody(Envelope):
    endpoint_group: GroupUpdate


def render_group(request: Request, group: EndpointGroup) -> dict[str, Any]:
    return {
        "id": group.endpoint_group_id,
        "name": group.name,
        "description": group.description,
        "filters": group.filters,
        "links": self_link(request, f"OS-EP-FILTER/endpoint_groups/{group.endpoint_group_id}"),
    }


def _filter(request: Request) -> EndpointFilterManager:
    return manager(request).endpoint_filter


def _param(request: Request, name: str) -> str:
    return request.path_params[name]


def _projects(request: Request, projects: list[Project]) -> Response:
    base = v3_url(request)
    return collection(request, "projects", (render.project(p, base) for p in projects))


def _endpoints(request: Request, endpoints: list[Endpoint]) -> Response:
    return collection(request, "endpoints", (render_endpoint(request, e) for e in endpoints))


# -- endpoint groups ---------------------------------------------------------------------------


async def list_groups(request: Request) -> Response:
    check(request, "identity:list_endpoint_groups")
    groups = _filter(request).list_groups(name=request.query_params.get("name"))
    return collection(request, "endpoint_groups", (render_group(request, g) for g in groups))


async def create_group(request: Request) -> Response:
    ctx = enforce(request, "identity:create_endpoint_group")
    body = await parse_body(request, CreateBody)
    group = _filter(request).create_group(ctx, body.endpoint_group.model_dump())
    return JSONResponse({"endpoint_group": render_group(request, group)}, status_code=201)


async def show_group(request: Request) -> Response:
    check(request, "identity:get_endpoint_group")
    group = _filter(request).get_group(_param(request, "group_id"))
    if request.method == "HEAD":
        return Response(status_code=200)
    return JSONResponse({"endpoint_group": render_group(request, group)})


async def update_group(request: Request) -> Response:
    ctx = enforce(request, "identity:update_endpoint_group")
    body = await parse_body(request, UpdateBody)
    fields = body.endpoint_group.model_dump(exclude_unset=True)
    group = _filter(request).update_group(ctx, _param(request, "group_id"), fields)
    return JSONResponse({"endpoint_group": render_group(request, group)})


async def delete_group(request: Request) -> Response:
    ctx = enforce(request, "identity:delete_endpoint_group")
    _filter(request).delete_group(ctx, _param(request, "group_id"))
    return Response(status_code=204)


async def group_projects(request: Request) -> Response:
    check(request, "identity:list_projects_associated_with_endpoint_group")
    return _projects(request, _filter(request).group_projects(_param(request, "group_id")))


async def group_endpoints(request: Request) -> Response:
    check(request, "identity:list_endpoints_associated_with_endpoint_group")
    return _endpoints(request, _filter(request).group_endpoints(_param(request, "group_id")))


async def put_group_project(request: Request) -> Response:
    check(request, "identity:add_endpoint_group_to_project")
    _filter(request).associate_group(_param(request, "project_id"), _param(request, "group_id"))
    return Response(status_code=204)


async def show_group_project(request: Request) -> Response:
    check(request, "identity:get_endpoint_group_in_project")
    project_id = _param(request, "project_id")
    _filter(request).check_group_association(project_id, _param(request, "group_id"))
    if request.method == "HEAD":
        return Response(status_code=200)
    project = manager(request).projects.get(project_id)
    return JSONResponse({"project": render.project(project.project, v3_url(request))})


async def delete_group_project(request: Request) -> Response:
    check(request, "identity:remove_endpoint_group_from_project")
    _filter(request).dissociate_group(_param(request, "project_id"), _param(request, "group_id"))
    return Response(status_code=204)


async def project_groups(request: Request) -> Response:
    check(request, "identity:list_endpoint_groups_for_project")
    groups = _filter(request).project_groups(_param(request, "project_id"))
    return collection(request, "endpoint_groups", (render_group(request, g) for g in groups))


# -- project <-> endpoint ----------------------------------------------------------------------


async def put_project_endpoint(request: Request) -> Response:
    check(request, "identity:add_endpoint_to_project")
    _filter(request).associate(_param(request, "project_id"), _param(request, "endpoint_id"))
    return Response(status_code=204)


async def check_project_endpoint(request: Request) -> Response:
    check(request, "identity:check_endpoint_in_project")
    _filter(request).check_association(
        _param(request, "project_id"), _param(request, "endpoint_id")
    )
    return Response(status_code=204)


async def delete_project_endpoint(request: Request) -> Response:
    check(request, "identity:remove_endpoint_from_project")
    _filter(request).dissociate(_param(request, "project_id"), _param(request, "endpoint_id"))
    return Response(status_code=204)


async def project_endpoints(request: Request) -> Response:
    check(request, "identity:list_endpoints_for_project")
    return _endpoints(request, _filter(request).project_endpoints(_param(request, "project_id")))


async def endpoint_projects(request: Request) -> Response:
    check(request, "identity:list_projects_for_endpoint")
    return _projects(request, _filter(request).endpoint_projects(_param(request, "endpoint_id")))


GROUP = f"{BASE}/endpoint_groups/{{group_id}}"
routes = [
    Route(f"{BASE}/endpoint_groups", list_groups, methods=["GET"]),
    Route(f"{BASE}/endpoint_groups", create_group, methods=["POST"]),
    Route(GROUP, show_group, methods=["GET", "HEAD"]),
    Route(GROUP, update_group, methods=["PATCH"]),
    Route(GROUP, delete_group, methods=["DELETE"]),
    Route(f"{GROUP}/projects", group_projects, methods=["GET"]),
    Route(f"{GROUP}/endpoints", group_endpoints, methods=["GET"]),
    Route(f"{GROUP}/projects/{{project_id}}", put_group_project, methods=["PUT"]),
    Route(f"{GROUP}/projects/{{project_id}}", show_group_project, methods=["GET", "HEAD"]),
    Route(f"{GROUP}/projects/{{project_id}}", delete_group_project, methods=["DELETE"]),
    Route(f"{BASE}/projects/{{project_id}}/endpoint_groups", project_groups, methods=["GET"]),
    Route(f"{BASE}/projects/{{project_id}}/endpoints", project_endpoints, methods=["GET"]),
    Route(
        f"{BASE}/projects/{{project_id}}/endpoints/{{endpoint_id}}",
        put_project_endpoint,
        methods=["PUT"],
    ),
    Route(
        f"{BASE}/projects/{{project_id}}/endpoints/{{endpoint_id}}",
        check_project_endpoint,
        methods=["GET", "HEAD"],
    ),
    Route(
        f"{BASE}/projects/{{project_id}}/endpoints/{{endpoint_id}}",
        delete_project_endpoint,
        methods=["DELETE"],
    ),
    Route(f"{BASE}/endpoints/{{endpoint_id}}/projects", endpoint_projects, methods=["GET"]),
]
