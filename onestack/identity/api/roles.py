"""/v3/roles, domain-specific roles, implied roles and /v3/role_inferences."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.identity.api.common import collection, enforce, manager, parse_body, self_link
from onestack.identity.api.fields import Attributes, Description, Envelope, Id, Name
from onestack.identity.api.versions import v3_url
from onestack.identity.manager.roles import role_domain
from onestack.identity.models import Role


class RoleFields(Attributes):
    # Keystone tolerates attributes it does not know on a role.
    description: Description | None = None
    domain_id: Id | None = None
    options: dict[str, Any] | None = None


class RoleCreate(RoleFields):
    name: Name


class RoleUpdate(RoleFields):
    name: Name | None = None


class CreateBody(Envelope):
    role: RoleCreate


class UpdateBody(Envelope):
    role: RoleUpdate


def render(request: Request, role: Role) -> dict[str, Any]:
    return {
        **role.extra,
        "id": role.role_id,
        "name": role.name,
        "domain_id": role_domain(role),
        "description": role.description,
        "options": dict(role.options or {}),
        "links": self_link(request, f"roles/{role.role_id}"),
    }


def _brief(request: Request, role: Role) -> dict[str, Any]:
    return {
        "id": role.role_id,
        "name": role.name,
        "links": self_link(request, f"roles/{role.role_id}"),
    }


def _target(role: Role) -> dict[str, Any]:
    return {"role": {"id": role.role_id, "domain_id": role_domain(role)}}


async def list_roles(request: Request) -> Response:
    domain_id = request.query_params.get("domain_id")
    enforce(request, "identity:list_roles", {"domain_id": domain_id})
    roles = manager(request).roles.list(domain_id=domain_id, name=request.query_params.get("name"))
    return collection(request, "roles", (render(request, r) for r in roles))


async def create_role(request: Request) -> Response:
    ctx = enforce(request, "identity:create_role")
    body = await parse_body(request, CreateBody)
    role = manager(request).roles.create(ctx, body.role.model_dump(exclude_unset=True))
    return JSONResponse({"role": render(request, role)}, status_code=201)


async def show_role(request: Request) -> Response:
    role = manager(request).roles.get(request.path_params["role_id"])
    enforce(request, "identity:get_role", _target(role))
    return JSONResponse({"role": render(request, role)})


async def update_role(request: Request) -> Response:
    roles = manager(request).roles
    role = roles.get(request.path_params["role_id"])
    ctx = enforce(request, "identity:update_role", _target(role))
    body = await parse_body(request, UpdateBody)
    updated = roles.update(ctx, role.role_id, body.role.model_dump(exclude_unset=True))
    return JSONResponse({"role": render(request, updated)})


async def delete_role(request: Request) -> Response:
    roles = manager(request).roles
    role = roles.get(request.path_params["role_id"])
    ctx = enforce(request, "identity:delete_role", _target(role))
    roles.delete(ctx, role.role_id)
    return Response(status_code=204)


# -- implied roles ---------------------------------------------------------------------


def _inference(request: Request, prior: Role, implied: Role) -> dict[str, Any]:
    path = f"roles/{prior.role_id}/implies/{implied.role_id}"
    return {
        "role_inference": {
            "prior_role": _brief(request, prior),
            "implies": _brief(request, implied),
        },
        "links": self_link(request, path),
    }


def _pair(request: Request) -> tuple[str, str]:
    return request.path_params["prior_role_id"], request.path_params["implied_role_id"]


async def create_implied_role(request: Request) -> Response:
    ctx = enforce(request, "identity:create_implied_role")
    prior, implied = manager(request).roles.create_implication(ctx, *_pair(request))
    return JSONResponse(_inference(request, prior, implied), status_code=201)


async def get_implied_role(request: Request) -> Response:
    enforce(request, "identity:get_implied_role")
    prior, implied = manager(request).roles.get_implication(*_pair(request))
    return JSONResponse(_inference(request, prior, implied))


async def check_implied_role(request: Request) -> Response:
    enforce(request, "identity:get_implied_role")
    manager(request).roles.get_implication(*_pair(request))
    return Response(status_code=204)


async def delete_implied_role(request: Request) -> Response:
    ctx = enforce(request, "identity:delete_implied_role")
    manager(request).roles.delete_implication(ctx, *_pair(request))
    return Response(status_code=204)


async def list_implied_roles(request: Request) -> Response:
    enforce(request, "identity:list_implied_roles")
    prior, implied = manager(request).roles.implied_by(request.path_params["prior_role_id"])
    body = {
        "role_inference": {
            "prior_role": _brief(request, prior),
            "implies": [_brief(request, role) for role in implied],
        },
        "links": self_link(request, f"roles/{prior.role_id}/implies"),
    }
    return JSONResponse(body)


async def list_role_inferences(request: Request) -> Response:
    enforce(request, "identity:list_role_inference_rules")
    rules = manager(request).roles.inferences()
    body = {
        "role_inferences": [
            {
                "prior_role": _brief(request, prior),
                "implies": [_brief(request, role) for role in implied],
            }
            for prior, implied in rules
        ],
        "links": {"self": f"{v3_url(request)}/role_inferences"},
    }
    return JSONResponse(body)


IMPLIES = "/v3/roles/{prior_role_id}/implies/{implied_role_id}"

routes = [
    Route("/v3/roles", list_roles, methods=["GET"]),
    Route("/v3/roles", create_role, methods=["POST"]),
    Route("/v3/roles/{role_id}", show_role, methods=["GET"]),
    Route("/v3/roles/{role_id}", update_role, methods=["PATCH"]),
    Route("/v3/roles/{role_id}", delete_role, methods=["DELETE"]),
    Route(IMPLIES, create_implied_role, methods=["PUT"]),
    # HEAD first: Starlette answers HEAD on a GET route too.
    Route(IMPLIES, check_implied_role, methods=["HEAD"]),
    Route(IMPLIES, get_implied_role, methods=["GET"]),
    Route(IMPLIES, delete_implied_role, methods=["DELETE"]),
    Route("/v3/roles/{prior_role_id}/implies", list_implied_roles, methods=["GET"]),
    Route("/v3/role_inferences", list_role_inferences, methods=["GET"]),
]
