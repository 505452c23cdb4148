"""Finding identity rows by id or by name-within-a-domain, as auth requests name them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.common.errors import BadRequest
from onestack.identity import errors
from onestack.identity.models import Domain, Project, User


@dataclass(frozen=True)
class NamedRef:
    ref_id: str
    name: str


@dataclass(frozen=True)
class Ref:
    """A reference by id, or by name within a domain given by id or name."""

    ref_id: str | None = None
    name: str | None = None
    domain_id: str | None = None
    domain_name: str | None = None


def find_user(session: Session, ref: Ref) -> User | None:
    if ref.ref_id:
        return session.get(User, ref.ref_id)
    if not ref.name:
        raise BadRequest("A user needs an id, or a name and a domain.")
    domain = find_domain(session, domain_of(ref), missing=errors.AuthFailed)
    return session.scalars(
        select(User).where(User.name == ref.name, User.domain_id == domain.domain_id)
    ).first()


def find_project(session: Session, ref: Ref) -> Project:
    if ref.ref_id:
        project = session.get(Project, ref.ref_id)
    elif ref.name:
        domain = find_domain(session, domain_of(ref), missing=errors.ScopeProjectUnusable)
        project = session.scalars(
            select(Project).where(Project.name == ref.name, Project.domain_id == domain.domain_id)
        ).first()
    else:
        raise BadRequest("A project scope needs an id, or a name and a domain.")
    if project is None or not project.enabled or not domain_enabled(session, project.domain_id):
        raise errors.ScopeProjectUnusable()
    return project


def find_domain(
    session: Session, ref: Ref, missing: type[Exception] = errors.ScopeDomainUnusable
) -> Domain:
    if ref.ref_id:
        domain = session.get(Domain, ref.ref_id)
    elif ref.name:
        domain = session.scalars(select(Domain).where(Domain.name == ref.name)).first()
    else:
        raise BadRequest("A domain needs an id or a name.")
    if domain is None or not domain.enabled:
        raise missing()
    return domain


def domain_of(ref: Ref) -> Ref:
    if not (ref.domain_id or ref.domain_name):
        raise BadRequest(f"'{ref.name}' is given by name, so its domain must be given too.")
    return Ref(ref_id=ref.domain_id, name=ref.domain_name)


def domain_enabled(session: Session, domain_id: str) -> bool:
    domain = session.get(Domain, domain_id)
    return domain is not None and domain.enabled
