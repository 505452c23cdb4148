"""Effective roles: what a user holds on a target once groups, inheritance and implied roles
are taken into account.

Token issue and validation, /v3/auth/projects, /v3/auth/domains and the effective
role-assignment listing all resolve roles here, so there is one answer to "what may this user
do there". A user's roles on a project are the roles granted on it to the user or to any of
the user's groups, plus those granted *inherited* on the project's domain or on any ancestor
project, each expanded by the implied roles, transitively. On a domain or the system only the
direct grants (user's and groups') count. As in Keystone, domain-specific roles only carry the
global roles they imply: they are never in a token nor in an effective listing themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from onestack.identity.manager.lookup import NamedRef
from onestack.identity.models import (
    GLOBAL_ROLE_DOMAIN,
    Assignment,
    ImpliedRole,
    Membership,
    Project,
    Role,
)


@dataclass(frozen=True)
class Resolved:
    """One role held on one target, and how it came to be held.

    `actor_type`/`actor_id` hold the role; `source_type`/`source_id` are where the grant was
    made (differs from the target for an inherited grant); `via_group` is the group through
    which a user holds it; `prior_role_id` the granted role that implies it.
    """

    actor_type: str
    actor_id: str
    target_type: str
    target_id: str
    role_id: str
    inherited: bool = False
    source_type: str = ""
    source_id: str = ""
    via_group: str | None = None
    prior_role_id: str | None = None


def from_row(row: Assignment) -> Resolved:
    return Resolved(
        actor_type=row.actor_type,
        actor_id=row.actor_id,
        target_type=row.target_type,
        target_id=row.target_id,
        role_id=row.role_id,
        inherited=row.inherited,
        source_type=row.target_type,
        source_id=row.target_id,
    )


def implication_map(session: Session) -> dict[str, set[str]]:
    """prior role id -> the role ids it implies directly."""
    implied: dict[str, set[str]] = {}
    for prior, implied_id in session.execute(
        select(ImpliedRole.prior_role_id, ImpliedRole.implied_role_id)
    ):
        implied.setdefault(prior, set()).add(implied_id)
    return implied


def closure(role_ids: Iterable[str], implied: dict[str, set[str]]) -> set[str]:
    """The roles and every role they imply, transitively (cycle-safe)."""
    found = set(role_ids)
    pending = list(found)
    while pending:
        for implied_id in implied.get(pending.pop(), ()):
            if implied_id not in found:
                found.add(implied_id)
                pending.append(implied_id)
    return found


def groups_of(session: Session, user_id: str) -> set[str]:
    return set(session.scalars(select(Membership.group_id).where(Membership.user_id == user_id)))


def _project_tree(session: Session) -> dict[str, tuple[str | None, str]]:
    """project id -> (parent project id or None, domain id)."""
    rows = session.execute(select(Project.project_id, Project.parent_id, Project.domain_id))
    return {pid: (parent, domain) for pid, parent, domain in rows}


def ancestors(tree: dict[str, tuple[str | None, str]], project_id: str) -> list[str]:
    """The project's ancestor projects, nearest first (a parent that is a domain ends it)."""
    found: list[str] = []
    parent = tree.get(project_id, (None, ""))[0]
    while parent in tree and parent not in found:
        found.append(parent)
        parent = tree[parent][0]
    return found


def descendants(tree: dict[str, tuple[str | None, str]], project_id: str) -> list[str]:
    """Every project below the project (not the project itself)."""
    children: dict[str, list[str]] = {}
    for pid, (parent, _domain) in tree.items():
        if parent is not None:
            children.setdefault(parent, []).append(pid)
    found: list[str] = []
    pending = list(children.get(project_id, ()))
    while pending:
        pid = pending.pop()
        if pid not in found:
            found.append(pid)
            pending.extend(children.get(pid, ()))
    return found


def _actor_clause(user_id: str, group_ids: set[str]) -> ColumnElement[bool]:
    user = (Assignment.actor_type == "user") & (Assignment.actor_id == user_id)
    if not group_ids:
        return user
    return or_(user, (Assignment.actor_type == "group") & Assignment.actor_id.in_(group_ids))


def direct_role_ids(session: Session, user_id: str, target_type: str, target_id: str) -> set[str]:
    """The role ids granted on the target to the user or their groups, inherited included."""
    groups = groups_of(session, user_id)
    sources: list[tuple[str, str, bool]] = [(target_type, target_id, False)]
    if target_type == "project":
        tree = _project_tree(session)
        if target_id in tree:
            sources.append(("domain", tree[target_id][1], True))
            sources.extend(("project", pid, True) for pid in ancestors(tree, target_id))
    clauses = [
        (Assignment.target_type == kind)
        & (Assignment.target_id == ref)
        & (Assignment.inherited.is_(inherited))
        for kind, ref, inherited in sources
    ]
    query = select(Assignment.role_id).where(_actor_clause(user_id, groups), or_(*clauses))
    return set(session.scalars(query))


def effective_roles(
    session: Session, user_id: str, target_type: str, target_id: str
) -> tuple[NamedRef, ...]:
    """The roles the user holds on the target, every implied role included, sorted by name."""
    role_ids = direct_role_ids(session, user_id, target_type, target_id)
    if not role_ids:
        return ()
    role_ids = closure(role_ids, implication_map(session))
    roles = session.scalars(
        select(Role)
        .where(Role.role_id.in_(role_ids), Role.domain_id == GLOBAL_ROLE_DOMAIN)
        .order_by(Role.name)
    )
    return tuple(NamedRef(role.role_id, role.name) for role in roles)


def targets_of(session: Session, user_id: str, target_type: str) -> set[str]:
    """The ids of the targets of a type ("project", "domain") where the user holds any role,
    through a group or an inherited grant included; usable in `Column.in_(...)`."""
    groups = groups_of(session, user_id)
    rows = session.execute(
        select(Assignment.target_type, Assignment.target_id, Assignment.inherited).where(
            _actor_clause(user_id, groups)
        )
    )
    found: set[str] = set()
    inherited_sources: list[tuple[str, str]] = []
    for kind, ref, inherited in rows:
        if inherited:
            inherited_sources.append((kind, ref))
        elif kind == target_type:
            found.add(ref)
    if target_type == "project" and inherited_sources:
        tree = _project_tree(session)
        for kind, ref in inherited_sources:
            if kind == "domain":
                found.update(pid for pid, (_p, domain) in tree.items() if domain == ref)
            else:
                found.update(descendants(tree, ref))
    return found


def expand(session: Session, rows: Iterable[Resolved], user_id: str | None) -> list[Resolved]:
    """The effective form of assignment records, as GET /v3/role_assignments?effective shows:
    group grants become one record per member (only `user_id` when given), inherited grants one
    record per project they apply to, every role adds the roles it implies, and domain-specific
    roles are dropped (what is left is what tokens carry)."""
    tree: dict[str, tuple[str | None, str]] | None = None
    per_user: list[Resolved] = []
    for row in rows:
        if row.actor_type == "group":
            members = session.scalars(
                select(Membership.user_id).where(Membership.group_id == row.actor_id)
            )
            for member in members:
                if user_id is None or member == user_id:
                    per_user.append(
                        replace(row, actor_type="user", actor_id=member, via_group=row.actor_id)
                    )
        else:
            per_user.append(row)
    located: list[Resolved] = []
    for row in per_user:
        if not row.inherited:
            located.append(row)
            continue
        tree = tree if tree is not None else _project_tree(session)
        if row.source_type == "domain":
            projects = sorted(pid for pid, (_p, domain) in tree.items() if domain == row.source_id)
        else:
            projects = descendants(tree, row.source_id)
        located.extend(replace(row, target_type="project", target_id=pid) for pid in projects)
    expanded = _with_implied(located, implication_map(session))
    local = set(session.scalars(select(Role.role_id).where(Role.domain_id != GLOBAL_ROLE_DOMAIN)))
    return [row for row in expanded if row.role_id not in local]


def _with_implied(rows: list[Resolved], implied: dict[str, set[str]]) -> list[Resolved]:
    expanded: list[Resolved] = []
    for row in rows:
        expanded.append(row)
        # The implied records name the granted role as their prior role (their assignment).
        for implied_id in sorted(closure({row.role_id}, implied) - {row.role_id}):
            expanded.append(replace(row, role_id=implied_id, prior_role_id=row.role_id))
    return expanded
