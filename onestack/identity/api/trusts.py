"""/v3/OS-TRUST/trusts: a trustor delegates roles on a project to a trustee.

Only the trustor creates a trust (a redelegation with a trust-scoped token whose trust allows
it); trustor and trustee read it and its roles; the trustor or the cloud admin deletes it.
Listing everything is for cloud readers; anyone may list the trusts where they are trustor
or trustee.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.identity import errors
from onestack.identity.api.common import caller, collection, enforce, manager, parse_body
from onestack.identity.api.common import self_link as link
from onestack.identity.api.fields import Attributes, Envelope, Id, Name, timestamp_field
from onestack.identity.manager.app_credentials import RoleRequest
from onestack.identity.manager.trusts import TrustRequest, TrustView

Timestamp = Annotated[str, StringConstraints(max_length=64, strict=True)]


class RoleRef(Envelope):
    id: Id | None = None
    name: Name | None = None
    domain_id: Id | None = None

    @model_validator(mode="after")
    def _named(self) -> RoleRef:
        if not (self.id or self.name):
            raise ValueError("a role needs an id or a name")
        return self


class TrustFields(Attributes):
    trustor_user_id: Id
    trustee_user_id: Id
    impersonation: bool
    project_id: Id | None = None
    roles: list[RoleRef] | None = None
    expires_at: Timestamp | None = None
    remaining_uses: int | None = None
    allow_redelegation: bool = False
    redelegation_count: Annotated[int, Field(ge=0)] | None = None


class CreateBody(Envelope):
    trust: TrustFields


def _to_request(fields: TrustFields) -> TrustRequest:
    known = set(TrustFields.model_fields)
    return TrustRequest(
        trustor_user_id=fields.trustor_user_id,
        trustee_user_id=fields.trustee_user_id,
        impersonation=fields.impersonation,
        project_id=fields.project_id,
        expires_at=timestamp_field(fields.expires_at, "trust.expires_at"),
        remaining_uses=fields.remaining_uses,
        allow_redelegation=fields.allow_redelegation,
        redelegation_count=fields.redelegation_count,
        roles=tuple(RoleRequest(role_id=r.id, name=r.name) for r in fields.roles or ()),
        extra={k: v for k, v in (fields.model_extra or {}).items() if k not in known},
    )


def _role(request: Request, role_id: str, name: str) -> dict[str, Any]:
    return {
        "id": role_id,
        "name": name,
        "domain_id": None,
        "links": link(request, f"roles/{role_id}"),
    }


def render(request: Request, view: TrustView) -> dict[str, Any]:
    trust = view.trust
    path = f"OS-TRUST/trusts/{trust.trust_id}"
    expires = trust.expires_at
    return {
        **trust.extra,
        "id": trust.trust_id,
        "trustor_user_id": trust.trustor_user_id,
        "trustee_user_id": trust.trustee_user_id,
        "project_id": trust.project_id,
        "impersonation": trust.impersonation,
        "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if expires else None,
        "remaining_uses": trust.remaining_uses,
        "allow_redelegation": trust.allow_redelegation,
        "redelegation_count": trust.redelegation_count,
        "redelegated_trust_id": trust.redelegated_trust_id,
        "roles": [_role(request, r.ref_id, r.name) for r in view.roles],
        "roles_links": {
            "self": link(request, f"{path}/roles")["self"],
            "next": None,
            "previous": None,
        },
        "links": link(request, path),
    }


def _target(view: TrustView) -> dict[str, Any]:
    trust = view.trust
    return {
        "trust": {
            "trustor_user_id": trust.trustor_user_id,
            "trustee_user_id": trust.trustee_user_id,
        }
    }


async def create_trust(request: Request) -> Response:
    body = await parse_body(request, CreateBody)
    target = {"trust": {"trustor_user_id": body.trust.trustor_user_id}}
    ctx = enforce(request, "identity:create_trust", target)
    token = caller(request)
    parent_id = token.trust.ref_id if token.trust is not None else None
    view = manager(request).trusts.create(ctx, _to_request(body.trust), parent_id)
    return JSONResponse({"trust": render(request, view)}, status_code=201)


async def list_trusts(request: Request) -> Response:
    query = request.query_params
    trustor, trustee = query.get("trustor_user_id"), query.get("trustee_user_id")
    if trustor is not None:
        enforce(
            request, "identity:list_trusts_for_trustor", {"trust": {"trustor_user_id": trustor}}
        )
    if trustee is not None:
        enforce(
            request, "identity:list_trusts_for_trustee", {"trust": {"trustee_user_id": trustee}}
        )
    if trustor is None and trustee is None:
        enforce(request, "identity:list_trusts")
    found = manager(request).trusts.list(trustor_user_id=trustor, trustee_user_id=trustee)
    return collection(request, "trusts", (render(request, view) for view in found))


def _visible(request: Request, action: str) -> TrustView:
    view = manager(request).trusts.get(request.path_params["trust_id"])
    enforce(request, action, _target(view))
    return view


async def show_trust(request: Request) -> Response:
    return JSONResponse({"trust": render(request, _visible(request, "identity:get_trust"))})


async def delete_trust(request: Request) -> Response:
    view = manager(request).trusts.get(request.path_params["trust_id"])
    ctx = enforce(request, "identity:delete_trust", _target(view))
    manager(request).trusts.delete(ctx, view.trust.trust_id)
    return Response(status_code=204)


async def list_trust_roles(request: Request) -> Response:
    view = _visible(request, "identity:list_roles_for_trust")
    roles = [_role(request, r.ref_id, r.name) for r in view.roles]
    return collection(request, "roles", roles)


async def show_trust_role(request: Request) -> Response:
    view = _visible(request, "identity:get_role_for_trust")
    role_id = request.path_params["role_id"]
    found = [r for r in view.roles if r.ref_id == role_id]
    if not found:
        raise errors.RoleNotFound(role_id)
    if request.method == "HEAD":
        return Response(status_code=200)
    return JSONResponse({"role": _role(request, found[0].ref_id, found[0].name)})


routes = [
    Route("/v3/OS-TRUST/trusts", create_trust, methods=["POST"]),
    Route("/v3/OS-TRUST/trusts", list_trusts, methods=["GET"]),
    Route("/v3/OS-TRUST/trusts/{trust_id}", show_trust, methods=["GET"]),
    Route("/v3/OS-TRUST/trusts/{trust_id}", delete_trust, methods=["DELETE"]),
    Route("/v3/OS-TRUST/trusts/{trust_id}/roles", list_trust_roles, methods=["GET"]),
    Route(
        "/v3/OS-TRUST/trusts/{trust_id}/roles/{role_id}", show_trust_role, methods=["GET", "HEAD"]
    ),
]
