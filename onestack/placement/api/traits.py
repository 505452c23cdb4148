"""Traits over HTTP (from microversion 1.6): /traits[/{trait}] and
/resource_providers/{uuid}/traits."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.placement import errors
from onestack.placement.api.common import base_path, body, enforce, manager, query_value, require
from onestack.placement.api.schemas import ProviderTraitsBody


def _name_filter(text: str | None) -> tuple[list[str] | None, str | None]:
    """`in:A,B` or `startswith:CUSTOM_` as (names, prefix)."""
    if text is None:
        return None, None
    if text.startswith("in:"):
        return [n for n in text[3:].split(",") if n], None
    if text.startswith("startswith:"):
        return None, text[len("startswith:") :]
    raise errors.BadQuery(
        f"Badly formatted name parameter. Expected 'in:' or 'startswith:': {text}"
    )


def _associated(text: str | None) -> bool | None:
    if text is None:
        return None
    if text.lower() not in ("true", "false"):
        raise errors.BadQuery(f"Invalid value for 'associated': {text}; expected true or false.")
    return text.lower() == "true"


async def list_traits(request: Request) -> Response:
    require(request, 6)
    enforce(request, "traits:list")
    unknown = set(request.query_params) - {"name", "associated"}
    if unknown:
        raise errors.BadQuery(f"Invalid query string parameters: {', '.join(sorted(unknown))}")
    names, prefix = _name_filter(query_value(request, "name"))
    associated = _associated(query_value(request, "associated"))
    return JSONResponse({"traits": manager(request).traits.list(names, prefix, associated)})


async def show_trait(request: Request) -> Response:
    require(request, 6)
    enforce(request, "traits:show")
    name = request.path_params["trait"]
    if not manager(request).traits.exists(name):
        raise errors.TraitNotFound(name)
    return Response(status_code=204)


async def ensure_trait(request: Request) -> Response:
    require(request, 6)
    enforce(request, "traits:update")
    name = request.path_params["trait"]
    created = manager(request).traits.ensure(name)
    location = {"location": f"{base_path(request)}/traits/{name}"}
    return Response(status_code=201 if created else 204, headers=location)


async def delete_trait(request: Request) -> Response:
    require(request, 6)
    enforce(request, "traits:delete")
    manager(request).traits.delete(request.path_params["trait"])
    return Response(status_code=204)


def _provider_traits(generation: int, names: list[str]) -> dict[str, object]:
    return {"traits": names, "resource_provider_generation": generation}


async def list_provider_traits(request: Request) -> Response:
    require(request, 6)
    enforce(request, "resource_providers:traits:list")
    return JSONResponse(
        _provider_traits(*manager(request).traits.of_provider(request.path_params["uuid"]))
    )


async def replace_provider_traits(request: Request) -> Response:
    require(request, 6)
    enforce(request, "resource_providers:traits:update")
    uuid = request.path_params["uuid"]
    manager(request).providers.get(uuid)  # 404 before the body's 400
    data = await body(request, ProviderTraitsBody)
    traits = manager(request).traits
    traits.set_on_provider(uuid, data.resource_provider_generation, data.traits)
    return JSONResponse(_provider_traits(*traits.of_provider(uuid)))


async def delete_provider_traits(request: Request) -> Response:
    require(request, 6)
    enforce(request, "resource_providers:traits:delete")
    uuid = request.path_params["uuid"]
    traits = manager(request).traits
    traits.set_on_provider(uuid, traits.of_provider(uuid)[0], [])
    return Response(status_code=204)


PROVIDER_PATH = "/resource_providers/{uuid}/traits"
routes = [
    Route("/traits", list_traits, methods=["GET"]),
    Route("/traits/{trait}", show_trait, methods=["GET"]),
    Route("/traits/{trait}", ensure_trait, methods=["PUT"]),
    Route("/traits/{trait}", delete_trait, methods=["DELETE"]),
    Route(PROVIDER_PATH, list_provider_traits, methods=["GET"]),
    Route(PROVIDER_PATH, replace_provider_traits, methods=["PUT"]),
    Route(PROVIDER_PATH, delete_provider_traits, methods=["DELETE"]),
]
