"""Allocations over HTTP: /allocations/{consumer_uuid} (GET, PUT, DELETE), POST /allocations
(1.13, several consumers at once) and /resource_providers/{uuid}/allocations."""

from __future__ import annotations

import uuid as uuids
from typing import Any

from pydantic import RootModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.placement import errors
from onestack.placement.api.common import at_least, body, enforce, manager, require
from onestack.placement.api.schemas import AllocationsBody, AllocationsListBody, Uuid
from onestack.placement.manager import UNSET, ConsumerAllocations, Unset
from onestack.placement.manager import Request as Claim


class ManyAllocationsBody(RootModel[dict[Uuid, AllocationsBody]]):
    """POST /allocations: {consumer uuid: the body of PUT /allocations/{consumer}}."""


def _render(request: Request, found: ConsumerAllocations) -> dict[str, Any]:
    body: dict[str, Any] = {
        "allocations": {
            uuid: {"generation": found.generations[uuid], "resources": resources}
            for uuid, resources in found.allocations.items()
        }
    }
    if at_least(request, 12) and found.project_id is not None:
        body["project_id"] = found.project_id
        body["user_id"] = found.user_id
    if at_least(request, 28):
        body["consumer_generation"] = found.consumer_generation
    if at_least(request, 38) and found.consumer_generation is not None:
        body["consumer_type"] = found.consumer_type or "unknown"
    return body


async def show_allocations(request: Request) -> Response:
    enforce(request, "allocations:list")
    found = manager(request).allocations.get(request.path_params["consumer_uuid"])
    return JSONResponse(_render(request, found))


def _claim(request: Request, consumer_id: str, data: AllocationsBody) -> Claim:
    """The manager's request for one consumer's new allocations, by microversion."""
    if not at_least(request, 26) and not any(r.resources for r in data.allocations.values()):
        raise errors.InvalidRequest("JSON does not validate: allocations must not be empty.")
    generation: int | Unset | None = UNSET
    if at_least(request, 28):
        if "consumer_generation" not in data.model_fields_set:
            raise errors.InvalidRequest(
                "JSON does not validate: 'consumer_generation' is a required property"
            )
        generation = data.consumer_generation
    if at_least(request, 38) and data.consumer_type is None:
        raise errors.InvalidRequest(
            "JSON does not validate: 'consumer_type' is a required property"
        )
    amounts = {uuid: dict(r.resources) for uuid, r in data.allocations.items()}
    return Claim(
        consumer_id,
        amounts,
        data.project_id,
        data.user_id,
        generation,
        data.consumer_type if at_least(request, 38) else None,
    )


async def _legacy_claim(request: Request, consumer_id: str) -> Claim:
    """Before 1.12 the body is a list; project and user are required from 1.8."""
    data = await body(request, AllocationsListBody)
    if at_least(request, 8) and (data.project_id is None or data.user_id is None):
        raise errors.InvalidRequest("JSON does not validate: project_id and user_id are required.")
    amounts: dict[str, dict[str, int]] = {}
    for item in data.allocations:
        amounts.setdefault(item.resource_provider.uuid, {}).update(item.resources)
    return Claim(consumer_id, amounts, data.project_id or "", data.user_id or "")


def _consumer_id(request: Request) -> str:
    """The consumer uuid of the path, canonical; 400 when it is no uuid."""
    try:
        return str(uuids.UUID(request.path_params["consumer_uuid"]))
    except ValueError:
        raise errors.InvalidRequest("Malformed consumer_uuid.") from None


async def replace_allocations(request: Request) -> Response:
    enforce(request, "allocations:update")
    consumer_id = _consumer_id(request)
    if at_least(request, 12):
        claim = _claim(request, consumer_id, await body(request, AllocationsBody))
    else:
        claim = await _legacy_claim(request, consumer_id)
    manager(request).allocations.replace([claim])
    return Response(status_code=204)


async def replace_many(request: Request) -> Response:
    require(request, 13)
    enforce(request, "allocations:manage")
    data = await body(request, ManyAllocationsBody)
    claims = [
        _claim(request, str(uuids.UUID(consumer)), item) for consumer, item in data.root.items()
    ]
    manager(request).allocations.replace(claims)
    return Response(status_code=204)


async def delete_allocations(request: Request) -> Response:
    enforce(request, "allocations:delete")
    consumer_id = request.path_params["consumer_uuid"]
    if not manager(request).allocations.delete(consumer_id):
        raise errors.PlacementNotFound(f"No allocations for consumer '{consumer_id}'")
    return Response(status_code=204)


async def provider_allocations(request: Request) -> Response:
    enforce(request, "resource_providers:allocations:list")
    generation, held = manager(request).allocations.on_provider(request.path_params["uuid"])
    return JSONResponse(
        {
            "allocations": {consumer: {"resources": r} for consumer, r in held.items()},
            "resource_provider_generation": generation,
        }
    )


routes = [
    Route("/allocations", replace_many, methods=["POST"]),
    Route("/allocations/{consumer_uuid}", show_allocations, methods=["GET"]),
    Route("/allocations/{consumer_uuid}", replace_allocations, methods=["PUT"]),
    Route("/allocations/{consumer_uuid}", delete_allocations, methods=["DELETE"]),
    Route("/resource_providers/{uuid}/allocations", provider_allocations, methods=["GET"]),
]
