"""Keypairs: a user's SSH keys (an admin may name another user, 2.10+); import, or generate
below 2.92."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.body import validate
from onestack.common.http import JSONResponse
from onestack.compute import errors
from onestack.compute.api import render
from onestack.compute.api.common import caller, enforce, json_object, manager, query_int
from onestack.compute.api.microversion import at_least
from onestack.compute.api.schemas import KeypairCreateBody


def _user(request: Request, asked: str | None) -> str:
    who = caller(request)
    if asked is None or not at_least(request, 2, 10):
        return who.user_id
    return asked


async def index(request: Request) -> Response:
    user_id = _user(request, request.query_params.get("user_id"))
    enforce(request, "os-keypairs:index", {"user_id": user_id})
    rows = manager(request).keypairs.list(user_id)
    marker = request.query_params.get("marker")
    if marker is not None and at_least(request, 2, 35):
        names = [r.name for r in rows]
        if marker not in names:
            raise errors.InvalidInput(f"marker [{marker}] not found")
        rows = rows[names.index(marker) + 1 :]
    limit = query_int(request, "limit") if at_least(request, 2, 35) else None
    rows = rows if limit is None else rows[:limit]
    listed = [{"keypair": render.keypair(request, r, detail=False)} for r in rows]
    return JSONResponse({"keypairs": listed})


async def show(request: Request) -> Response:
    user_id = _user(request, request.query_params.get("user_id"))
    enforce(request, "os-keypairs:show", {"user_id": user_id})
    row = manager(request).keypairs.get(user_id, request.path_params["name"])
    return JSONResponse({"keypair": render.keypair(request, row)})


async def create(request: Request) -> Response:
    body = validate(await json_object(request), KeypairCreateBody).keypair
    user_id = _user(request, body.user_id)
    enforce(request, "os-keypairs:create", {"user_id": user_id})
    if body.public_key is None and at_least(request, 2, 92):
        raise errors.InvalidInput("Invalid input for field 'public_key': a public key is required.")
    key_type = body.type if at_least(request, 2, 2) else "ssh"
    row, private = manager(request).keypairs.create(user_id, body.name, key_type, body.public_key)
    shown = render.keypair(request, row, detail=False)
    shown["user_id"] = row.user_id
    if private is not None:
        shown["private_key"] = private
    return JSONResponse({"keypair": shown}, status_code=201 if at_least(request, 2, 2) else 200)


async def delete(request: Request) -> Response:
    user_id = _user(request, request.query_params.get("user_id"))
    enforce(request, "os-keypairs:delete", {"user_id": user_id})
    manager(request).keypairs.delete(user_id, request.path_params["name"])
    return Response(status_code=204 if at_least(request, 2, 2) else 202)


routes = [
    Route("/v2.1/os-keypairs", index, methods=["GET"]),
    Route("/v2.1/os-keypairs", create, methods=["POST"]),
    Route("/v2.1/os-keypairs/{name}", show, methods=["GET"]),
    Route("/v2.1/os-keypairs/{name}", delete, methods=["DELETE"]),
]
