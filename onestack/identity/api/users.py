"""/v3/users, /v3/users/{user_id}/groups and /v3/users/{user_id}/password.

The password change is a public route: Keystone lets a user whose password expired (and who
therefore cannot get a token) change it by proving the original password.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.auth import public
from onestack.common.http import JSONResponse
from onestack.identity.api import render
from onestack.identity.api.common import (
    allowed,
    bool_query,
    collection,
    context,
    enforce,
    manager,
    parse_body,
)
from onestack.identity.api.fields import Attributes, Envelope, VisibleName
from onestack.identity.api.paging import paged_collection
from onestack.identity.api.versions import v3_url
from onestack.identity.manager.users import parse_expiry_filter
from onestack.identity.models import User

IdString = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\w-]+$")]
Password = Annotated[str, StringConstraints(max_length=4096, strict=True)]
MfaRule = list[Annotated[str, StringConstraints(min_length=1, max_length=255)]]


class UserOptions(BaseModel):
    """Keystone's user options; any other name is refused. A null value unsets an option."""

    model_config = ConfigDict(extra="forbid", strict=True)
    ignore_change_password_upon_first_use: bool | None = None
    ignore_password_expiry: bool | None = None
    ignore_lockout_failure_attempts: bool | None = None
    lock_password: bool | None = None
    ignore_user_inactivity: bool | None = None
    multi_factor_auth_enabled: bool | None = None
    multi_factor_auth_rules: list[MfaRule] | None = None


class UserFields(Attributes):
    # Keystone keeps attributes it does not know (email, ...); so do we.
    domain_id: IdString | None = None
    enabled: bool | None = None
    password: Password | None = None
    default_project_id: IdString | None = None
    options: UserOptions | None = None


class UserCreate(UserFields):
    name: VisibleName


class UserUpdate(UserFields):
    name: VisibleName | None = None


class CreateBody(Envelope):
    user: UserCreate


class UpdateBody(Envelope):
    user: UserUpdate


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    password: Password
    original_password: Password


class PasswordBody(Envelope):
    user: PasswordChange


def target(user: User) -> dict[str, Any]:
    return {"user": {"id": user.user_id, "domain_id": user.domain_id}}


async def list_users(request: Request) -> Response:
    domain_id = request.query_params.get("domain_id")
    ctx = context(request)
    if domain_id is None and ctx.domain_id and not allowed(request, "identity:list_users", {}):
        # A domain-scoped caller who may not see the whole cloud sees their own domain.
        domain_id = ctx.domain_id
    enforce(request, "identity:list_users", {"domain_id": domain_id})
    expiry = request.query_params.get("password_expires_at")
    users = manager(request).users.list(
        name=request.query_params.get("name"),
        domain_id=domain_id,
        enabled=bool_query(request, "enabled"),
        expires=parse_expiry_filter(expiry) if expiry is not None else (),
    )
    items = (render.user(u, v3_url(request)) for u in users)
    return paged_collection(request, "users", items, manager(request).users.get)


async def create_user(request: Request) -> Response:
    body = await parse_body(request, CreateBody)
    fields = body.user.model_dump(exclude_unset=True)
    fields["domain_id"] = fields.get("domain_id") or context(request).domain_id or "default"
    ctx = enforce(request, "identity:create_user", {"user": {"domain_id": fields["domain_id"]}})
    user = await run_in_threadpool(manager(request).users.create, ctx, fields)
    return JSONResponse({"user": render.user(user, v3_url(request))}, status_code=201)


async def show_user(request: Request) -> Response:
    user = manager(request).users.get(request.path_params["user_id"])
    enforce(request, "identity:get_user", target(user))
    return JSONResponse({"user": render.user(user, v3_url(request))})


async def update_user(request: Request) -> Response:
    users = manager(request).users
    user = users.get(request.path_params["user_id"])
    ctx = enforce(request, "identity:update_user", target(user))
    body = await parse_body(request, UpdateBody)
    changes = body.user.model_dump(exclude_unset=True)
    updated = await run_in_threadpool(users.update, ctx, user.user_id, changes)
    return JSONResponse({"user": render.user(updated, v3_url(request))})


async def delete_user(request: Request) -> Response:
    users = manager(request).users
    user = users.get(request.path_params["user_id"])
    ctx = enforce(request, "identity:delete_user", target(user))
    users.delete(ctx, user.user_id)
    return Response(status_code=204)


async def list_user_groups(request: Request) -> Response:
    users = manager(request).users
    user = users.get(request.path_params["user_id"])
    enforce(request, "identity:list_groups_for_user", target(user))
    found = users.groups_of(user.user_id)
    return collection(request, "groups", (render.group(g, v3_url(request)) for g in found))


@public  # the original password is the proof
async def change_password(request: Request) -> Response:
    body = await parse_body(request, PasswordBody)
    await run_in_threadpool(
        manager(request).users.change_password,
        request.path_params["user_id"],
        body.user.original_password,
        body.user.password,
    )
    return Response(status_code=204)


routes = [
    Route("/v3/users", list_users, methods=["GET"]),
    Route("/v3/users", create_user, methods=["POST"]),
    Route("/v3/users/{user_id}", show_user, methods=["GET"]),
    Route("/v3/users/{user_id}", update_user, methods=["PATCH"]),
    Route("/v3/users/{user_id}", delete_user, methods=["DELETE"]),
    Route("/v3/users/{user_id}/groups", list_user_groups, methods=["GET"]),
    Route("/v3/users/{user_id}/password", change_password, methods=["POST"]),
]
