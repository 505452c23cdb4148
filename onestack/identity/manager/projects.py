"""Projects: CRUD within a domain, the parent/child hierarchy, tags and filters.

Keystone's hierarchy rules hold here: a child lives in its parent's domain, only a leaf may be
deleted, a project is disabled only after its whole subtree is, and enabled only while all of
its parents are. Tokens scoped to a project need no revocation: validation re-reads the
project, so deleting or disabling it makes them fail at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.errors import BadRequest, Conflict, Forbidden
from onestack.identity import errors
from onestack.identity.manager.base import IdentityBase
from onestack.identity.manager.cascade import purge_project
from onestack.identity.manager.effective import targets_of
from onestack.identity.manager.fields import apply_fields
from onestack.identity.models import Domain, Project, ProjectTag, User

COLUMNS = frozenset({"name", "description", "enabled"})
MAX_TAGS = 80
# Keystone's default max_project_tree_depth: a project and at most four ancestors.
MAX_DEPTH = 5


@dataclass(frozen=True)
class ProjectFilters:
    """GET /v3/projects query filters; tag filters are lists of tags (comma lists in the URL)."""

    name: str | None = None
    domain_id: str | None = None
    parent_id: str | None = None
    enabled: bool | None = None
    is_domain: bool | None = None
    tags: tuple[str, ...] = ()
    tags_any: tuple[str, ...] = ()
    not_tags: tuple[str, ...] = ()
    not_tags_any: tuple[str, ...] = ()

    def keeps(self, tags: set[str]) -> bool:
        """Whether a project with these tags passes the four tag filters."""
        if self.tags and not set(self.tags) <= tags:
            return False
        if self.tags_any and not set(self.tags_any) & tags:
            return False
        if self.not_tags and set(self.not_tags) <= tags:
            return False
        return not (self.not_tags_any and set(self.not_tags_any) & tags)


@dataclass(frozen=True)
class ProjectView:
    """A project with its tags, as the API renders it."""

    project: Project
    tags: tuple[str, ...]


def _duplicate(name: str | None, domain_id: str) -> str:
    return (
        "Conflict occurred attempting to store project - Duplicate entry found with name "
        f"{name} at domain ID {domain_id}."
    )


def _tags_of(session: Session, project_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    rows = session.execute(
        select(ProjectTag.project_id, ProjectTag.tag)
        .where(ProjectTag.project_id.in_(list(project_ids)))
        .order_by(ProjectTag.tag)
    )
    for project_id, tag in rows:
        found.setdefault(project_id, []).append(tag)
    return {project_id: tuple(tags) for project_id, tags in found.items()}


def _views(session: Session, projects: Sequence[Project]) -> list[ProjectView]:
    tags = _tags_of(session, (p.project_id for p in projects))
    return [ProjectView(p, tags.get(p.project_id, ())) for p in projects]


def _replace_tags(session: Session, project_id: str, tags: Sequence[str]) -> None:
    session.execute(delete(ProjectTag).where(ProjectTag.project_id == project_id))
    for tag in dict.fromkeys(tags):  # duplicates collapse, order kept
        session.add(ProjectTag(project_id=project_id, tag=tag))


def _merged_options(project: Project, given: Mapping[str, Any]) -> dict[str, Any]:
    """Options change one by one, as Keystone's do: a null removes one, the rest stay."""
    options = dict((project.extra or {}).get("options") or {})
    for key, value in given.items():
        if value is None:
            options.pop(key, None)
        else:
            options[key] = value
    return options


def _immutable(project: Project) -> bool:
    return bool(((project.extra or {}).get("options") or {}).get("immutable"))


def _refuse_if_immutable(project: Project, values: Mapping[str, Any]) -> None:
    """An immutable project changes only to drop its immutability (options.immutable false)."""
    unlocking = (values.get("options") or {}).get("immutable", True) in (False, None)
    if _immutable(project) and not unlocking:
        raise Forbidden(
            f"Project {project.project_id} is immutable; set its option 'immutable' to false "
            "before changing or deleting it."
        )


def _children(session: Session, project_id: str) -> list[Project]:
    return list(
        session.scalars(
            select(Project).where(Project.parent_id == project_id).order_by(Project.name)
        )
    )


def _subtree(session: Session, project_id: str) -> list[Project]:
    """Every descendant, breadth first."""
    found: list[Project] = []
    pending = [project_id]
    while pending:
        children = _children(session, pending.pop(0))
        found.extend(children)
        pending.extend(child.project_id for child in children)
    return found


def _parents(session: Session, project: Project) -> list[Project]:
    """The ancestors, nearest first (a top-level project has none: its parent is a domain)."""
    found: list[Project] = []
    seen = {project.project_id}
    parent_id = project.parent_id
    while parent_id and parent_id not in seen:
        parent = session.get(Project, parent_id)
        if parent is None:
            break
        found.append(parent)
        seen.add(parent_id)
        parent_id = parent.parent_id
    return found


class ProjectManager(IdentityBase):
    # -- reads ---------------------------------------------------------------------------

    def get(self, project_id: str) -> ProjectView:
        with self.db.reader() as session:
            project = session.get(Project, project_id)
            if project is None:
                raise errors.ProjectNotFound(project_id)
            return _views(session, [project])[0]

    def list(self, filters: ProjectFilters) -> list[ProjectView]:
        if filters.is_domain:
            return []  # no project acts as a domain here; domains live in /v3/domains
        query = select(Project).order_by(Project.name)
        if filters.name is not None:
            query = query.where(Project.name == filters.name)
        if filters.domain_id is not None:
            query = query.where(Project.domain_id == filters.domain_id)
        if filters.parent_id is not None:
            # A top-level project's parent is its domain, as rendered.
            top_level = and_(Project.parent_id.is_(None), Project.domain_id == filters.parent_id)
            query = query.where(or_(Project.parent_id == filters.parent_id, top_level))
        if filters.enabled is not None:
            query = query.where(Project.enabled.is_(filters.enabled))
        with self.db.reader() as session:
            views = _views(session, list(session.scalars(query)))
        return [v for v in views if filters.keeps(set(v.tags))]

    def for_user(self, user_id: str, filters: ProjectFilters) -> list[ProjectView]:
        """The projects where the user holds any role (GET /v3/users/{id}/projects)."""
        with self.db.reader() as session:
            ids = targets_of(session, user_id, "project")
        return [v for v in self.list(filters) if v.project.project_id in ids]

    def user_domain(self, user_id: str) -> str:
        """The user's domain id, for policy; 404 when there is no such user."""
        with self.db.reader() as session:
            user = session.get(User, user_id)
        if user is None:
            raise errors.UserNotFound(user_id)
        return user.domain_id

    def parents(self, project_id: str) -> list[ProjectView]:
        with self.db.reader() as session:
            project = session.get(Project, project_id)
            if project is None:
                raise errors.ProjectNotFound(project_id)
            return _views(session, _parents(session, project))

    def subtree(self, project_id: str) -> list[ProjectView]:
        with self.db.reader() as session:
            return _views(session, _subtree(session, project_id))

    # -- writes --------------------------------------------------------------------------

    def create(self, ctx: RequestContext, fields: Mapping[str, Any]) -> ProjectView:
        values = dict(fields)
        tags = values.pop("tags", None) or []
        parent_id = values.pop("parent_id", None)
        domain_id = values.pop("domain_id")
        project = Project(
            project_id=uuid.uuid4().hex,
            domain_id=domain_id,
            parent_id=parent_id,
            description="",
            enabled=True,
            extra={},
        )
        if "options" in values:
            values["options"] = _merged_options(project, values["options"])
        apply_fields(project, values, COLUMNS)
        with self.writing(_duplicate(project.name, domain_id)) as session:
            if session.get(Domain, domain_id) is None:
                raise errors.DomainNotFound(domain_id)
            if parent_id is not None:
                self._check_parent(session, project)
            session.add(project)
            session.flush()
            _replace_tags(session, project.project_id, tags)
            view = _views(session, [project])[0]
        self.notify(ctx, "project", "created", project.project_id)
        return view

    def _check_parent(self, session: Session, project: Project) -> None:
        parent = session.get(Project, project.parent_id)
        if parent is None:
            raise errors.ProjectNotFound(str(project.parent_id))
        if parent.domain_id != project.domain_id:
            raise BadRequest(
                f"Cannot create project, since it specifies its domain_id {project.domain_id}, "
                f"but specifies a parent in a different domain ({parent.domain_id})."
            )
        if not parent.enabled:
            raise Forbidden(
                "Cannot create a project in a branch containing a disabled project: "
                f"{parent.project_id}."
            )
        if len(_parents(session, parent)) + 2 > MAX_DEPTH:
            raise Forbidden(f"Max hierarchy depth reached for {parent.project_id} branch.")

    def update(
        self, ctx: RequestContext, project_id: str, changes: Mapping[str, Any]
    ) -> ProjectView:
        values = dict(changes)
        tags = values.pop("tags", None)
        with self.writing() as session:
            project = session.get(Project, project_id)
            if project is None:
                raise errors.ProjectNotFound(project_id)
            _refuse_if_immutable(project, values)
            self._check_update(session, project, values)
            if "options" in values:
                values["options"] = _merged_options(project, values["options"])
            values.pop("parent_id", None)
            values.pop("domain_id", None)
            values.pop("is_domain", None)
            name = values.get("name", project.name)
            if name != project.name and self._name_taken(session, project.domain_id, name):
                raise Conflict(_duplicate(name, project.domain_id))
            apply_fields(project, values, COLUMNS)
            if tags is not None:
                _replace_tags(session, project_id, tags)
            session.flush()
            view = _views(session, [project])[0]
        self.notify(ctx, "project", "updated", project_id)
        return view

    @staticmethod
    def _name_taken(session: Session, domain_id: str, name: str) -> bool:
        return (
            session.scalars(
                select(Project.project_id).where(
                    Project.domain_id == domain_id, Project.name == name
                )
            ).first()
            is not None
        )

    def _check_update(self, session: Session, project: Project, values: Mapping[str, Any]) -> None:
        if values.get("is_domain", False):
            raise BadRequest("Update of `is_domain` is not allowed.")
        if "domain_id" in values and values["domain_id"] != project.domain_id:
            raise BadRequest("Update of `domain_id` is not allowed.")
        current_parent = project.parent_id or project.domain_id
        if "parent_id" in values and values["parent_id"] not in (project.parent_id, current_parent):
            raise Forbidden("Update of `parent_id` is not allowed.")
        enabled = values.get("enabled")
        subtree = _subtree(session, project.project_id) if enabled is False else []
        if project.enabled and any(p.enabled for p in subtree):
            raise Forbidden(
                f"Cannot disable project {project.project_id} since its subtree contains "
                "enabled projects."
            )
        parents = _parents(session, project) if enabled is True else []
        if not project.enabled and any(not p.enabled for p in parents):
            raise Forbidden(
                f"Cannot enable project {project.project_id} since it has disabled parents."
            )

    def delete(self, ctx: RequestContext, project_id: str) -> None:
        with self.writing() as session:
            project = session.get(Project, project_id)
            if project is None:
                raise errors.ProjectNotFound(project_id)
            _refuse_if_immutable(project, {})
            if _children(session, project_id):
                raise Forbidden(
                    f"Cannot delete the project {project_id} since it is not a leaf in the "
                    "hierarchy. Use the cascade option if you want to delete a whole subtree."
                )
            purge_project(session, project_id)
        self.notify(ctx, "project", "deleted", project_id)

    # -- tags ----------------------------------------------------------------------------

    def set_tags(self, ctx: RequestContext, project_id: str, tags: Sequence[str]) -> ProjectView:
        return self.update(ctx, project_id, {"tags": list(tags)})

    def add_tag(self, ctx: RequestContext, project_id: str, tag: str) -> ProjectView:
        current = self.get(project_id).tags
        if tag in current:
            return self.get(project_id)
        if len(current) >= MAX_TAGS:
            raise BadRequest(f"Cannot add tag '{tag}': the project has {MAX_TAGS} tags already.")
        return self.update(ctx, project_id, {"tags": [*current, tag]})

    def remove_tag(self, ctx: RequestContext, project_id: str, tag: str) -> None:
        current = self.get(project_id).tags
        if tag not in current:
            raise errors.ProjectTagNotFound(tag)
        self.update(ctx, project_id, {"tags": [t for t in current if t != tag]})
