"""The five routes every Neutron collection has (list, create, show, update, delete) and the
tag routes, built from a `Collection`: one way to fetch, check policy and render for all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.body import loads, parse_body, validate
from onestack.common.http import JSONResponse
from onestack.network import errors
from onestack.network.api.common import caller, check, check_attributes, enforce, manager, resource
from onestack.network.api.listing import page, select_fields
from onestack.network.manager import NetworkManager


class TagsBody(BaseModel):
    tags: list[str]


@dataclass(frozen=True)
class Collection:
    singular: str  # "network": the body key and the policy actions' suffix
    plural: str  # "networks": the list body key
    path: str  # "networks", "security-groups"
    records: Callable[[NetworkManager], Any]  # its manager: list/get/create/update/delete
    create_body: type[BaseModel]
    update_body: type[BaseModel] | None
    module: str  # the router module, whose ...Body models describe these routes
    guarded: tuple[str, ...] = ()  # attributes with a rule of their own

    @property
    def id_param(self) -> str:
        return f"{self.singular}_id"


def routes(c: Collection) -> list[Route]:
    base = f"/v2.0/{c.path}"
    item = f"{base}/{{{c.id_param}}}"
    found = [
        Route(base, _endpoint(c, _list), methods=["GET"]),
        Route(base, _endpoint(c, _create), methods=["POST"]),
        Route(item, _endpoint(c, _show), methods=["GET"]),
        Route(item, _endpoint(c, _delete), methods=["DELETE"]),
        Route(f"{item}/tags", _endpoint(c, _tags), methods=["GET"]),
        Route(f"{item}/tags", _endpoint(c, _replace_tags), methods=["PUT"]),
        Route(f"{item}/tags", _endpoint(c, _clear_tags), methods=["DELETE"]),
        Route(f"{item}/tags/{{tag}}", _endpoint(c, _has_tag), methods=["GET"]),
        Route(f"{item}/tags/{{tag}}", _endpoint(c, _add_tag), methods=["PUT"]),
        Route(f"{item}/tags/{{tag}}", _endpoint(c, _remove_tag), methods=["DELETE"]),
    ]
    if c.update_body is not None:
        found.append(Route(item, _endpoint(c, _update), methods=["PUT"]))
    return found


Handler = Callable[[Collection, Request], Any]


def _endpoint(c: Collection, handler: Handler) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        return await handler(c, request)

    # The fuzz suite reads a route's body models from its endpoint's module.
    endpoint.__module__ = c.module
    endpoint.__name__ = f"{handler.__name__.strip('_')}_{c.singular}"
    return endpoint


async def _list(c: Collection, request: Request) -> Response:
    who = enforce(request, f"get_{c.singular}")
    items = c.records(manager(request)).list(who)
    return JSONResponse(page(request, items, c.plural))


async def _create(c: Collection, request: Request) -> Response:
    """One resource (`{"network": {...}}`), or several at once (`{"networks": [...]}`):
    all of them or, when one fails, none (those made are deleted again)."""
    document = loads(await request.body() or b"{}")
    if isinstance(document, dict) and isinstance(document.get(c.plural), list):
        bodies = [_valid(c, {c.singular: item}) for item in document[c.plural]]
        return JSONResponse({c.plural: _create_all(c, request, bodies)}, status_code=201)
    body = _valid(c, document)
    return JSONResponse({c.singular: _create_one(c, request, body)}, status_code=201)


def _valid(c: Collection, document: Any) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise errors.InvalidInput("The request body must be a JSON object.")
    parsed = validate(document, c.create_body)
    return getattr(parsed, c.singular).model_dump(exclude_unset=True, by_alias=True)


def _create_one(c: Collection, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    who = caller(request)
    project = body.get("project_id") or body.get("tenant_id") or who.project_id
    check(request, who, f"create_{c.singular}", {**body, "project_id": project})
    check_attributes(request, who, f"create_{c.singular}", body, c.guarded)
    return c.records(manager(request)).create(who, body)


def _create_all(
    c: Collection, request: Request, bodies: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    made: list[dict[str, Any]] = []
    try:
        for body in bodies:
            made.append(_create_one(c, request, body))
    except Exception:
        for item in reversed(made):
            c.records(manager(request)).delete(caller(request), item["id"])
        raise
    return made


async def _fetch(c: Collection, request: Request, action: str) -> tuple[Any, dict[str, Any]]:
    """The caller and the resource in the path: 404 if invisible, then 403 by policy."""
    who = caller(request)
    item = c.records(manager(request)).get(who, request.path_params[c.id_param])
    check(request, who, f"{action}_{c.singular}", item)
    return who, item


async def _show(c: Collection, request: Request) -> Response:
    _, item = await _fetch(c, request, "get")
    fields = request.query_params.getlist("fields")
    return JSONResponse({c.singular: select_fields(item, fields)})


async def _update(c: Collection, request: Request) -> Response:
    assert c.update_body is not None
    changes = await resource(request, c.update_body, c.singular)
    who, item = await _fetch(c, request, "update")
    check_attributes(request, who, f"update_{c.singular}", changes, c.guarded)
    updated = c.records(manager(request)).update(who, item["id"], changes)
    return JSONResponse({c.singular: updated})


async def _delete(c: Collection, request: Request) -> Response:
    who, item = await _fetch(c, request, "delete")
    c.records(manager(request)).delete(who, item["id"])
    return Response(status_code=204)


async def _tags(c: Collection, request: Request) -> Response:
    _, item = await _fetch(c, request, "get")
    return JSONResponse({"tags": manager(request).tags.list(item["id"])})


async def _replace_tags(c: Collection, request: Request) -> Response:
    body = await parse_body(request, TagsBody)
    _, item = await _fetch(c, request, "update")
    return JSONResponse({"tags": manager(request).tags.replace(item["id"], body.tags)})


async def _clear_tags(c: Collection, request: Request) -> Response:
    _, item = await _fetch(c, request, "update")
    manager(request).tags.replace(item["id"], [])
    return Response(status_code=204)


async def _has_tag(c: Collection, request: Request) -> Response:
    _, item = await _fetch(c, request, "get")
    tag = request.path_params["tag"]
    if not manager(request).tags.has(item["id"], tag):
        raise errors.TagNotFound(item["id"], tag)
    return Response(status_code=204)


async def _add_tag(c: Collection, request: Request) -> Response:
    _, item = await _fetch(c, request, "update")
    manager(request).tags.add(item["id"], request.path_params["tag"])
    return Response(status_code=201)


async def _remove_tag(c: Collection, request: Request) -> Response:
    _, item = await _fetch(c, request, "update")
    manager(request).tags.remove(item["id"], request.path_params["tag"])
    return Response(status_code=204)
