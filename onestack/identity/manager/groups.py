"""Groups and their membership.

Membership changes are announced as identity.group.updated, as Keystone does.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.errors import BadRequest, NotFound
from onestack.identity import errors
from onestack.identity.manager.base import IdentityBase
from onestack.identity.manager.cascade import purge_group
from onestack.identity.manager.fields import apply_fields
from onestack.identity.manager.users import COMPARISONS
from onestack.identity.models import Domain, Group, Membership, User

COLUMNS = frozenset({"name", "description"})


class GroupManager(IdentityBase):
    def get(self, group_id: str) -> Group:
        with self.db.reader() as session:
            group = session.get(Group, group_id)
        if group is None:
            raise errors.GroupNotFound(group_id)
        return group

    def list(self, name: str | None = None, domain_id: str | None = None) -> list[Group]:
        query = select(Group).order_by(Group.name, Group.group_id)
        if name is not None:
            query = query.where(Group.name == name)
        if domain_id is not None:
            query = query.where(Group.domain_id == domain_id)
        with self.db.reader() as session:
            return list(session.scalars(query))

    def create(self, ctx: RequestContext, fields: Mapping[str, Any]) -> Group:
        group = Group(
            group_id=uuid.uuid4().hex,
            name=fields["name"],
            domain_id=fields["domain_id"],
            description=fields.get("description") or "",
            extra={k: v for k, v in fields.items() if k not in COLUMNS | {"domain_id"}},
        )
        conflict = f"Duplicate entry: a group named '{group.name}' exists in this domain."
        with self.writing(conflict) as session:
            if session.get(Domain, group.domain_id) is None:
                raise errors.DomainNotFound(group.domain_id)
            session.add(group)
        self.notify(ctx, "group", "created", group.group_id)
        return group

    def update(self, ctx: RequestContext, group_id: str, changes: Mapping[str, Any]) -> Group:
        conflict = f"Duplicate entry: a group named '{changes.get('name')}' exists in this domain."
        with self.writing(conflict) as session:
            group = session.get(Group, group_id)
            if group is None:
                raise errors.GroupNotFound(group_id)
            if changes.get("domain_id", group.domain_id) != group.domain_id:
                raise BadRequest("Update of `domain_id` is not allowed.")
            if changes.get("description", "") is None:
                changes = {**changes, "description": ""}
            apply_fields(group, {k: v for k, v in changes.items() if k != "domain_id"}, COLUMNS)
        self.notify(ctx, "group", "updated", group_id)
        return group

    def delete(self, ctx: RequestContext, group_id: str) -> None:
        with self.writing() as session:
            if session.get(Group, group_id) is None:
                raise errors.GroupNotFound(group_id)
            purge_group(session, group_id)
        self.notify(ctx, "group", "deleted", group_id)

    def members(self, group_id: str, expires: Sequence[tuple[str, datetime]] = ()) -> list[User]:
        """The group's users, optionally filtered on password_expires_at as the user list is."""
        query = (
            select(User)
            .join(Membership, Membership.user_id == User.user_id)
            .where(Membership.group_id == group_id)
            .order_by(User.name)
        )
        for operator, moment in expires:
            query = query.where(COMPARISONS[operator](User.password_expires_at, moment))
        with self.db.reader() as session:
            if session.get(Group, group_id) is None:
                raise errors.GroupNotFound(group_id)
            return list(session.scalars(query))

    def add_member(self, ctx: RequestContext, group_id: str, user_id: str) -> None:
        """Idempotent, as Keystone's PUT is."""
        with self.writing() as session:
            _pair(session, group_id, user_id)
            if session.get(Membership, (group_id, user_id)) is None:
                session.add(Membership(group_id=group_id, user_id=user_id))
        self.notify(ctx, "group", "updated", group_id)

    def check_member(self, group_id: str, user_id: str) -> None:
        with self.db.reader() as session:
            _pair(session, group_id, user_id)
            if session.get(Membership, (group_id, user_id)) is None:
                raise _not_member(group_id, user_id)

    def remove_member(self, ctx: RequestContext, group_id: str, user_id: str) -> None:
        with self.writing() as session:
            _pair(session, group_id, user_id)
            membership = session.get(Membership, (group_id, user_id))
            if membership is None:
                raise _not_member(group_id, user_id)
            session.delete(membership)
        self.notify(ctx, "group", "updated", group_id)


def _pair(session: Session, group_id: str, user_id: str) -> None:
    if session.get(Group, group_id) is None:
        raise errors.GroupNotFound(group_id)
    if session.get(User, user_id) is None:
        raise errors.UserNotFound(user_id)


def _not_member(group_id: str, user_id: str) -> NotFound:
    return NotFound(f"User '{user_id}' not found in group '{group_id}'.")
