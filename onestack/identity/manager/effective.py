"""Effective roles: what an actor holds on a target once implied roles are expanded.

Token issue and validation, /v3/auth/projects and the effective role-assignment listing all
resolve roles here, so there is one answer to "what may this user do there".
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from onestack.identity.manager.lookup import NamedRef
from onestack.identity.models import Assignment, ImpliedRole, Role


def targets_of(session: Session, user_id: str, target_type: str) -> Select[tuple[str]]:
    """The ids of the targets of a type where the user holds any role."""
    return select(Assignment.target_id).where(
        Assignment.actor_id == user_id, Assignment.target_type == target_type
    )


def effective_roles(
    session: Session, user_id: str, target_type: str, target_id: str
) -> tuple[NamedRef, ...]:
    """The roles held directly on the target plus every role they imply, transitively."""
    role_ids = set(
        session.scalars(
            select(Assignment.role_id).where(
                Assignment.actor_id == user_id,
                Assignment.target_type == target_type,
                Assignment.target_id == target_id,
            )
        )
    )
    if not role_ids:
        return ()
    implications = session.execute(select(ImpliedRole.prior_role_id, ImpliedRole.implied_role_id))
    implied: dict[str, set[str]] = {}
    for prior, implied_id in implications:
        implied.setdefault(prior, set()).add(implied_id)
    pending = list(role_ids)
    while pending:
        for implied_id in implied.get(pending.pop(), ()):
            if implied_id not in role_ids:
                role_ids.add(implied_id)
                pending.append(implied_id)
    roles = session.scalars(select(Role).where(Role.role_id.in_(role_ids)).order_by(Role.name))
    return tuple(NamedRef(role.role_id, role.name) for role in roles)
