"""Image members over HTTP: /v2/images/{image_id}/members[/{member_id}]."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.image.api import render
from onestack.image.api.common import enforce_on_image, json_object, manager


async def list_members(request: Request) -> Response:
    who, image = enforce_on_image(request, "get_members")
    members = manager(request).members.list(who, image.image_id)
    body = {"members": [render.member(m) for m in members], "schema": "/v2/schemas/members"}
    return JSONResponse(body)


async def show_member(request: Request) -> Response:
    who, image = enforce_on_image(request, "get_member")
    member = manager(request).members.get(who, image.image_id, request.path_params["member_id"])
    return JSONResponse(render.member(member))


async def add_member(request: Request) -> Response:
    who, image = enforce_on_image(request, "add_member")
    body: dict[str, Any] = await json_object(request)
    member_id = body.get("member")
    if not isinstance(member_id, str):
        member_id = ""
    member = manager(request).members.add(who, image.image_id, member_id)
    return JSONResponse(render.member(member))


async def update_member(request: Request) -> Response:
    member_id = request.path_params["member_id"]
    who, image = enforce_on_image(request, "modify_member", member_id=member_id)
    body = await json_object(request)
    member = manager(request).members.update(who, image.image_id, member_id, body.get("status"))
    return JSONResponse(render.member(member))


async def remove_member(request: Request) -> Response:
    who, image = enforce_on_image(request, "delete_member")
    manager(request).members.remove(who, image.image_id, request.path_params["member_id"])
    return Response(status_code=204)


routes = [
    Route("/v2/images/{image_id}/members", list_members, methods=["GET"]),
    Route("/v2/images/{image_id}/members", add_member, methods=["POST"]),
    Route("/v2/images/{image_id}/members/{member_id}", show_member, methods=["GET"]),
    Route("/v2/images/{image_id}/members/{member_id}", update_member, methods=["PUT"]),
    Route("/v2/images/{image_id}/members/{member_id}", remove_member, methods=["DELETE"]),
]
