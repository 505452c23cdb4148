"""Access rules: the (service, method, path) requests a user's application credentials may be
limited to.

Rules belong to the user and are shared: naming an identical rule again reuses it, a rule may
be named by id, a rule in use by a credential cannot be deleted, and a rule outlives the
credentials that named it (as Keystone's do). They are stored and shown; no service enforces
them yet.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.identity import errors
from onestack.identity.manager.base import IdentityBase
from onestack.identity.models import AccessRule, ApplicationCredentialAccessRule


@dataclass(frozen=True)
class AccessRuleRequest:
    """A rule as a create request names it: by id, or by its three parts."""

    access_rule_id: str | None = None
    service: str | None = None
    method: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class AccessRuleView:
    access_rule_id: str
    user_id: str
    service: str
    method: str
    path: str

    def as_dict(self) -> dict[str, str]:
        """The rule as it appears inside an application credential or a token."""
        return {
            "id": self.access_rule_id,
            "service": self.service,
            "method": self.method,
            "path": self.path,
        }


def _view(row: AccessRule) -> AccessRuleView:
    return AccessRuleView(row.access_rule_id, row.user_id, row.service, row.method, row.path)


def resolve_rules(
    session: Session, user_id: str, requested: Sequence[AccessRuleRequest]
) -> list[AccessRule]:
    """The user's rules for `requested`, reusing identical ones and adding the new ones."""
    found: dict[str, AccessRule] = {}
    for request in requested:
        row = _existing(session, user_id, request) or _new(session, user_id, request)
        found[row.access_rule_id] = row
    return list(found.values())


def _existing(session: Session, user_id: str, request: AccessRuleRequest) -> AccessRule | None:
    if request.access_rule_id is not None:
        row = session.get(AccessRule, request.access_rule_id)
        if row is None or row.user_id != user_id:
            raise errors.AccessRuleNotFound(request.access_rule_id)
        return row
    return session.scalars(
        select(AccessRule).where(
            AccessRule.user_id == user_id,
            AccessRule.service == request.service,
            AccessRule.method == request.method,
            AccessRule.path == request.path,
        )
    ).first()


def _new(session: Session, user_id: str, request: AccessRuleRequest) -> AccessRule:
    row = AccessRule(
        access_rule_id=uuid.uuid4().hex,
        user_id=user_id,
        service=request.service,
        method=request.method,
        path=request.path,
    )
    session.add(row)
    session.flush()  # a later identical request in the same body must find it
    return row


def rules_of(session: Session, app_cred_id: str) -> tuple[AccessRuleView, ...]:
    rows = session.scalars(
        select(AccessRule)
        .join(
            ApplicationCredentialAccessRule,
            ApplicationCredentialAccessRule.access_rule_id == AccessRule.access_rule_id,
        )
        .where(ApplicationCredentialAccessRule.app_cred_id == app_cred_id)
        .order_by(AccessRule.service, AccessRule.path, AccessRule.method)
    )
    return tuple(_view(row) for row in rows)


def purge_user_rules(session: Session, user_id: str) -> None:
    """Delete the user's rules; their credentials (and so the links) must be gone already."""
    session.execute(delete(AccessRule).where(AccessRule.user_id == user_id))


class AccessRuleManager(IdentityBase):
    def list(
        self,
        user_id: str,
        service: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> list[AccessRuleView]:
        query = select(AccessRule).where(AccessRule.user_id == user_id)
        for column, value in (
            (AccessRule.service, service),
            (AccessRule.method, method),
            (AccessRule.path, path),
        ):
            if value is not None:
                query = query.where(column == value)
        order = (AccessRule.service, AccessRule.path, AccessRule.method)
        with self.db.reader() as session:
            return [_view(row) for row in session.scalars(query.order_by(*order))]

    def get(self, user_id: str, access_rule_id: str) -> AccessRuleView:
        with self.db.reader() as session:
            return _view(_owned(session, user_id, access_rule_id))

    def delete(self, ctx: RequestContext, user_id: str, access_rule_id: str) -> None:
        with self.writing() as session:
            row = _owned(session, user_id, access_rule_id)
            in_use = session.scalars(
                select(ApplicationCredentialAccessRule.app_cred_id).where(
                    ApplicationCredentialAccessRule.access_rule_id == access_rule_id
                )
            ).first()
            if in_use is not None:
                raise errors.ActionForbidden(
                    f"Cannot delete access rule {access_rule_id}: application credential "
                    f"{in_use} uses it."
                )
            session.delete(row)
        self.notify(ctx, "access_rule", "deleted", access_rule_id)


def _owned(session: Session, user_id: str, access_rule_id: str) -> AccessRule:
    row = session.get(AccessRule, access_rule_id)
    if row is None or row.user_id != user_id:
        raise errors.AccessRuleNotFound(access_rule_id)
    return row
