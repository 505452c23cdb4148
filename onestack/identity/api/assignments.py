"""Grants (/v3/projects|domains/.../roles, /v3/system/..., OS-INHERIT) and /v3/role_assignments."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.errors import BadRequest
from onestack.identity.api.common import allowed, bool_query, collection, context, enforce, manager
from onestack.identity.api.roles import render as render_role
from onestack.identity.api.versions import v3_url
from onestack.identity.manager.assignments import AssignmentFilter, Grant, Names
from onestack.identity.manager.effective import Resolved
from onestack.identity.models import SYSTEM_TARGET

Endpoint = Callable[[Request], Awaitable[Response]]

# -- grants ----------------------------------------------------------------------------


def _grant(request: Request, target_type: str, actor_type: str, inherited: bool) -> Grant:
    params = request.path_params
    return Grant(
        actor_type=actor_type,
        actor_id=params["actor_id"],
        target_type=target_type,
        target_id=params.get("target_id", SYSTEM_TARGET),
        inherited=inherited,
    )


def _policy_target(request: Request, grant: Grant, role_id: str | None) -> dict[str, Any]:
    target: dict[str, Any] = dict(manager(request).assignments.policy_target(grant))
    target[grant.actor_type] = {"id": grant.actor_id}
    if grant.target_type != "system":
        target[grant.target_type] = {"id": grant.target_id}
    if role_id:
        target["role"] = {"id": role_id}
    return target


def _action(grant: Grant, verb: str) -> str:
    """The policy rule: identity:<verb>_grant(s), or identity:<verb>_system_grant(s)."""
    plural = "s" if verb == "list" else ""
    if grant.target_type == "system":
        return f"identity:{verb}_system_grant{plural}"
    return f"identity:{verb}_grant{plural}"


def _grant_endpoints(target_type: str, actor_type: str, inherited: bool) -> dict[str, Endpoint]:
    """The list, check, create and revoke endpoints of one kind of grant URL."""

    async def list_grants(request: Request) -> Response:
        grant = _grant(request, target_type, actor_type, inherited)
        enforce(request, _action(grant, "list"), _policy_target(request, grant, None))
        roles = manager(request).assignments.roles_of(grant)
        return collection(request, "roles", (render_role(request, role) for role in roles))

    async def check_grant(request: Request) -> Response:
        grant = _grant(request, target_type, actor_type, inherited)
        role_id = request.path_params["role_id"]
        enforce(request, _action(grant, "check"), _policy_target(request, grant, role_id))
        manager(request).assignments.check(grant, role_id)
        return Response(status_code=204)

    async def create_grant(request: Request) -> Response:
        grant = _grant(request, target_type, actor_type, inherited)
        role_id = request.path_params["role_id"]
        ctx = enforce(request, _action(grant, "create"), _policy_target(request, grant, role_id))
        manager(request).assignments.grant(ctx, grant, role_id)
        return Response(status_code=204)

    async def revoke_grant(request: Request) -> Response:
        grant = _grant(request, target_type, actor_type, inherited)
        role_id = request.path_params["role_id"]
        ctx = enforce(request, _action(grant, "revoke"), _policy_target(request, grant, role_id))
        manager(request).assignments.revoke(ctx, grant, role_id)
        return Response(status_code=204)

    return {
        "list": list_grants,
        "check": check_grant,
        "create": create_grant,
        "revoke": revoke_grant,
    }


def _grant_routes() -> list[Route]:
    routes: list[Route] = []
    kinds = [
        ("/v3/projects/{target_id}", "project", False, ""),
        ("/v3/domains/{target_id}", "domain", False, ""),
        ("/v3/system", "system", False, ""),
        ("/v3/OS-INHERIT/projects/{target_id}", "project", True, "/inherited_to_projects"),
        ("/v3/OS-INHERIT/domains/{target_id}", "domain", True, "/inherited_to_projects"),
    ]
    for prefix, target_type, inherited, suffix in kinds:
        for actor_type in ("user", "group"):
            ends = _grant_endpoints(target_type, actor_type, inherited)
            base = f"{prefix}/{actor_type}s/{{actor_id}}/roles"
            one = f"{base}/{{role_id}}{suffix}"
            # The inherited list is .../roles/inherited_to_projects: it must win over {role_id}.
            routes.append(Route(f"{base}{suffix}", ends["list"], methods=["GET"]))
            routes.append(Route(one, ends["check"], methods=["HEAD", "GET"]))
            routes.append(Route(one, ends["create"], methods=["PUT"]))
            routes.append(Route(one, ends["revoke"], methods=["DELETE"]))
    return routes


# -- /v3/role_assignments ---------------------------------------------------------------

INHERITED_TO = "scope.OS-INHERIT:inherited_to"


def _filters(request: Request) -> AssignmentFilter:
    query = request.query_params
    system = query.get("scope.system")
    if system is not None and system != "all":
        raise BadRequest("Invalid value for query parameter 'scope.system': only 'all' is known.")
    inherited_to = query.get(INHERITED_TO)
    if inherited_to is not None and inherited_to != "projects":
        raise BadRequest(f"Invalid value for query parameter '{INHERITED_TO}': use 'projects'.")
    return AssignmentFilter(
        user_id=query.get("user.id") or None,
        group_id=query.get("group.id") or None,
        role_id=query.get("role.id") or None,
        project_id=query.get("scope.project.id") or None,
        domain_id=query.get("scope.domain.id") or None,
        system=system is not None,
        inherited_only=inherited_to is not None,
        effective=bool(bool_query(request, "effective")),
        include_subtree=bool(bool_query(request, "include_subtree")),
    )


def _authorize_listing(request: Request, wanted: AssignmentFilter) -> AssignmentFilter:
    """Enforce identity:list_role_assignments; confine a domain reader to their domain."""
    action = "identity:list_role_assignments"
    if allowed(request, action, {}):
        return wanted
    target: dict[str, Any] = {}
    if wanted.project_id:
        target["project"] = {"id": wanted.project_id}
        project = _project_domain(request, wanted.project_id)
        target["domain_id"] = project
    elif wanted.domain_id:
        target["domain_id"] = wanted.domain_id
    else:
        target["domain_id"] = context(request).domain_id
    enforce(request, action, target)
    return AssignmentFilter(**{**wanted.__dict__, "confine_to_domain": target["domain_id"]})


def _project_domain(request: Request, project_id: str) -> str | None:
    grant = Grant("user", "", "project", project_id)
    return manager(request).assignments.policy_target(grant)["scope_domain_id"]


async def list_role_assignments(request: Request) -> Response:
    wanted = _authorize_listing(request, _filters(request))
    assignments = manager(request).assignments
    rows = assignments.list(wanted)
    names = assignments.names(rows) if bool_query(request, "include_names") else None
    base = v3_url(request)
    return collection(request, "role_assignments", (_render(base, row, names) for row in rows))


def _render(base: str, row: Resolved, names: Names | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "role": _role(row.role_id, names),
        "scope": _scope(row, names),
        row.actor_type: _actor(row.actor_type, row.actor_id, names),
        "links": _links(base, row),
    }
    return entry


def _links(base: str, row: Resolved) -> dict[str, str]:
    if row.inherited:
        target = f"/OS-INHERIT/{row.source_type}s/{row.source_id}"
    elif row.source_type == "system":
        target = "/system"
    else:
        target = f"/{row.source_type}s/{row.source_id}"
    actor = f"/groups/{row.via_group}" if row.via_group else f"/{row.actor_type}s/{row.actor_id}"
    suffix = "/inherited_to_projects" if row.inherited else ""
    links = {
        "assignment": f"{base}{target}{actor}/roles/{row.prior_role_id or row.role_id}{suffix}"
    }
    if row.via_group:
        links["membership"] = f"{base}/groups/{row.via_group}/users/{row.actor_id}"
    if row.prior_role_id:
        links["prior_role"] = f"{base}/roles/{row.prior_role_id}/implies/{row.role_id}"
    return links


def _scope(row: Resolved, names: Names | None) -> dict[str, Any]:
    if row.target_type == "system":
        return {"system": {"all": True}}
    ref: dict[str, Any] = {"id": row.target_id}
    if names is not None and row.target_type == "project":
        name, domain_id = names.projects.get(row.target_id, ("", ""))
        ref.update(name=name, domain=_domain(domain_id, names))
    elif names is not None:
        ref["name"] = names.domains.get(row.target_id, "")
    scope: dict[str, Any] = {row.target_type: ref}
    if row.inherited:
        scope["OS-INHERIT:inherited_to"] = "projects"
    return scope


def _actor(kind: str, actor_id: str, names: Names | None) -> dict[str, Any]:
    ref: dict[str, Any] = {"id": actor_id}
    if names is not None:
        table = names.users if kind == "user" else names.groups
        name, domain_id = table.get(actor_id, ("", ""))
        ref.update(name=name, domain=_domain(domain_id, names))
    return ref


def _role(role_id: str, names: Names | None) -> dict[str, Any]:
    ref: dict[str, Any] = {"id": role_id}
    if names is not None:
        name, domain_id = names.roles.get(role_id, ("", None))
        ref["name"] = name
        if domain_id:
            ref["domain"] = _domain(domain_id, names)
    return ref


def _domain(domain_id: str, names: Names) -> dict[str, str]:
    return {"id": domain_id, "name": names.domains.get(domain_id, "")}


routes = [
    *_grant_routes(),
    Route("/v3/role_assignments", list_role_assignments, methods=["GET"]),
]
