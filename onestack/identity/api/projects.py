"""/v3/projects (hierarchy, tags) and /v3/users/{user_id}/projects."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from pydantic import BaseModel, Field, StringConstraints
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.common.body import validate
from onestack.common.context import RequestContext
from onestack.common.errors import BadRequest
from onestack.common.http import JSONResponse
from onestack.identity import errors
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
from onestack.identity.api.fields import Attributes, Description, Envelope, Id, ResourceName
from onestack.identity.api.paging import paged_collection
from onestack.identity.api.versions import v3_url
from onestack.identity.manager.projects import MAX_TAGS, ProjectFilters, ProjectView
from onestack.identity.models import Domain

# Keystone's tag rule: 1 to 255 characters, neither '/' nor ','.
TAG_PATTERN = r"^[^,/]+$"
Tag = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=TAG_PATTERN)]
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS)]


class ProjectOptions(Envelope):
    immutable: bool | None = None


class ProjectFields(Attributes):
    # Keystone keeps attributes it does not know; so do we (they come back on read).
    description: Description | None = None
    enabled: bool | None = None
    domain_id: Id | None = None
    parent_id: Id | None = None
    is_domain: bool | None = None
    tags: Tags | None = None
    options: ProjectOptions | None = None


class ProjectCreate(ProjectFields):
    name: ResourceName


class ProjectUpdate(ProjectFields):
    name: ResourceName | None = None


class CreateBody(Envelope):
    project: ProjectCreate


class UpdateBody(Envelope):
    project: ProjectUpdate


class TagsBody(Envelope):
    tags: Tags


class OneTag(BaseModel):
    tag: Tag


def _fields(model: ProjectFields) -> dict[str, Any]:
    """The attributes the client set; null is refused where Keystone's schema refuses it."""
    fields = model.model_dump(exclude_unset=True)
    for key in ("name", "enabled", "tags"):
        if key in fields and fields[key] is None:
            raise BadRequest(f"Invalid input for field 'project.{key}': null is not allowed.")
    if "description" in fields and fields["description"] is None:
        fields["description"] = ""
    if "options" in fields and fields["options"] is None:
        fields["options"] = {}
    for key in ("is_domain", "domain_id", "parent_id"):
        if key in fields and fields[key] is None:
            fields.pop(key)
    return fields


def _render(request: Request, view: ProjectView, **expansions: Any) -> dict[str, Any]:
    return render.project(view.project, v3_url(request), view.tags, **expansions)


def _target(view: ProjectView) -> dict[str, Any]:
    project = view.project
    return {"project": {"id": project.project_id, "domain_id": project.domain_id}}


def _visible(request: Request, view: ProjectView) -> bool:
    return allowed(request, "identity:get_project", _target(view))


def _tag_list(request: Request, name: str) -> tuple[str, ...]:
    raw = request.query_params.get(name)
    if raw is None:
        return ()
    tags = tuple(t for t in raw.split(",") if t)
    if not tags:
        raise BadRequest(f"Invalid value for query parameter '{name}': a tag is required.")
    return tags


def _filters(request: Request, domain_id: str | None) -> ProjectFilters:
    query = request.query_params
    return ProjectFilters(
        name=query.get("name"),
        domain_id=domain_id,
        parent_id=query.get("parent_id"),
        enabled=bool_query(request, "enabled"),
        is_domain=bool_query(request, "is_domain"),
        tags=_tag_list(request, "tags"),
        tags_any=_tag_list(request, "tags-any"),
        not_tags=_tag_list(request, "not-tags"),
        not_tags_any=_tag_list(request, "not-tags-any"),
    )


# -- /v3/projects ----------------------------------------------------------------------------


async def list_projects(request: Request) -> Response:
    domain_id = request.query_params.get("domain_id")
    ctx = context(request)
    if domain_id is None and ctx.domain_id and not allowed(request, "identity:list_projects", {}):
        domain_id = ctx.domain_id  # a domain reader sees their own domain's projects
    enforce(request, "identity:list_projects", {"domain_id": domain_id})
    filters = _filters(request, domain_id)
    if filters.is_domain:
        return _domains_as_projects(request, filters)
    views = manager(request).projects.list(filters)
    items = (_render(request, v) for v in views)
    return paged_collection(request, "projects", items, manager(request).projects.get)


def _requested_domain(raw: bytes, ctx: RequestContext) -> str:
    """The domain a create asks for, read before validation so policy is checked first."""
    try:
        document = orjson.loads(raw)
        project = document.get("project") if isinstance(document, dict) else None
        domain_id = project.get("domain_id") if isinstance(project, dict) else None
    except orjson.JSONDecodeError:
        domain_id = None
    if isinstance(domain_id, str) and domain_id:
        return domain_id
    return ctx.domain_id or "default"


async def create_project(request: Request) -> Response:
    projects = manager(request).projects
    domain_id = _requested_domain(await request.body(), context(request))
    # Policy first, as Keystone: a caller who may not create gets 403 whatever the body.
    ctx = enforce(request, "identity:create_project", {"project": {"domain_id": domain_id}})
    body = await parse_body(request, CreateBody)
    fields = _fields(body.project)
    if fields.pop("is_domain", False):
        return _create_domain(request, fields)
    if "domain_id" not in fields and fields.get("parent_id"):
        # A child belongs to its parent's domain; asking for it by parent alone is enough.
        domain_id = projects.get(fields["parent_id"]).project.domain_id
        ctx = enforce(request, "identity:create_project", {"project": {"domain_id": domain_id}})
    fields["domain_id"] = domain_id
    view = projects.create(ctx, fields)
    return JSONResponse({"project": _render(request, view)}, status_code=201)


def _hierarchy(request: Request, view: ProjectView) -> dict[str, Any]:
    """parents/subtree as the query asks: nested ids, or lists of the projects one may see."""
    query = request.query_params
    if "parents_as_list" in query and "parents_as_ids" in query:
        raise BadRequest("Cannot use parents_as_list and parents_as_ids query params at once.")
    if "subtree_as_list" in query and "subtree_as_ids" in query:
        raise BadRequest("Cannot use subtree_as_list and subtree_as_ids query params at once.")
    projects = manager(request).projects
    project = view.project
    expansions: dict[str, Any] = {}
    if bool_query(request, "parents_as_list"):
        parents = [p for p in projects.parents(project.project_id) if _visible(request, p)]
        expansions["parents"] = [{"project": _render(request, p)} for p in parents]
    elif bool_query(request, "parents_as_ids"):
        chain = [p.project.project_id for p in projects.parents(project.project_id)]
        nested: dict[str, Any] | None = {project.domain_id: None}
        for parent_id in reversed(chain):
            nested = {parent_id: nested}
        expansions["parents"] = nested
    if bool_query(request, "subtree_as_list"):
        subtree = [p for p in projects.subtree(project.project_id) if _visible(request, p)]
        expansions["subtree"] = [{"project": _render(request, p)} for p in subtree]
    elif bool_query(request, "subtree_as_ids"):
        expansions["subtree"] = _nested_ids(
            project.project_id, projects.subtree(project.project_id)
        )
    return expansions


def _nested_ids(root_id: str, subtree: list[ProjectView]) -> dict[str, Any] | None:
    """{child: {grandchild: None}} under root_id; None for a leaf, as Keystone answers."""
    children: dict[str, list[str]] = {}
    for view in subtree:
        children.setdefault(str(view.project.parent_id), []).append(view.project.project_id)

    def build(node: str) -> dict[str, Any] | None:
        below = children.get(node)
        return {child: build(child) for child in below} if below else None

    return build(root_id)


async def show_project(request: Request) -> Response:
    domain = _acting_domain(request)
    if domain is not None:
        enforce(request, "identity:get_domain", {"domain": {"id": domain.domain_id}})
        return JSONResponse({"project": render.domain_as_project(domain, v3_url(request))})
    view = manager(request).projects.get(request.path_params["project_id"])
    enforce(request, "identity:get_project", _target(view))
    return JSONResponse({"project": _render(request, view, **_hierarchy(request, view))})


async def update_project(request: Request) -> Response:
    domain = _acting_domain(request)
    if domain is not None:
        ctx = enforce(request, "identity:update_domain", {"domain": {"id": domain.domain_id}})
        fields = _fields((await parse_body(request, UpdateBody)).project)
        changes = {k: fields[k] for k in ("name", "description", "enabled") if k in fields}
        updated = manager(request).domains.update(ctx, domain.domain_id, changes)
        return JSONResponse({"project": render.domain_as_project(updated, v3_url(request))})
    projects = manager(request).projects
    view = projects.get(request.path_params["project_id"])
    ctx = enforce(request, "identity:update_project", _target(view))
    body = await parse_body(request, UpdateBody)
    updated = projects.update(ctx, view.project.project_id, _fields(body.project))
    return JSONResponse({"project": _render(request, updated)})


async def delete_project(request: Request) -> Response:
    domain = _acting_domain(request)
    if domain is not None:
        ctx = enforce(request, "identity:delete_domain", {"domain": {"id": domain.domain_id}})
        manager(request).domains.delete(ctx, domain.domain_id)
        return Response(status_code=204)
    projects = manager(request).projects
    view = projects.get(request.path_params["project_id"])
    ctx = enforce(request, "identity:delete_project", _target(view))
    projects.delete(ctx, view.project.project_id)
    return Response(status_code=204)


# -- projects acting as domains (Keystone's is_domain) -----------------------------------------
# onestack keeps domains in their own table; the projects API shows each as a project with
# `is_domain: true` (list with ?is_domain=true, create, show, update, delete by its id).


def _acting_domain(request: Request) -> Domain | None:
    """The domain a /v3/projects/{id} path names, when no project has that id."""
    project_id = request.path_params["project_id"]
    try:
        manager(request).projects.get(project_id)
        return None
    except errors.ProjectNotFound:
        pass
    try:
        return manager(request).domains.get(project_id)
    except errors.DomainNotFound:
        return None


def _domains_as_projects(request: Request, filters: ProjectFilters) -> Response:
    # A domain has no domain, parent or tags: asking for any of them finds none.
    narrowed = filters.domain_id or filters.parent_id or filters.tags or filters.tags_any
    domains = [] if narrowed else manager(request).domains.list(filters.name, filters.enabled)
    base = v3_url(request)
    return collection(request, "projects", (render.domain_as_project(d, base) for d in domains))


def _create_domain(request: Request, fields: dict[str, Any]) -> Response:
    ctx = enforce(request, "identity:create_domain")
    wanted = {k: fields[k] for k in ("name", "description", "enabled") if k in fields}
    domain = manager(request).domains.create(ctx, wanted)
    return JSONResponse(
        {"project": render.domain_as_project(domain, v3_url(request))}, status_code=201
    )


# -- tags ------------------------------------------------------------------------------------


def _tag(request: Request) -> str:
    return validate({"tag": request.path_params["tag"]}, OneTag).tag


async def list_tags(request: Request) -> Response:
    view = manager(request).projects.get(request.path_params["project_id"])
    enforce(request, "identity:list_project_tags", _target(view))
    return JSONResponse({"tags": list(view.tags)})


async def replace_tags(request: Request) -> Response:
    projects = manager(request).projects
    view = projects.get(request.path_params["project_id"])
    ctx = enforce(request, "identity:update_project_tags", _target(view))
    body = await parse_body(request, TagsBody)
    updated = projects.set_tags(ctx, view.project.project_id, body.tags)
    return JSONResponse({"tags": list(updated.tags)})


async def clear_tags(request: Request) -> Response:
    projects = manager(request).projects
    view = projects.get(request.path_params["project_id"])
    ctx = enforce(request, "identity:delete_project_tags", _target(view))
    projects.set_tags(ctx, view.project.project_id, [])
    return Response(status_code=204)


async def check_tag(request: Request) -> Response:
    view = manager(request).projects.get(request.path_params["project_id"])
    enforce(request, "identity:get_project_tag", _target(view))
    tag = request.path_params["tag"]
    if tag not in view.tags:
        raise errors.ProjectTagNotFound(tag)
    return Response(status_code=204)


async def add_tag(request: Request) -> Response:
    projects = manager(request).projects
    view = projects.get(request.path_params["project_id"])
    ctx = enforce(request, "identity:create_project_tag", _target(view))
    tag = _tag(request)
    projects.add_tag(ctx, view.project.project_id, tag)
    location = f"{v3_url(request)}/projects/{view.project.project_id}/tags/{tag}"
    return Response(status_code=201, headers={"Location": location})


async def delete_tag(request: Request) -> Response:
    projects = manager(request).projects
    view = projects.get(request.path_params["project_id"])
    ctx = enforce(request, "identity:delete_project_tag", _target(view))
    projects.remove_tag(ctx, view.project.project_id, request.path_params["tag"])
    return Response(status_code=204)


# -- /v3/users/{user_id}/projects ------------------------------------------------------------


async def list_user_projects(request: Request) -> Response:
    projects = manager(request).projects
    user_id = request.path_params["user_id"]
    user = {"id": user_id, "domain_id": projects.user_domain(user_id)}
    enforce(request, "identity:list_user_projects", {"user": user})
    filters = _filters(request, request.query_params.get("domain_id"))
    views = projects.for_user(user_id, filters)
    return collection(request, "projects", (_render(request, v) for v in views))


routes = [
    Route("/v3/projects", list_projects, methods=["GET"]),
    Route("/v3/projects", create_project, methods=["POST"]),
    Route("/v3/projects/{project_id}", show_project, methods=["GET"]),
    Route("/v3/projects/{project_id}", update_project, methods=["PATCH"]),
    Route("/v3/projects/{project_id}", delete_project, methods=["DELETE"]),
    Route("/v3/projects/{project_id}/tags", list_tags, methods=["GET"]),
    Route("/v3/projects/{project_id}/tags", replace_tags, methods=["PUT"]),
    Route("/v3/projects/{project_id}/tags", clear_tags, methods=["DELETE"]),
    Route("/v3/projects/{project_id}/tags/{tag}", check_tag, methods=["GET"]),
    Route("/v3/projects/{project_id}/tags/{tag}", add_tag, methods=["PUT"]),
    Route("/v3/projects/{project_id}/tags/{tag}", delete_tag, methods=["DELETE"]),
    Route("/v3/users/{user_id}/projects", list_user_projects, methods=["GET"]),
]
