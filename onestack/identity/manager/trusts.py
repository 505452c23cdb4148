"""Trusts (OS-TRUST): a trustor delegates some of their roles on a project to a trustee.

The trustee authenticates as themselves and asks for a token scoped to the trust; that token
acts as the trustor when the trust impersonates, else as the trustee, with the trust's roles
(implied roles expanded) that the trustor still holds. Everything is re-checked whenever such
a token is validated (`check_in_use`): a deleted or expired trust, a gone or disabled trustor
or trustee, or a role the trustor lost invalidates its tokens at once.

A trust may be created with a trust-scoped token only when that trust allows redelegation: the
new trust then narrows it (roles, expiry, impersonation) and counts one redelegation down.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.identity import errors
from onestack.identity.manager.app_credentials import RoleRequest
from onestack.identity.manager.base import IdentityBase
from onestack.identity.manager.effective import closure, effective_roles, implication_map
from onestack.identity.manager.login import utcnow
from onestack.identity.manager.lookup import NamedRef
from onestack.identity.models import Project, Role, Trust, TrustRole, User

# Keystone's [trust] max_redelegation_count default.
MAX_REDELEGATION_COUNT = 3


@dataclass(frozen=True)
class TrustRequest:
    trustor_user_id: str
    trustee_user_id: str
    impersonation: bool
    project_id: str | None = None
    expires_at: datetime | None = None  # naive UTC
    remaining_uses: int | None = None
    allow_redelegation: bool = False
    redelegation_count: int | None = None
    roles: tuple[RoleRequest, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrustView:
    trust: Trust
    roles: tuple[NamedRef, ...]


class TrustManager(IdentityBase):
    def create(
        self, ctx: RequestContext, request: TrustRequest, parent_id: str | None = None
    ) -> TrustView:
        """A new trust of `request.trustor_user_id`; `parent_id` is the trust of the creating
        token, when it is trust-scoped (a redelegation)."""
        with self.writing() as session:
            _check_request(session, request)
            roles = _resolve_roles(session, request)
            row = _new_row(request)
            if parent_id is None:
                _check_trustor_holds(session, request, roles)
            else:  # the roles are the parent trust's, not the new trustor's own
                _redelegate(session, row, roles, parent_id)
            session.add(row)
            session.flush()
            session.add_all(TrustRole(trust_id=row.trust_id, role_id=r.ref_id) for r in roles)
        self.notify(ctx, "OS-TRUST:trust", "created", row.trust_id)
        return TrustView(row, roles)

    def get(self, trust_id: str) -> TrustView:
        with self.db.reader() as session:
            row = _active(session, trust_id)
            return TrustView(row, roles_of(session, trust_id))

    def list(
        self, trustor_user_id: str | None = None, trustee_user_id: str | None = None
    ) -> list[TrustView]:
        query = select(Trust).where(Trust.deleted_at.is_(None)).order_by(Trust.trust_id)
        if trustor_user_id is not None:
            query = query.where(Trust.trustor_user_id == trustor_user_id)
        if trustee_user_id is not None:
            query = query.where(Trust.trustee_user_id == trustee_user_id)
        with self.db.reader() as session:
            rows = [row for row in session.scalars(query) if not _expired(row)]
            return [TrustView(row, roles_of(session, row.trust_id)) for row in rows]

    def delete(self, ctx: RequestContext, trust_id: str) -> None:
        with self.writing() as session:
            row = session.get(Trust, trust_id)
            if row is None or row.deleted_at is not None:
                raise errors.TrustNotFound(trust_id)
            row.deleted_at = utcnow()
        self.notify(ctx, "OS-TRUST:trust", "deleted", trust_id)


def consume(session: Session, trust_id: str, trustee_user_id: str) -> Trust:
    """Use the trust once for a token the trustee asked for, in the caller's write: 403 when
    it is not theirs or its uses are spent, 404 when it is gone. Counting down is one
    compare-and-set, so concurrent logins never use a trust more often than it allows."""
    row = _active(session, trust_id)
    if row.trustee_user_id != trustee_user_id:
        raise errors.TrustForbidden("Only the trustee may use a trust.")
    if row.project_id is None:
        raise errors.TrustForbidden("A trust without a project cannot scope a token.")
    if row.remaining_uses is not None:
        used = session.execute(
            update(Trust)
            .where(Trust.trust_id == trust_id, Trust.remaining_uses > 0)
            .values(remaining_uses=Trust.remaining_uses - 1)
        )
        if used.rowcount != 1:  # type: ignore[attr-defined]
            raise errors.TrustForbidden("The trust has no uses left.")
    return row


def roles_of(session: Session, trust_id: str) -> tuple[NamedRef, ...]:
    """The roles the trust names, by name (a deleted role is gone from it)."""
    rows = session.execute(
        select(Role.role_id, Role.name)
        .join(TrustRole, TrustRole.role_id == Role.role_id)
        .where(TrustRole.trust_id == trust_id)
        .order_by(Role.name)
    )
    return tuple(NamedRef(role_id, name) for role_id, name in rows)


def check_in_use(session: Session, trust_id: str) -> tuple[Trust, tuple[NamedRef, ...]]:
    """For a trust-scoped token being validated: the trust and the roles it grants now (its
    roles and what they imply, that the trustor still holds). InvalidToken otherwise."""
    row = session.get(Trust, trust_id)
    if row is None or row.deleted_at is not None or _expired(row):
        raise errors.InvalidToken("The token's trust is gone or expired.")
    for user_id in (row.trustor_user_id, row.trustee_user_id):
        user = session.get(User, user_id)
        if user is None or not user.enabled:
            raise errors.InvalidToken("The trust's trustor or trustee is gone or disabled.")
    delegated = closure((r.ref_id for r in roles_of(session, trust_id)), implication_map(session))
    held = effective_roles(session, row.trustor_user_id, "project", row.project_id or "")
    granted = tuple(role for role in held if role.ref_id in delegated)
    if not granted:
        raise errors.InvalidToken("The trustor no longer holds the trust's roles.")
    return row, granted


def _active(session: Session, trust_id: str) -> Trust:
    row = session.get(Trust, trust_id)
    if row is None or row.deleted_at is not None or _expired(row):
        raise errors.TrustNotFound(trust_id)
    return row


def _expired(row: Trust) -> bool:
    return row.expires_at is not None and row.expires_at <= utcnow()


def _check_request(session: Session, request: TrustRequest) -> None:
    if request.expires_at is not None and request.expires_at <= utcnow():
        raise errors.TrustValidationError("'expires_at' must be in the future.")
    if request.remaining_uses is not None and request.remaining_uses <= 0:
        raise errors.TrustValidationError("'remaining_uses' must be a positive integer or null.")
    if request.roles and request.project_id is None:
        raise errors.TrustValidationError("roles may only be delegated on a project.")
    for user_id in (request.trustor_user_id, request.trustee_user_id):
        if session.get(User, user_id) is None:
            raise errors.UserNotFound(user_id)
    if request.project_id is not None and session.get(Project, request.project_id) is None:
        raise errors.ProjectNotFound(request.project_id)


def _resolve_roles(session: Session, request: TrustRequest) -> tuple[NamedRef, ...]:
    found: dict[str, NamedRef] = {}
    for wanted in request.roles:
        query = select(Role)
        if wanted.role_id:
            query = query.where(Role.role_id == wanted.role_id)
        else:
            query = query.where(Role.name == wanted.name)
        role = session.scalars(query).first()
        if role is None:
            raise errors.RoleNotFound(wanted.role_id or wanted.name or "")
        found[role.role_id] = NamedRef(role.role_id, role.name)
    return tuple(sorted(found.values(), key=lambda r: r.name))


def _check_trustor_holds(
    session: Session, request: TrustRequest, roles: Sequence[NamedRef]
) -> None:
    if request.project_id is None:
        return
    trustor = request.trustor_user_id
    held = {r.ref_id for r in effective_roles(session, trustor, "project", request.project_id)}
    if any(role.ref_id not in held for role in roles):
        raise errors.TrustForbidden("The trustor does not hold every role of the trust.")


def _new_row(request: TrustRequest) -> Trust:
    count = request.redelegation_count
    if request.allow_redelegation and count is None:
        count = MAX_REDELEGATION_COUNT
    return Trust(
        trust_id=uuid.uuid4().hex,
        trustor_user_id=request.trustor_user_id,
        trustee_user_id=request.trustee_user_id,
        project_id=request.project_id,
        impersonation=request.impersonation,
        expires_at=request.expires_at,
        remaining_uses=request.remaining_uses,
        allow_redelegation=request.allow_redelegation,
        redelegation_count=count if request.allow_redelegation else None,
        extra=dict(request.extra),
    )


def _redelegate(session: Session, row: Trust, roles: Sequence[NamedRef], parent_id: str) -> None:
    """Make `row` a redelegation of the parent trust, narrowing it; 403 when it may not."""
    parent = _active(session, parent_id)
    if not parent.allow_redelegation or not parent.redelegation_count:
        raise errors.TrustForbidden("The token's trust does not allow redelegation.")
    if row.trustor_user_id != parent.trustee_user_id or row.project_id != parent.project_id:
        raise errors.TrustForbidden("A redelegated trust is the trustee's, on the same project.")
    if row.impersonation and not parent.impersonation:
        raise errors.TrustForbidden("A redelegated trust cannot add impersonation.")
    parent_roles = {r.ref_id for r in roles_of(session, parent.trust_id)}
    if any(role.ref_id not in parent_roles for role in roles):
        raise errors.TrustForbidden("A redelegated trust cannot add roles.")
    if parent.expires_at is not None and (
        row.expires_at is None or row.expires_at > parent.expires_at
    ):
        raise errors.TrustForbidden("A redelegated trust cannot outlive its parent.")
    row.redelegated_trust_id = parent.trust_id
    requested = row.redelegation_count
    remaining = parent.redelegation_count - 1
    row.redelegation_count = min(requested, remaining) if requested is not None else remaining
    row.allow_redelegation = row.allow_redelegation and row.redelegation_count > 0
