"""A metadef namespace's objects, property definitions and tags over HTTP:
/v2/metadefs/namespaces/{namespace}/{objects,properties,tags}[/{name}].

The three share their handlers; what differs is how a body becomes a name and a stored
definition, and how an item is rendered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.image.api import metadef_render as render
from onestack.image.api.common import enforce, json_object, manager
from onestack.image.api.metadefs import NAMESPACE
from onestack.image.manager import metadef_docs as docs
from onestack.image.models import MetadefItem


def _object_body(body: dict[str, Any], name: str | None) -> tuple[str, dict[str, Any]]:
    return docs.metadef_object(body)


def _property_body(body: dict[str, Any], name: str | None) -> tuple[str, dict[str, Any]]:
    return docs.name(body.get("name"), "name", 80), docs.property_schema(body)


def _tag_body(body: dict[str, Any], name: str | None) -> tuple[str, dict[str, Any]]:
    # A tag is created from its path (no body); renamed by {"name": ...}.
    return docs.name(body.get("name", name), "name"), {}


class Kind:
    """How one kind of item reads, renders and is named in policy and URLs."""

    def __init__(
        self,
        kind: str,
        plural: str,
        parse: Callable[[dict[str, Any], str | None], tuple[str, dict[str, Any]]],
        show: Callable[[str, MetadefItem], dict[str, Any]],
    ) -> None:
        self.kind, self.plural, self.parse, self.show = kind, plural, parse, show


OBJECT = Kind("object", "objects", _object_body, render.metadef_object)
PROPERTY = Kind("property", "properties", _property_body, lambda _, i: render.metadef_property(i))
TAG = Kind("tag", "tags", _tag_body, lambda _, i: render.tag(i))


def _listed(kind: Kind, namespace: str, items: list[MetadefItem]) -> dict[str, Any]:
    if kind is PROPERTY:
        shown = {item.name: render.metadef_property(item) for item in items}
        for value in shown.values():
            value.pop("name")
        return {"properties": shown, "schema": "/v2/schemas/metadefs/properties"}
    if kind is TAG:
        return {"tags": [{"name": item.name} for item in items]}
    body = [kind.show(namespace, item) for item in items]
    return {"objects": body, "schema": "v2/schemas/metadefs/objects"}


def handlers(kind: Kind) -> list[Route]:
    """The routes of one kind of item."""
    singular = "property" if kind is PROPERTY else kind.kind
    removal = "remove" if kind is PROPERTY else "delete"

    async def list_items(request: Request) -> Response:
        who = enforce(request, f"get_metadef_{kind.plural}")
        namespace = request.path_params["namespace"]
        items = manager(request).metadef_items.list(who, namespace, kind.kind)
        return JSONResponse(_listed(kind, namespace, items))

    async def create(request: Request) -> Response:
        who = enforce(request, f"add_metadef_{singular}")
        namespace = request.path_params["namespace"]
        body = {} if kind is TAG else await json_object(request)
        name, stored = kind.parse(body, request.path_params.get("name"))
        item = manager(request).metadef_items.create(who, namespace, kind.kind, name, stored)
        return JSONResponse(kind.show(namespace, item), status_code=201)

    async def show(request: Request) -> Response:
        who = enforce(request, f"get_metadef_{singular}")
        params = request.path_params
        item = manager(request).metadef_items.get(
            who, params["namespace"], kind.kind, params["name"]
        )
        return JSONResponse(kind.show(params["namespace"], item))

    async def update(request: Request) -> Response:
        who = enforce(request, f"modify_metadef_{singular}")
        params = request.path_params
        new = kind.parse(await json_object(request), None)
        item = manager(request).metadef_items.update(
            who, params["namespace"], kind.kind, params["name"], new
        )
        return JSONResponse(kind.show(params["namespace"], item))

    async def delete(request: Request) -> Response:
        who = enforce(request, f"{removal}_metadef_{singular}")
        params = request.path_params
        manager(request).metadef_items.delete(who, params["namespace"], kind.kind, params["name"])
        return Response(status_code=204)

    async def delete_all(request: Request) -> Response:
        # Glance guards the bulk deletes with the namespace's own rule (tags have their own).
        action = "delete_metadef_tags" if kind is TAG else "modify_metadef_namespace"
        who = enforce(request, action)
        manager(request).metadef_items.delete_all(who, request.path_params["namespace"], kind.kind)
        return Response(status_code=204)

    base = f"{NAMESPACE}/{kind.plural}"
    item = f"{base}/{{name}}"
    routes = [
        Route(base, list_items, methods=["GET"]),
        Route(base, delete_all, methods=["DELETE"]),
        Route(item, show, methods=["GET"]),
        Route(item, update, methods=["PUT"]),
        Route(item, delete, methods=["DELETE"]),
    ]
    # Objects and properties are created by POSTing to the collection, a tag at its own URL
    # (the collection's POST is the bulk create).
    routes.append(
        Route(item, create, methods=["POST"])
        if kind is TAG
        else Route(base, create, methods=["POST"])
    )
    return routes


async def create_tags(request: Request) -> Response:
    """Bulk create: the namespace's tags become these (or gain them, X-Openstack-Append)."""
    who = enforce(request, "add_metadef_tags")
    names = docs.tag_names(await json_object(request))
    append = request.headers.get("x-openstack-append", "").lower() == "true"
    namespace = request.path_params["namespace"]
    tags = manager(request).metadef_items.set_tags(who, namespace, names, append)
    return JSONResponse({"tags": [{"name": tag.name} for tag in tags]}, status_code=201)


routes = [
    *handlers(OBJECT),
    *handlers(PROPERTY),
    *handlers(TAG),
    Route(f"{NAMESPACE}/tags", create_tags, methods=["POST"]),
]
