"""Role assignments: grants on projects, domains and the system, and their listing.

A grant names an actor (a user or a group), a target (a project, a domain or the system), a
role and whether it is inherited (applies to the target's projects rather than the target). The
listing (/v3/role_assignments) filters the grants, or, when `effective`, what they amount to:
see `effective.expand`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.errors import BadRequest, Forbidden
from onestack.identity import errors
from onestack.identity.manager.base import IdentityBase
from onestack.identity.manager.effective import (
    Resolved,
    descendants,
    expand,
    from_row,
    groups_of,
)
from onestack.identity.manager.roles import role_domain
from onestack.identity.models import (
    SYSTEM_TARGET,
    Assignment,
    Domain,
    Group,
    Project,
    Role,
    User,
)

ACTOR_MODELS = {"user": (User, errors.UserNotFound), "group": (Group, errors.GroupNotFound)}
TARGET_MODELS = {
    "project": (Project, errors.ProjectNotFound),
    "domain": (Domain, errors.DomainNotFound),
}


@dataclass(frozen=True)
class Grant:
    """One grant as the URL names it."""

    actor_type: str  # user | group
    actor_id: str
    target_type: str  # project | domain | system
    target_id: str
    inherited: bool = False

    def key(self, role_id: str) -> tuple[str, str, str, str, str, bool]:
        return (
            self.actor_type,
            self.actor_id,
            self.target_type,
            self.target_id,
            role_id,
            self.inherited,
        )


@dataclass(frozen=True)
class AssignmentFilter:
    """The filters of GET /v3/role_assignments."""

    user_id: str | None = None
    group_id: str | None = None
    role_id: str | None = None
    project_id: str | None = None
    domain_id: str | None = None
    system: bool = False
    inherited_only: bool = False
    effective: bool = False
    include_subtree: bool = False
    # A domain-scoped reader sees only assignments on that domain and its projects.
    confine_to_domain: str | None = None


@dataclass
class Names:
    """Names (and domains) of everything a listing refers to, for include_names."""

    users: dict[str, tuple[str, str]] = field(default_factory=dict)
    groups: dict[str, tuple[str, str]] = field(default_factory=dict)
    projects: dict[str, tuple[str, str]] = field(default_factory=dict)
    domains: dict[str, str] = field(default_factory=dict)
    roles: dict[str, tuple[str, str | None]] = field(default_factory=dict)


class AssignmentManager(IdentityBase):
    # -- grants ------------------------------------------------------------------------

    def policy_target(self, grant: Grant) -> dict[str, str | None]:
        """The domains policy compares: the target's (scope) and the actor's; None if missing."""
        with self.db.reader() as session:
            actor = session.get(ACTOR_MODELS[grant.actor_type][0], grant.actor_id)
            scope_domain = None
            if grant.target_type == "project":
                project = session.get(Project, grant.target_id)
                scope_domain = project.domain_id if project else None
            elif grant.target_type == "domain":
                domain = session.get(Domain, grant.target_id)
                scope_domain = domain.domain_id if domain else None
        return {
            "scope_domain_id": scope_domain,
            "actor_domain_id": actor.domain_id if actor else None,
        }

    def grant(self, ctx: RequestContext, grant: Grant, role_id: str) -> None:
        with self.writing() as session:
            self._check(session, grant, role_id)
            if session.get(Assignment, grant.key(role_id)) is None:
                session.add(
                    Assignment(
                        actor_type=grant.actor_type,
                        actor_id=grant.actor_id,
                        target_type=grant.target_type,
                        target_id=grant.target_id,
                        role_id=role_id,
                        inherited=grant.inherited,
                    )
                )
        self._notify(ctx, "created", grant, role_id)

    def check(self, grant: Grant, role_id: str) -> None:
        """Nothing when the grant exists; 404 naming what is missing otherwise."""
        with self.db.reader() as session:
            self._check(session, grant, role_id, verify_role_domain=False)
            if session.get(Assignment, grant.key(role_id)) is None:
                raise GrantNotFound(grant, role_id)

    def revoke(self, ctx: RequestContext, grant: Grant, role_id: str) -> None:
        with self.writing() as session:
            self._check(session, grant, role_id, verify_role_domain=False)
            row = session.get(Assignment, grant.key(role_id))
            if row is None:
                raise GrantNotFound(grant, role_id)
            session.delete(row)
        self._notify(ctx, "deleted", grant, role_id)

    def roles_of(self, grant: Grant) -> list[Role]:
        """The roles granted (directly) to the actor on the target."""
        with self.db.reader() as session:
            self._check_actor_and_target(session, grant)
            return list(
                session.scalars(
                    select(Role)
                    .join(Assignment, Assignment.role_id == Role.role_id)
                    .where(
                        Assignment.actor_type == grant.actor_type,
                        Assignment.actor_id == grant.actor_id,
                        Assignment.target_type == grant.target_type,
                        Assignment.target_id == grant.target_id,
                        Assignment.inherited.is_(grant.inherited),
                    )
                    .order_by(Role.name)
                )
            )

    def _check(
        self, session: Session, grant: Grant, role_id: str, verify_role_domain: bool = True
    ) -> None:
        target_domain = self._check_actor_and_target(session, grant)
        role = session.get(Role, role_id)
        if role is None:
            raise errors.RoleNotFound(role_id)
        domain = role_domain(role)
        if not verify_role_domain or domain is None:
            return
        if grant.target_type == "system":
            raise BadRequest(
                f"Role {role_id} is a domain-specific role. Unable to use a domain-specific "
                "role in a system assignment."
            )
        if domain != target_domain:
            kind = grant.target_type.capitalize()
            raise Forbidden(
                f"{kind} {grant.target_id} must be in the same domain as the role "
                f"{role_id} being assigned."
            )

    def _check_actor_and_target(self, session: Session, grant: Grant) -> str | None:
        """404 for a missing actor or target; the target's domain id (None for the system)."""
        model, missing = ACTOR_MODELS[grant.actor_type]
        if session.get(model, grant.actor_id) is None:
            raise missing(grant.actor_id)
        if grant.target_type == "system":
            return None
        model, missing = TARGET_MODELS[grant.target_type]
        target = session.get(model, grant.target_id)
        if target is None:
            raise missing(grant.target_id)
        return target.domain_id

    def _notify(self, ctx: RequestContext, operation: str, grant: Grant, role_id: str) -> None:
        payload = {
            "resource_info": role_id,
            "initiator": ctx.initiator(),
            "role": role_id,
            grant.actor_type: grant.actor_id,
            grant.target_type: grant.target_id,
            "inherited_to_projects": grant.inherited,
        }
        self.notifier.info(f"identity.role_assignment.{operation}", payload)

    # -- listing -----------------------------------------------------------------------

    def list(self, wanted: AssignmentFilter) -> list[Resolved]:
        if wanted.effective and wanted.group_id:
            raise BadRequest(
                "Combining effective and group filter will always result in an empty list."
            )
        if wanted.include_subtree and not wanted.project_id:
            raise BadRequest("scope.project.id needs to be specified if include_subtree is used.")
        if sum(map(bool, (wanted.project_id, wanted.domain_id, wanted.system))) > 1:
            raise BadRequest(
                "Specify at most one of scope.project.id, scope.domain.id, scope.system."
            )
        with self.db.reader() as session:
            rows = [from_row(row) for row in session.scalars(self._grants(session, wanted))]
            if wanted.effective:
                rows = expand(session, rows, wanted.user_id)
            return self._filtered(session, rows, wanted)

    def _grants(self, session: Session, wanted: AssignmentFilter) -> Select[tuple[Assignment]]:
        query = select(Assignment)
        if wanted.user_id:
            actors = [and_(Assignment.actor_type == "user", Assignment.actor_id == wanted.user_id)]
            if wanted.effective:
                groups = groups_of(session, wanted.user_id)
                if groups:
                    actors.append(
                        and_(Assignment.actor_type == "group", Assignment.actor_id.in_(groups))
                    )
            query = query.where(or_(*actors))
        if wanted.group_id:
            query = query.where(
                Assignment.actor_type == "group", Assignment.actor_id == wanted.group_id
            )
        return query.order_by(
            Assignment.target_type, Assignment.target_id, Assignment.actor_id, Assignment.role_id
        )

    def _filtered(
        self, session: Session, rows: list[Resolved], wanted: AssignmentFilter
    ) -> list[Resolved]:
        def keep(row: Resolved) -> bool:
            if wanted.role_id and row.role_id != wanted.role_id:
                return False
            if wanted.inherited_only and not row.inherited:
                return False
            if projects is not None and (
                row.target_type != "project" or row.target_id not in projects
            ):
                return False
            if wanted.domain_id and (row.target_type, row.target_id) != (
                "domain",
                wanted.domain_id,
            ):
                return False
            if wanted.system and row.target_type != "system":
                return False
            return confined is None or (row.target_type, row.target_id) in confined

        projects: set[str] | None = None
        if wanted.project_id:
            projects = {wanted.project_id}
            if wanted.include_subtree:
                tree = {
                    pid: (parent, domain)
                    for pid, parent, domain in session.execute(
                        select(Project.project_id, Project.parent_id, Project.domain_id)
                    )
                }
                projects.update(descendants(tree, wanted.project_id))
        confined: set[tuple[str, str]] | None = None
        if wanted.confine_to_domain:
            domain_projects = session.scalars(
                select(Project.project_id).where(Project.domain_id == wanted.confine_to_domain)
            )
            confined = {("domain", wanted.confine_to_domain)}
            confined.update(("project", pid) for pid in domain_projects)
        return [row for row in rows if keep(row)]

    def names(self, rows: Iterable[Resolved]) -> Names:
        """Names of the users, groups, projects, domains and roles the rows refer to."""
        rows = list(rows)
        names = Names()

        def ids(kind: str) -> set[str]:
            found = {r.actor_id for r in rows if r.actor_type == kind}
            return found | {r.via_group for r in rows if kind == "group" and r.via_group}

        with self.db.reader() as session:
            for user in session.scalars(select(User).where(User.user_id.in_(ids("user")))):
                names.users[user.user_id] = (user.name, user.domain_id)
            for group in session.scalars(select(Group).where(Group.group_id.in_(ids("group")))):
                names.groups[group.group_id] = (group.name, group.domain_id)
            project_ids = {r.target_id for r in rows if r.target_type == "project"}
            for project in session.scalars(
                select(Project).where(Project.project_id.in_(project_ids))
            ):
                names.projects[project.project_id] = (project.name, project.domain_id)
            role_ids = {r.role_id for r in rows}
            for role in session.scalars(select(Role).where(Role.role_id.in_(role_ids))):
                names.roles[role.role_id] = (role.name, role_domain(role))
            for domain in session.scalars(select(Domain)):
                names.domains[domain.domain_id] = domain.name
        return names


class GrantNotFound(errors.RoleAssignmentNotFound):
    """Keystone's message for a grant that does not exist."""

    def __init__(self, grant: Grant, role_id: str) -> None:
        errors.NotFound.__init__(
            self,
            f"Could not find role assignment with role: {role_id}, user or group: "
            f"{grant.actor_id}, project, domain, or system: {grant.target_id}.",
        )


__all__ = ["SYSTEM_TARGET", "AssignmentFilter", "AssignmentManager", "Grant", "Names"]
