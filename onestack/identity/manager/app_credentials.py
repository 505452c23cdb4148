"""Application credentials: create, list, read, delete, and the login check for the
`application_credential` auth method.

A credential delegates some of its creator's roles on one project; only its secret's hash is
kept (argon2, as passwords), so the secret is shown once, at creation. What a token obtained
with one may do is re-derived at every validation (`restrict_roles`): the credential must still
exist and be unexpired, and its roles count only while the user still holds them there.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.errors import Conflict
from onestack.identity import errors
from onestack.identity.manager.access_rules import AccessRuleRequest, resolve_rules, rules_of
from onestack.identity.manager.base import IdentityBase
from onestack.identity.manager.login import utcnow
from onestack.identity.manager.lookup import NamedRef, Ref, domain_enabled, find_user
from onestack.identity.models import (
    GLOBAL_ROLE_DOMAIN,
    ApplicationCredential,
    ApplicationCredentialAccessRule,
    ApplicationCredentialRole,
    Role,
)
from onestack.identity.passwords import hash_password, verify_password


@dataclass(frozen=True)
class RoleRequest:
    """A role the creator asks to delegate, by id or by name."""

    role_id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class AppCredCreate:
    """A parsed create request; `roles` empty means every role of the creator's token."""

    name: str
    description: str | None = None
    secret: str | None = None
    expires_at: datetime | None = None  # naive UTC
    roles: tuple[RoleRequest, ...] = ()
    unrestricted: bool = False
    access_rules: tuple[AccessRuleRequest, ...] = ()


@dataclass(frozen=True)
class AppCredView:
    """An application credential as the API shows it; `secret` only right after creation."""

    app_cred_id: str
    name: str
    user_id: str
    project_id: str
    description: str | None
    expires_at: datetime | None
    unrestricted: bool
    roles: tuple[NamedRef, ...]
    access_rules: tuple[dict[str, str], ...] = field(default_factory=tuple)
    secret: str | None = None


@dataclass(frozen=True)
class AppCredLogin:
    """The `application_credential` auth method's data: an id, or a name and its user."""

    secret: str
    app_cred_id: str | None = None
    name: str | None = None
    user: Ref | None = None


def generate_secret() -> str:
    """64 random bytes as unpadded URL-safe base64, the shape Keystone's secrets have."""
    return base64.urlsafe_b64encode(secrets.token_bytes(64)).rstrip(b"=").decode()


class ApplicationCredentialManager(IdentityBase):
    def create(
        self,
        ctx: RequestContext,
        user_id: str,
        project_id: str,
        creator_roles: Sequence[NamedRef],
        request: AppCredCreate,
    ) -> AppCredView:
        """A new credential of `user_id` on `project_id`, delegating a subset of `creator_roles`
        (the roles of the creating token)."""
        if request.expires_at is not None and request.expires_at <= utcnow():
            raise errors.ApplicationCredentialValidationError(
                "The 'expires_at' must be in the future."
            )
        secret = request.secret or generate_secret()
        secret_hash = hash_password(secret)  # before the transaction: it takes ~150 ms
        row = ApplicationCredential(
            app_cred_id=uuid.uuid4().hex,
            name=request.name,
            user_id=user_id,
            project_id=project_id,
            description=request.description,
            secret_hash=secret_hash,
            expires_at=request.expires_at,
            unrestricted=request.unrestricted,
            created_at=utcnow(),
        )
        conflict = f"Duplicate Entry: an application credential named {request.name} exists."
        with self.writing(conflict) as session:
            roles = _delegated_roles(session, creator_roles, request.roles)
            if session.scalars(
                select(ApplicationCredential.app_cred_id).where(
                    ApplicationCredential.user_id == user_id,
                    ApplicationCredential.name == request.name,
                )
            ).first():
                raise Conflict(conflict)
            session.add(row)
            session.flush()  # the credential row first: the role and rule rows point at it
            session.add_all(
                ApplicationCredentialRole(app_cred_id=row.app_cred_id, role_id=role.ref_id)
                for role in roles
            )
            rules = resolve_rules(session, user_id, request.access_rules)
            session.add_all(
                ApplicationCredentialAccessRule(
                    app_cred_id=row.app_cred_id, access_rule_id=rule.access_rule_id
                )
                for rule in rules
            )
            session.flush()
            view = _view(session, row, roles)
        self.notify(ctx, "application_credential", "created", row.app_cred_id)
        return AppCredView(**{**view.__dict__, "secret": secret})

    def list(self, user_id: str, name: str | None = None) -> list[AppCredView]:
        query = select(ApplicationCredential).where(ApplicationCredential.user_id == user_id)
        if name is not None:
            query = query.where(ApplicationCredential.name == name)
        with self.db.reader() as session:
            rows = session.scalars(query.order_by(ApplicationCredential.name))
            return [_view(session, row, roles_of(session, row.app_cred_id)) for row in rows]

    def get(self, user_id: str, app_cred_id: str) -> AppCredView:
        with self.db.reader() as session:
            row = _owned(session, user_id, app_cred_id)
            return _view(session, row, roles_of(session, row.app_cred_id))

    def delete(self, ctx: RequestContext, user_id: str, app_cred_id: str) -> None:
        with self.writing() as session:
            row = _owned(session, user_id, app_cred_id)
            purge_app_creds(session, [row.app_cred_id])
        self.notify(ctx, "application_credential", "deleted", app_cred_id)


def _owned(session: Session, user_id: str, app_cred_id: str) -> ApplicationCredential:
    row = session.get(ApplicationCredential, app_cred_id)
    if row is None or row.user_id != user_id:
        raise errors.ApplicationCredentialNotFound(app_cred_id)
    return row


def _view(session: Session, row: ApplicationCredential, roles: Iterable[NamedRef]) -> AppCredView:
    return AppCredView(
        app_cred_id=row.app_cred_id,
        name=row.name,
        user_id=row.user_id,
        project_id=row.project_id,
        description=row.description,
        expires_at=row.expires_at,
        unrestricted=row.unrestricted,
        roles=tuple(roles),
        access_rules=tuple(rule.as_dict() for rule in rules_of(session, row.app_cred_id)),
    )


def _delegated_roles(
    session: Session, creator_roles: Sequence[NamedRef], requested: Sequence[RoleRequest]
) -> tuple[NamedRef, ...]:
    """The requested roles, each one the creator's token holds; all of them when none asked."""
    if not requested:
        return tuple(creator_roles)
    held = {role.ref_id: role for role in creator_roles}
    chosen: dict[str, NamedRef] = {}
    for request in requested:
        role_id = request.role_id or _role_id_by_name(session, request.name or "")
        if role_id not in held:
            raise errors.ApplicationCredentialValidationError(
                "Cannot create an application credential with unassigned role"
            )
        chosen[role_id] = held[role_id]
    return tuple(chosen.values())


def _role_id_by_name(session: Session, name: str) -> str:
    role_id = session.scalars(
        select(Role.role_id).where(Role.name == name, Role.domain_id == GLOBAL_ROLE_DOMAIN)
    ).first()
    if role_id is None:
        raise errors.RoleNotFound(name)
    return role_id


def roles_of(session: Session, app_cred_id: str) -> tuple[NamedRef, ...]:
    """The roles a credential delegates, by name (a deleted role is gone from it)."""
    rows = session.execute(
        select(Role.role_id, Role.name)
        .join(ApplicationCredentialRole, ApplicationCredentialRole.role_id == Role.role_id)
        .where(ApplicationCredentialRole.app_cred_id == app_cred_id)
        .order_by(Role.name)
    )
    return tuple(NamedRef(role_id, name) for role_id, name in rows)


def purge_app_creds(session: Session, app_cred_ids: Sequence[str]) -> None:
    """Delete the credentials and their role and rule links, inside the caller's transaction;
    the access rules themselves stay with their user."""
    if not app_cred_ids:
        return
    session.execute(
        delete(ApplicationCredentialAccessRule).where(
            ApplicationCredentialAccessRule.app_cred_id.in_(app_cred_ids)
        )
    )
    session.execute(
        delete(ApplicationCredentialRole).where(
            ApplicationCredentialRole.app_cred_id.in_(app_cred_ids)
        )
    )
    session.execute(
        delete(ApplicationCredential).where(ApplicationCredential.app_cred_id.in_(app_cred_ids))
    )


# -- logging in with one -----------------------------------------------------------------


def check_app_cred_login(session: Session, login: AppCredLogin) -> ApplicationCredential:
    """The credential `login` proves, if its secret matches, it is unexpired and its user and
    the user's domain are enabled; ApplicationCredentialAuthError otherwise."""
    row = _find_for_login(session, login)
    if row is None:
        verify_password(None, login.secret)  # same time as a real check
        raise errors.ApplicationCredentialAuthError()
    if not verify_password(row.secret_hash, login.secret):
        raise errors.ApplicationCredentialAuthError()
    if is_expired(row):
        raise errors.ApplicationCredentialAuthError("The application credential has expired.")
    user = find_user(session, Ref(ref_id=row.user_id))
    if user is None or not user.enabled or not domain_enabled(session, user.domain_id):
        raise errors.AuthFailed()
    return row


def _find_for_login(session: Session, login: AppCredLogin) -> ApplicationCredential | None:
    if login.app_cred_id:
        return session.get(ApplicationCredential, login.app_cred_id)
    user = find_user(session, login.user or Ref())
    if user is None:
        return None
    return session.scalars(
        select(ApplicationCredential).where(
            ApplicationCredential.user_id == user.user_id,
            ApplicationCredential.name == login.name,
        )
    ).first()


def is_expired(row: ApplicationCredential) -> bool:
    return row.expires_at is not None and row.expires_at <= utcnow()


def restrict_roles(
    session: Session, app_cred_id: str, user_id: str, held: Sequence[NamedRef]
) -> tuple[ApplicationCredential, tuple[NamedRef, ...]]:
    """For a token obtained with the credential: the credential and the roles of `held` (the
    user's roles now) that it delegates. InvalidToken when it is gone, expired or not the
    user's."""
    row = session.get(ApplicationCredential, app_cred_id)
    if row is None or row.user_id != user_id:
        raise errors.InvalidToken("The token's application credential is gone.")
    if is_expired(row):
        raise errors.InvalidToken("The token's application credential has expired.")
    delegated = {role.ref_id for role in roles_of(session, app_cred_id)}
    return row, tuple(role for role in held if role.ref_id in delegated)
