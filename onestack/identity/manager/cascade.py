"""Deleting an identity resource together with everything that hangs off it.

Every delete path goes through these functions, inside the caller's transaction, so no
assignment, membership, tag, credential, application credential or limit outlives what it
referred to. Tokens need no separate revocation: validation re-reads the user, the scope, the
roles and the application credential, so a token that depended on a purged row fails at once.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.orm import Session

from onestack.identity.manager.access_rules import purge_user_rules
from onestack.identity.manager.app_credentials import purge_app_creds
from onestack.identity.manager.endpoint_filter import purge_project_associations
from onestack.identity.models import (
    ApplicationCredential,
    ApplicationCredentialRole,
    Assignment,
    Credential,
    Domain,
    Group,
    ImpliedRole,
    Limit,
    Membership,
    Project,
    ProjectTag,
    RegisteredLimit,
    Role,
    Trust,
    TrustRole,
    User,
)


def purge_user(session: Session, user_id: str) -> None:
    session.execute(delete(Assignment).where(Assignment.actor_id == user_id))
    session.execute(delete(Membership).where(Membership.user_id == user_id))
    session.execute(delete(Credential).where(Credential.user_id == user_id))
    _purge_app_creds_where(session, ApplicationCredential.user_id == user_id)
    purge_user_rules(session, user_id)
    _purge_trusts_where(
        session, or_(Trust.trustor_user_id == user_id, Trust.trustee_user_id == user_id)
    )
    session.execute(delete(User).where(User.user_id == user_id))


def purge_group(session: Session, group_id: str) -> None:
    session.execute(delete(Assignment).where(Assignment.actor_id == group_id))
    session.execute(delete(Membership).where(Membership.group_id == group_id))
    session.execute(delete(Group).where(Group.group_id == group_id))


def purge_project(session: Session, project_id: str) -> None:
    session.execute(delete(Assignment).where(Assignment.target_id == project_id))
    session.execute(delete(ProjectTag).where(ProjectTag.project_id == project_id))
    session.execute(delete(Credential).where(Credential.project_id == project_id))
    session.execute(delete(Limit).where(Limit.project_id == project_id))
    _purge_app_creds_where(session, ApplicationCredential.project_id == project_id)
    _purge_trusts_where(session, Trust.project_id == project_id)
    purge_project_associations(session, project_id)
    session.execute(delete(Project).where(Project.project_id == project_id))


def purge_role(session: Session, role_id: str) -> None:
    session.execute(delete(Assignment).where(Assignment.role_id == role_id))
    session.execute(
        delete(ApplicationCredentialRole).where(ApplicationCredentialRole.role_id == role_id)
    )
    session.execute(
        delete(ImpliedRole).where(
            or_(ImpliedRole.prior_role_id == role_id, ImpliedRole.implied_role_id == role_id)
        )
    )
    session.execute(delete(Role).where(Role.role_id == role_id))


def purge_domain(session: Session, domain_id: str) -> None:
    """The domain and every project, user, group and domain-specific role in it."""
    projects = session.scalars(select(Project.project_id).where(Project.domain_id == domain_id))
    # Children before parents, so no project is ever left pointing at a deleted parent.
    for project_id in reversed(list(projects)):
        purge_project(session, project_id)
    for user_id in list(session.scalars(select(User.user_id).where(User.domain_id == domain_id))):
        purge_user(session, user_id)
    groups = session.scalars(select(Group.group_id).where(Group.domain_id == domain_id))
    for group_id in list(groups):
        purge_group(session, group_id)
    for role_id in list(session.scalars(select(Role.role_id).where(Role.domain_id == domain_id))):
        purge_role(session, role_id)
    session.execute(delete(Assignment).where(Assignment.target_id == domain_id))
    session.execute(delete(Limit).where(Limit.domain_id == domain_id))
    session.execute(delete(Domain).where(Domain.domain_id == domain_id))


def purge_service_limits(session: Session, service_id: str) -> None:
    """A deleted service's registered limits and every limit that overrides them."""
    registered = select(RegisteredLimit.registered_limit_id).where(
        RegisteredLimit.service_id == service_id
    )
    session.execute(delete(Limit).where(Limit.registered_limit_id.in_(registered)))
    session.execute(delete(RegisteredLimit).where(RegisteredLimit.service_id == service_id))


def _purge_app_creds_where(session: Session, condition: ColumnElement[bool]) -> None:
    found = session.scalars(select(ApplicationCredential.app_cred_id).where(condition))
    purge_app_creds(session, list(found))


def _purge_trusts_where(session: Session, clause: ColumnElement[bool]) -> None:
    """Trusts of a deleted user or project go with it, role rows first."""
    trust_ids = list(session.scalars(select(Trust.trust_id).where(clause)))
    if trust_ids:
        session.execute(delete(TrustRole).where(TrustRole.trust_id.in_(trust_ids)))
        session.execute(delete(Trust).where(Trust.trust_id.in_(trust_ids)))
