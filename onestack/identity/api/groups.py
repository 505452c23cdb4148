"""/v3/groups, /v3/groups/{group_id} and membership: /v3/groups/{group_id}/users[/{user_id}]."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.identity.api import render
from onestack.identity.api.common import (
    allowed,
    collection,
    context,
    enforce,
    manager,
    parse_body,
)
from onestack.identity.api.fields import Attributes, Description, Envelope, VisibleName
from onestack.identity.api.paging import paged_collection
from onestack.identity.api.versions import v3_url
from onestack.identity.manager.users import parse_expiry_filter
from onestack.identity.models import Group

IdString = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\w-]+$")]


class GroupFields(Attributes):
    # Keystone keeps attributes it does not know; so do we (they come back on read).
    description: Description | None = None


class GroupCreate(GroupFields):
    name: VisibleName
    domain_id: IdString | None = None


class GroupUpdate(GroupFields):
    name: VisibleName | None = None


class CreateBody(Envelope):
    group: GroupCreate


class UpdateBody(Envelope):
    group: GroupUpdate


def target(group: Group) -> dict[str, Any]:
    return {"group": {"id": group.group_id, "domain_id": group.domain_id}}


async def list_groups(request: Request) -> Response:
    domain_id = request.query_params.get("domain_id")
    ctx = context(request)
    if domain_id is None and ctx.domain_id and not allowed(request, "identity:list_groups", {}):
        domain_id = ctx.domain_id
    enforce(request, "identity:list_groups", {"domain_id": domain_id})
    found = manager(request).groups.list(name=request.query_params.get("name"), domain_id=domain_id)
    items = (render.group(g, v3_url(request)) for g in found)
    return paged_collection(request, "groups", items, manager(request).groups.get)


async def create_group(request: Request) -> Response:
    body = await parse_body(request, CreateBody)
    fields = body.group.model_dump(exclude_unset=True)
    fields["domain_id"] = fields.get("domain_id") or context(request).domain_id or "default"
    ctx = enforce(request, "identity:create_group", {"group": {"domain_id": fields["domain_id"]}})
    group = manager(request).groups.create(ctx, fields)
    return JSONResponse({"group": render.group(group, v3_url(request))}, status_code=201)


async def show_group(request: Request) -> Response:
    group = manager(request).groups.get(request.path_params["group_id"])
    enforce(request, "identity:get_group", target(group))
    return JSONResponse({"group": render.group(group, v3_url(request))})


async def update_group(request: Request) -> Response:
    groups = manager(request).groups
    group = groups.get(request.path_params["group_id"])
    ctx = enforce(request, "identity:update_group", target(group))
    body = await parse_body(request, UpdateBody)
    updated = groups.update(ctx, group.group_id, body.group.model_dump(exclude_unset=True))
    return JSONResponse({"group": render.group(updated, v3_url(request))})


async def delete_group(request: Request) -> Response:
    groups = manager(request).groups
    group = groups.get(request.path_params["group_id"])
    ctx = enforce(request, "identity:delete_group", target(group))
    groups.delete(ctx, group.group_id)
    return Response(status_code=204)


async def list_members(request: Request) -> Response:
    groups = manager(request).groups
    group = groups.get(request.path_params["group_id"])
    enforce(request, "identity:list_users_in_group", target(group))
    expiry = request.query_params.get("password_expires_at")
    members = groups.members(
        group.group_id, parse_expiry_filter(expiry) if expiry is not None else ()
    )
    return collection(request, "users", (render.user(u, v3_url(request)) for u in members))


def _membership_target(request: Request) -> tuple[Group, dict[str, Any]]:
    """The group and the user of a membership URL (404 if either is unknown) as a target."""
    group = manager(request).groups.get(request.path_params["group_id"])
    user = manager(request).users.get(request.path_params["user_id"])
    return group, {
        "group": {"id": group.group_id, "domain_id": group.domain_id},
        "user": {"id": user.user_id, "domain_id": user.domain_id},
    }


async def add_member(request: Request) -> Response:
    group, found = _membership_target(request)
    ctx = enforce(request, "identity:add_user_to_group", found)
    manager(request).groups.add_member(ctx, group.group_id, found["user"]["id"])
    return Response(status_code=204)


async def check_member(request: Request) -> Response:
    group, found = _membership_target(request)
    enforce(request, "identity:check_user_in_group", found)
    manager(request).groups.check_member(group.group_id, found["user"]["id"])
    return Response(status_code=204)


async def remove_member(request: Request) -> Response:
    group, found = _membership_target(request)
    ctx = enforce(request, "identity:remove_user_from_group", found)
    manager(request).groups.remove_member(ctx, group.group_id, found["user"]["id"])
    return Response(status_code=204)


routes = [
    Route("/v3/groups", list_groups, methods=["GET"]),
    Route("/v3/groups", create_group, methods=["POST"]),
    Route("/v3/groups/{group_id}", show_group, methods=["GET"]),
    Route("/v3/groups/{group_id}", update_group, methods=["PATCH"]),
    Route("/v3/groups/{group_id}", delete_group, methods=["DELETE"]),
    Route("/v3/groups/{group_id}/users", list_members, methods=["GET"]),
    Route("/v3/groups/{group_id}/users/{user_id}", add_member, methods=["PUT"]),
    Route("/v3/groups/{group_id}/users/{user_id}", check_member, methods=["HEAD"]),
    # HEAD first: a GET route would answer HEAD too.
    Route("/v3/groups/{group_id}/users/{user_id}", check_member, methods=["GET"]),
    Route("/v3/groups/{group_id}/users/{user_id}", remove_member, methods=["DELETE"]),
]
