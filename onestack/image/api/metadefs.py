"""The metadata definitions catalog's namespaces and resource types over HTTP:
/v2/metadefs/namespaces[/{namespace}[/resource_types[/{name}]]] and /v2/metadefs/resource_types.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.image.api import metadef_render as render
from onestack.image.api.common import enforce, json_object, manager
from onestack.image.api.listing import integer
from onestack.image.manager import NamespaceQuery


def _query(request: Request) -> NamespaceQuery:
    params = request.query_params
    settings = manager(request).settings
    limit = integer(params, "limit")
    types = [t for t in params.get("resource_types", "").split(",") if t]
    return NamespaceQuery(
        visibility=params.get("visibility"),
        resource_types=types,
        limit=settings.page_size_default if limit is None else min(limit, settings.page_size_max),
        marker=params.get("marker"),
        sort_key=params.get("sort_key", "created_at"),
        sort_dir=params.get("sort_dir", "desc"),
    )


async def list_namespaces(request: Request) -> Response:
    who = enforce(request, "get_metadef_namespaces")
    query = _query(request)
    rows = manager(request).namespaces.list(who, query)
    body = {
        "namespaces": [render.namespace(row) for row in rows],
        "first": render.NAMESPACES,
        "schema": "/v2/schemas/metadefs/namespaces",
    }
    if rows and len(rows) == query.limit:
        params = {k: v for k, v in request.query_params.items() if k != "marker"}
        body["next"] = f"{render.NAMESPACES}?{urlencode({**params, 'marker': rows[-1].namespace})}"
    return JSONResponse(body)


async def create_namespace(request: Request) -> Response:
    who = enforce(request, "add_metadef_namespace")
    detail = manager(request).namespaces.create(who, await json_object(request))
    return JSONResponse(render.namespace_detail(detail), status_code=201)


async def show_namespace(request: Request) -> Response:
    who = enforce(request, "get_metadef_namespace")
    detail = manager(request).namespaces.get(who, request.path_params["namespace"])
    resource_type = request.query_params.get("resource_type")
    return JSONResponse(render.namespace_detail(detail, resource_type))


async def update_namespace(request: Request) -> Response:
    who = enforce(request, "modify_metadef_namespace")
    body = await json_object(request)
    row = manager(request).namespaces.update(who, request.path_params["namespace"], body)
    return JSONResponse(render.namespace(row))


async def delete_namespace(request: Request) -> Response:
    who = enforce(request, "delete_metadef_namespace")
    manager(request).namespaces.delete(who, request.path_params["namespace"])
    return Response(status_code=204)


async def list_resource_types(request: Request) -> Response:
    enforce(request, "list_metadef_resource_types")
    rows = manager(request).resource_types.list()
    return JSONResponse({"resource_types": [render.resource_type(row) for row in rows]})


async def list_associations(request: Request) -> Response:
    who = enforce(request, "get_metadef_resource_type")
    links = manager(request).resource_types.associations(who, request.path_params["namespace"])
    body = {"resource_type_associations": [render.association(link) for link in links]}
    return JSONResponse(body)


async def add_association(request: Request) -> Response:
    who = enforce(request, "add_metadef_resource_type_association")
    body = await json_object(request)
    namespace = request.path_params["namespace"]
    link = manager(request).resource_types.associate(who, namespace, body)
    return JSONResponse(render.association(link), status_code=201)


async def remove_association(request: Request) -> Response:
    who = enforce(request, "remove_metadef_resource_type_association")
    params = request.path_params
    manager(request).resource_types.dissociate(who, params["namespace"], params["resource_type"])
    return Response(status_code=204)


NAMESPACE = "/v2/metadefs/namespaces/{namespace}"
routes = [
    Route("/v2/metadefs/namespaces", list_namespaces, methods=["GET"]),
    Route("/v2/metadefs/namespaces", create_namespace, methods=["POST"]),
    Route(NAMESPACE, show_namespace, methods=["GET"]),
    Route(NAMESPACE, update_namespace, methods=["PUT"]),
    Route(NAMESPACE, delete_namespace, methods=["DELETE"]),
    Route(f"{NAMESPACE}/resource_types", list_associations, methods=["GET"]),
    Route(f"{NAMESPACE}/resource_types", add_association, methods=["POST"]),
    Route(f"{NAMESPACE}/resource_types/{{resource_type}}", remove_association, methods=["DELETE"]),
    Route("/v2/metadefs/resource_types", list_resource_types, methods=["GET"]),
]
