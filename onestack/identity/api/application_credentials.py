"""/v3/users/{user_id}/application_credentials and /v3/users/{user_id}/access_rules.

Only the user themselves, with a project-scoped token, creates a credential (for that project);
a token obtained with a restricted application credential may neither create nor delete one.
The cloud admin may read and delete anyone's credentials and access rules.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import StringConstraints, model_validator
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.http import JSONResponse
from onestack.identity import errors
from onestack.identity.api.common import caller, collection, enforce, manager, parse_body
from onestack.identity.api.common import self_link as link
from onestack.identity.api.fields import Description, Envelope, Id, Name, timestamp_field
from onestack.identity.manager import TokenView
from onestack.identity.manager.access_rules import AccessRuleRequest, AccessRuleView
from onestack.identity.manager.app_credentials import AppCredCreate, AppCredView, RoleRequest

Secret = Annotated[str, StringConstraints(max_length=4096, strict=True)]
RulePath = Annotated[str, StringConstraints(max_length=225, pattern=r"^/", strict=True)]


class RoleRef(Envelope):
    id: Id | None = None
    name: Name | None = None
    domain_id: Id | None = None  # as a role is shown; roles are looked up globally

    @model_validator(mode="after")
    def _named(self) -> RoleRef:
        if not (self.id or self.name):
            raise ValueError("a role needs an id or a name")
        return self


class AccessRule(Envelope):
    """An existing rule by id, or a rule by its three parts."""

    id: Id | None = None
    path: RulePath | None = None
    method: Literal["POST", "GET", "HEAD", "PATCH", "PUT", "DELETE"] | None = None
    service: Id | None = None

    @model_validator(mode="after")
    def _complete(self) -> AccessRule:
        if self.id is None and None in (self.path, self.method, self.service):
            raise ValueError("an access rule needs an id, or a service, a method and a path")
        return self

    def to_request(self) -> AccessRuleRequest:
        return AccessRuleRequest(self.id, self.service, self.method, self.path)


class AppCredFields(Envelope):
    name: Name
    description: Description | None = None
    secret: Secret | None = None
    expires_at: Annotated[str, StringConstraints(max_length=64, strict=True)] | None = None
    roles: list[RoleRef] | None = None
    unrestricted: bool | None = None
    access_rules: list[AccessRule] | None = None


class CreateBody(Envelope):
    application_credential: AppCredFields


def _to_create(fields: AppCredFields) -> AppCredCreate:
    return AppCredCreate(
        name=fields.name,
        description=fields.description,
        secret=fields.secret or None,
        expires_at=timestamp_field(fields.expires_at, "application_credential.expires_at"),
        roles=tuple(RoleRequest(role_id=r.id, name=r.name) for r in fields.roles or ()),
        unrestricted=bool(fields.unrestricted),
        access_rules=tuple(rule.to_request() for rule in fields.access_rules or ()),
    )


def render(request: Request, credential: AppCredView) -> dict[str, Any]:
    expires_at = credential.expires_at
    body: dict[str, Any] = {
        "id": credential.app_cred_id,
        "name": credential.name,
        "description": credential.description,
        "expires_at": expires_at.strftime("%Y-%m-%dT%H:%M:%S.%f") if expires_at else None,
        "project_id": credential.project_id,
        "roles": [{"id": r.ref_id, "name": r.name, "domain_id": None} for r in credential.roles],
        "unrestricted": credential.unrestricted,
        "access_rules": [dict(rule) for rule in credential.access_rules],
        "links": link(
            request,
            f"users/{credential.user_id}/application_credentials/{credential.app_cred_id}",
        ),
    }
    if credential.secret is not None:
        body["secret"] = credential.secret  # shown this once: only its hash is kept
    return body


def _target(user_id: str) -> dict[str, Any]:
    return {"user": {"id": user_id}}


def _refuse_restricted(me: TokenView) -> None:
    """A restricted credential must not mint more credentials (that would outlive it)."""
    credential = me.application_credential
    if credential is not None and not credential.unrestricted:
        raise errors.ActionForbidden(
            "Using method 'application_credential' is not allowed for managing additional "
            "application credentials."
        )


async def list_app_creds(request: Request) -> Response:
    user_id = request.path_params["user_id"]
    enforce(request, "identity:list_application_credentials", _target(user_id))
    name = request.query_params.get("name")
    found = manager(request).app_credentials.list(user_id, name=name)
    return collection(request, "application_credentials", (render(request, c) for c in found))


async def create_app_cred(request: Request) -> Response:
    user_id = request.path_params["user_id"]
    ctx = enforce(request, "identity:create_application_credential", _target(user_id))
    body = await parse_body(request, CreateBody)
    me = caller(request)
    _refuse_restricted(me)
    if me.user.ref_id != user_id:
        raise errors.ActionForbidden("Cannot create an application credential for another user.")
    if me.project is None:
        raise errors.ActionForbidden(
            "An application credential is created with a project-scoped token, for its project."
        )
    create = _to_create(body.application_credential)
    # The secret is hashed (~150 ms of CPU): keep it off the event loop.
    credential = await run_in_threadpool(
        manager(request).app_credentials.create, ctx, user_id, me.project.ref_id, me.roles, create
    )
    return JSONResponse({"application_credential": render(request, credential)}, status_code=201)


async def show_app_cred(request: Request) -> Response:
    user_id = request.path_params["user_id"]
    enforce(request, "identity:get_application_credential", _target(user_id))
    credential = manager(request).app_credentials.get(
        user_id, request.path_params["application_credential_id"]
    )
    return JSONResponse({"application_credential": render(request, credential)})


async def delete_app_cred(request: Request) -> Response:
    user_id = request.path_params["user_id"]
    ctx = enforce(request, "identity:delete_application_credential", _target(user_id))
    _refuse_restricted(caller(request))
    manager(request).app_credentials.delete(
        ctx, user_id, request.path_params["application_credential_id"]
    )
    return Response(status_code=204)


def render_rule(request: Request, rule: AccessRuleView) -> dict[str, Any]:
    return {
        **rule.as_dict(),
        "links": link(request, f"users/{rule.user_id}/access_rules/{rule.access_rule_id}"),
    }


async def list_access_rules(request: Request) -> Response:
    user_id = request.path_params["user_id"]
    enforce(request, "identity:list_access_rules", _target(user_id))
    query = request.query_params
    found = manager(request).access_rules.list(
        user_id, service=query.get("service"), method=query.get("method"), path=query.get("path")
    )
    return collection(request, "access_rules", (render_rule(request, r) for r in found))


async def show_access_rule(request: Request) -> Response:
    user_id = request.path_params["user_id"]
    enforce(request, "identity:get_access_rule", _target(user_id))
    rule = manager(request).access_rules.get(user_id, request.path_params["access_rule_id"])
    return JSONResponse({"access_rule": render_rule(request, rule)})


async def delete_access_rule(request: Request) -> Response:
    user_id = request.path_params["user_id"]
    ctx = enforce(request, "identity:delete_access_rule", _target(user_id))
    manager(request).access_rules.delete(ctx, user_id, request.path_params["access_rule_id"])
    return Response(status_code=204)


COLLECTION = "/v3/users/{user_id}/application_credentials"
MEMBER = COLLECTION + "/{application_credential_id}"
RULES = "/v3/users/{user_id}/access_rules"
RULE = RULES + "/{access_rule_id}"

routes = [
    Route(COLLECTION, list_app_creds, methods=["GET"]),
    Route(COLLECTION, create_app_cred, methods=["POST"]),
    Route(MEMBER, show_app_cred, methods=["GET"]),
    Route(MEMBER, delete_app_cred, methods=["DELETE"]),
    Route(RULES, list_access_rules, methods=["GET"]),
    Route(RULE, show_access_rule, methods=["GET"]),
    Route(RULE, delete_access_rule, methods=["DELETE"]),
]
