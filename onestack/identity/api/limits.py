"""/v3/registered_limits, /v3/limits and /v3/limits/model (Keystone's unified limits).

Bodies follow Keystone's schemas: unknown attributes are refused (400), limits are integers
from -1 (unlimited) to 2**31-1, and a batch create is all or nothing. A reader of a limit
sees it (its project's members, its domain's readers, cloud readers); listing shows only what
the caller may read.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.errors import BadRequest
from onestack.common.http import JSONResponse
from onestack.identity.api.common import (
    allowed,
    collection,
    enforce,
    manager,
    parse_body,
    self_link,
)
from onestack.identity.api.fields import Description, Envelope, Id, VisibleName
from onestack.identity.manager.limits import LimitView
from onestack.identity.models import RegisteredLimit

LimitValue = Annotated[int, Field(ge=-1, le=0x7FFFFFFF, strict=True)]
RegionId = Annotated[str, StringConstraints(min_length=1, max_length=255, strict=True)]


def _not_null(model: Envelope, names: tuple[str, ...]) -> None:
    for name in names:
        if name in model.model_fields_set and getattr(model, name) is None:
            raise ValueError(f"'{name}' cannot be null")


class RegisteredLimitCreate(Envelope):
    service_id: Id
    region_id: RegionId | None = None
    resource_name: VisibleName
    default_limit: LimitValue
    description: Description | None = None


class RegisteredLimitUpdate(Envelope):
    id: Id | None = None  # clients may echo the id; it must match the path
    service_id: Id | None = None
    region_id: RegionId | None = None
    resource_name: VisibleName | None = None
    default_limit: LimitValue | None = None
    description: Description | None = None

    @model_validator(mode="after")
    def _required_stay_set(self) -> RegisteredLimitUpdate:
        _not_null(self, ("service_id", "resource_name", "default_limit"))
        return self


class LimitCreate(Envelope):
    project_id: Id | None = None
    domain_id: Id | None = None
    service_id: Id
    region_id: RegionId | None = None
    resource_name: VisibleName
    resource_limit: LimitValue
    description: Description | None = None

    @model_validator(mode="after")
    def _one_owner(self) -> LimitCreate:
        if (self.project_id is None) == (self.domain_id is None):
            raise ValueError("exactly one of project_id and domain_id is required")
        return self


class LimitUpdate(Envelope):
    id: Id | None = None
    resource_limit: LimitValue | None = None
    description: Description | None = None

    @model_validator(mode="after")
    def _limit_stays_set(self) -> LimitUpdate:
        _not_null(self, ("resource_limit",))
        return self


class RegisteredCreateBody(Envelope):
    registered_limits: Annotated[list[RegisteredLimitCreate], Field(min_length=1)]


class RegisteredUpdateBody(Envelope):
    registered_limit: RegisteredLimitUpdate


class LimitCreateBody(Envelope):
    limits: Annotated[list[LimitCreate], Field(min_length=1)]


class LimitUpdateBody(Envelope):
    limit: LimitUpdate


def _changes(model: RegisteredLimitUpdate | LimitUpdate, path_id: str) -> dict[str, Any]:
    """The attributes to change; an id in the body must be the one in the URL."""
    changes = model.model_dump(exclude_unset=True)
    given_id = changes.pop("id", None)
    if given_id is not None and given_id != path_id:
        raise BadRequest(f"The id in the body ({given_id}) does not match the URL ({path_id}).")
    return changes


# -- registered limits -------------------------------------------------------------------


def render_registered(request: Request, row: RegisteredLimit) -> dict[str, Any]:
    return {
        "id": row.registered_limit_id,
        "service_id": row.service_id,
        "region_id": row.region_id,
        "resource_name": row.resource_name,
        "default_limit": row.default_limit,
        "description": row.description,
        "links": self_link(request, f"registered_limits/{row.registered_limit_id}"),
    }


async def list_registered_limits(request: Request) -> Response:
    enforce(request, "identity:list_registered_limits")
    query = request.query_params
    rows = manager(request).limits.list_registered(
        service_id=query.get("service_id"),
        region_id=query.get("region_id"),
        resource_name=query.get("resource_name"),
    )
    return collection(request, "registered_limits", (render_registered(request, r) for r in rows))


async def create_registered_limits(request: Request) -> Response:
    ctx = enforce(request, "identity:create_registered_limits")
    body = await parse_body(request, RegisteredCreateBody)
    items = [item.model_dump(exclude_unset=True) for item in body.registered_limits]
    rows = manager(request).limits.create_registered(ctx, items)
    rendered = [render_registered(request, row) for row in rows]
    return JSONResponse({"registered_limits": rendered}, status_code=201)


async def show_registered_limit(request: Request) -> Response:
    enforce(request, "identity:get_registered_limit")
    row = manager(request).limits.get_registered(request.path_params["registered_limit_id"])
    return JSONResponse({"registered_limit": render_registered(request, row)})


async def update_registered_limit(request: Request) -> Response:
    ctx = enforce(request, "identity:update_registered_limit")
    body = await parse_body(request, RegisteredUpdateBody)
    registered_limit_id = request.path_params["registered_limit_id"]
    changes = _changes(body.registered_limit, registered_limit_id)
    row = manager(request).limits.update_registered(ctx, registered_limit_id, changes)
    return JSONResponse({"registered_limit": render_registered(request, row)})


async def delete_registered_limit(request: Request) -> Response:
    ctx = enforce(request, "identity:delete_registered_limit")
    manager(request).limits.delete_registered(ctx, request.path_params["registered_limit_id"])
    return Response(status_code=204)


# -- limits ------------------------------------------------------------------------------


def render(request: Request, limit: LimitView) -> dict[str, Any]:
    return {
        "id": limit.limit_id,
        "project_id": limit.project_id,
        "domain_id": limit.domain_id,
        "service_id": limit.service_id,
        "region_id": limit.region_id,
        "resource_name": limit.resource_name,
        "resource_limit": limit.resource_limit,
        "description": limit.description,
        "links": self_link(request, f"limits/{limit.limit_id}"),
    }


def _target(limit: LimitView) -> dict[str, Any]:
    return {
        "limit": {
            "id": limit.limit_id,
            "project_id": limit.project_id,
            "domain_id": limit.domain_id,
            "project": {"domain_id": limit.project_domain_id},
        }
    }


async def show_limit_model(request: Request) -> Response:
    enforce(request, "identity:get_limit_model")
    return JSONResponse({"model": manager(request).limits.model()})


async def list_limits(request: Request) -> Response:
    enforce(request, "identity:list_limits")
    query = request.query_params
    found = manager(request).limits.list(
        **{
            name: query.get(name)
            for name in ("service_id", "region_id", "resource_name", "project_id", "domain_id")
        }
    )
    # Keystone's rule: the list shows the limits the caller may read, no more.
    visible = [limit for limit in found if allowed(request, "identity:get_limit", _target(limit))]
    return collection(request, "limits", (render(request, limit) for limit in visible))


async def create_limits(request: Request) -> Response:
    ctx = enforce(request, "identity:create_limits")
    body = await parse_body(request, LimitCreateBody)
    items = [item.model_dump(exclude_unset=True) for item in body.limits]
    created = manager(request).limits.create(ctx, items)
    return JSONResponse({"limits": [render(request, limit) for limit in created]}, status_code=201)


async def show_limit(request: Request) -> Response:
    limit = manager(request).limits.get(request.path_params["limit_id"])
    enforce(request, "identity:get_limit", _target(limit))
    return JSONResponse({"limit": render(request, limit)})


async def update_limit(request: Request) -> Response:
    ctx = enforce(request, "identity:update_limit")
    body = await parse_body(request, LimitUpdateBody)
    limit_id = request.path_params["limit_id"]
    changes = _changes(body.limit, limit_id)
    updated = manager(request).limits.update(ctx, limit_id, changes)
    return JSONResponse({"limit": render(request, updated)})


async def delete_limit(request: Request) -> Response:
    ctx = enforce(request, "identity:delete_limit")
    manager(request).limits.delete(ctx, request.path_params["limit_id"])
    return Response(status_code=204)


routes = [
    Route("/v3/registered_limits", list_registered_limits, methods=["GET"]),
    Route("/v3/registered_limits", create_registered_limits, methods=["POST"]),
    Route("/v3/registered_limits/{registered_limit_id}", show_registered_limit, methods=["GET"]),
    Route(
        "/v3/registered_limits/{registered_limit_id}", update_registered_limit, methods=["PATCH"]
    ),
    Route(
        "/v3/registered_limits/{registered_limit_id}", delete_registered_limit, methods=["DELETE"]
    ),
    # Before /v3/limits/{limit_id}, which would otherwise take "model" for an id.
    Route("/v3/limits/model", show_limit_model, methods=["GET"]),
    Route("/v3/limits", list_limits, methods=["GET"]),
    Route("/v3/limits", create_limits, methods=["POST"]),
    Route("/v3/limits/{limit_id}", show_limit, methods=["GET"]),
    Route("/v3/limits/{limit_id}", update_limit, methods=["PATCH"]),
    Route("/v3/limits/{limit_id}", delete_limit, methods=["DELETE"]),
]
