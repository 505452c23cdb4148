"""Users: create, read, update, delete; passwords (rules, expiry, self-service change), options.

A password is stored only as its hash. Changing a password, or disabling a user, sets
`tokens_valid_after`, so every token issued before fails validation at once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.errors import BadRequest
from onestack.identity import errors
from onestack.identity.manager.base import IdentityBase
from onestack.identity.manager.cascade import purge_user
from onestack.identity.manager.fields import apply_fields
from onestack.identity.manager.login import authenticate_user, utcnow
from onestack.identity.models import Domain, Group, Membership, PasswordHistory, Project, User
from onestack.identity.passwords import hash_password, verify_password
from onestack.settings import IdentitySettings

COLUMNS = frozenset({"name", "enabled", "default_project_id"})
# Attributes that are computed or handled apart, never kept in `extra`.
SPECIAL = frozenset({"id", "password", "options", "domain_id", "links", "password_expires_at"})

# A password_expires_at filter: one or more "<op>:<timestamp>" joined by commas.
COMPARISONS = {
    "lt": lambda c, v: c < v,
    "lte": lambda c, v: c <= v,
    "gt": lambda c, v: c > v,
    "gte": lambda c, v: c >= v,
    "eq": lambda c, v: c == v,
    "neq": lambda c, v: c != v,
}


def check_password_rules(settings: IdentitySettings, password: str) -> None:
    """BadRequest, in Keystone's words, when `password` breaks the configured rules."""
    if len(password) < settings.password_min_length:
        raise BadRequest(
            "Password validation error: The password must be at least "
            f"{settings.password_min_length} characters long."
        )
    try:
        matches = not settings.password_regex or re.match(settings.password_regex, password)
    except re.error as exc:
        # The operator's setting is broken; Keystone refuses the password rather than fail.
        raise BadRequest(
            "Password validation error: Unable to validate password due to invalid "
            "regular expression."
        ) from exc
    if not matches:
        described = settings.password_regex_description or settings.password_regex
        raise BadRequest(
            f"Password validation error: The password does not match the requirements: {described}."
        )


def parse_expiry_filter(raw: str) -> list[tuple[str, datetime]]:
    """`lt:2016-12-08T22:02:00Z[,gt:...]` as (operator, naive UTC moment) pairs; 400 if bad."""
    found = []
    for part in raw.split(","):
        operator, moment = _split(part.strip())
        if operator not in COMPARISONS:
            raise BadRequest(
                f"Invalid operator in password_expires_at filter: '{operator}'; "
                f"use one of {', '.join(COMPARISONS)}."
            )
        try:
            parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError as exc:
            raise BadRequest(
                f"Invalid timestamp in password_expires_at filter: '{moment}'; "
                "expected YYYY-MM-DDTHH:mm:ssZ."
            ) from exc
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        found.append((operator, parsed))
    return found


def _split(part: str) -> tuple[str, str]:
    """`lt:<ts>` -> ("lt", "<ts>"); a bare timestamp means equality, as in Keystone."""
    head, _, tail = part.partition(":")
    if head.isalpha():
        return head, tail
    return "eq", part


class UserManager(IdentityBase):
    def get(self, user_id: str) -> User:
        with self.db.reader() as session:
            user = session.get(User, user_id)
        if user is None:
            raise errors.UserNotFound(user_id)
        return user

    def list(
        self,
        name: str | None = None,
        domain_id: str | None = None,
        enabled: bool | None = None,
        expires: Sequence[tuple[str, datetime]] = (),
    ) -> list[User]:
        query = select(User).order_by(User.name, User.user_id)
        if name is not None:
            query = query.where(User.name == name)
        if domain_id is not None:
            query = query.where(User.domain_id == domain_id)
        if enabled is not None:
            query = query.where(User.enabled.is_(enabled))
        for operator, moment in expires:
            condition: ColumnElement[bool] = COMPARISONS[operator](User.password_expires_at, moment)
            query = query.where(condition)
        with self.db.reader() as session:
            return list(session.scalars(query))

    def create(self, ctx: RequestContext, fields: Mapping[str, Any]) -> User:
        values = dict(fields)
        password = values.pop("password", None)
        options = _merge_options({}, values.pop("options", None))
        user = User(
            user_id=uuid.uuid4().hex,
            domain_id=values.pop("domain_id"),
            enabled=True,
            created_at=utcnow(),
            failed_auth_count=0,
            options=options,
            extra={},
        )
        apply_fields(user, _plain(values), COLUMNS)
        if password is not None:
            check_password_rules(self.settings, password)
            self._store_hash(user, hash_password(password), by_admin=True)
        conflict = f"Duplicate entry: a user named '{user.name}' exists in this domain."
        with self.writing(conflict) as session:
            if session.get(Domain, user.domain_id) is None:
                raise errors.DomainNotFound(user.domain_id)
            _check_default_project(session, user.default_project_id)
            session.add(user)
            session.flush()  # the user row first: its history row points at it
            _remember_password(session, user)
        self.notify(ctx, "user", "created", user.user_id)
        return user

    def update(self, ctx: RequestContext, user_id: str, changes: Mapping[str, Any]) -> User:
        """Apply `changes`; a new password (or none) or disabling ends the user's tokens."""
        values = dict(changes)
        password = values.pop("password", ...)  # ... = unchanged, None = remove the password
        options = values.pop("options", None)
        domain_id = values.pop("domain_id", None)
        hashed = None
        if isinstance(password, str):
            check_password_rules(self.settings, password)
            hashed = hash_password(password)  # outside the transaction: it takes a while
        conflict = f"Duplicate entry: a user named '{values.get('name')}' exists in this domain."
        with self.writing(conflict) as session:
            user = self._for_update(session, user_id, domain_id, values)
            was_enabled = user.enabled
            apply_fields(user, _plain(values), COLUMNS)
            if options is not None:
                user.options = _merge_options(user.options or {}, options)
            if hashed is not None:
                self._store_hash(user, hashed, by_admin=True)
                _remember_password(session, user)
            elif password is None:
                user.password_hash = user.password_expires_at = user.password_created_at = None
                user.tokens_valid_after = utcnow()
            if was_enabled and not user.enabled:
                # Re-enabling the user later must not bring old tokens back.
                user.tokens_valid_after = utcnow()
        self.notify(ctx, "user", "updated", user_id)
        return user

    def _for_update(
        self, session: Session, user_id: str, domain_id: str | None, values: Mapping[str, Any]
    ) -> User:
        """The user row to change, once the changes are known to be acceptable."""
        user = session.get(User, user_id)
        if user is None:
            raise errors.UserNotFound(user_id)
        if domain_id is not None and domain_id != user.domain_id:
            raise BadRequest("Cannot change the domain_id of a user.")
        if "default_project_id" in values:
            _check_default_project(session, values["default_project_id"])
        return user

    def delete(self, ctx: RequestContext, user_id: str) -> None:
        with self.writing() as session:
            if session.get(User, user_id) is None:
                raise errors.UserNotFound(user_id)
            purge_user(session, user_id)
        self.notify(ctx, "user", "deleted", user_id)

    def change_password(self, user_id: str, original: str, new: str) -> None:
        """The user's own change: the original password must be right (it may have expired)."""
        with self.db.reader() as session:
            user = session.get(User, user_id)
            if user is None:
                raise errors.AuthFailed()
            authenticate_user(session, self.settings, user, original, allow_expired=True)
            if user.options and user.options.get("lock_password"):
                raise errors.PasswordSelfServiceDisabled()
        check_password_rules(self.settings, new)
        self._check_compliance(user, new)
        hashed = hash_password(new)
        with self.writing() as session:
            row = session.get(User, user_id)
            if row is None:
                raise errors.UserNotFound(user_id)
            self._store_hash(row, hashed)
            _remember_password(session, row)
        self.notify(RequestContext(user_id, user.domain_id), "user", "updated", user_id)

    def groups_of(self, user_id: str) -> list[Group]:
        with self.db.reader() as session:
            if session.get(User, user_id) is None:
                raise errors.UserNotFound(user_id)
            return list(
                session.scalars(
                    select(Group)
                    .join(Membership, Membership.group_id == Group.group_id)
                    .where(Membership.user_id == user_id)
                    .order_by(Group.name)
                )
            )

    def _check_compliance(self, user: User, new: str) -> None:
        """A user's own change: the current password is old enough, and the new one is none
        of their last passwords (Keystone's minimum_password_age, unique_last_password_count)."""
        days = self.settings.minimum_password_age_days
        expired = user.password_expires_at is not None and user.password_expires_at <= utcnow()
        if days and user.password_created_at is not None and not expired:
            allowed_at = user.password_created_at + timedelta(days=days)
            if utcnow() < allowed_at:
                raise errors.PasswordAgeValidationError(days, (allowed_at - utcnow()).days)
        unique = self.settings.unique_last_password_count
        if unique > 0:  # Keystone checks the last N passwords, the current one included
            with self.db.reader() as session:
                recent = _recent_hashes(session, user, unique)
            if any(verify_password(hashed, new) for hashed in recent):
                raise errors.PasswordHistoryValidationError(unique)

    def _store_hash(self, user: User, hashed: str, by_admin: bool = False) -> None:
        now = utcnow()
        user.password_hash = hashed
        user.password_created_at = now
        days = self.settings.password_expires_days
        options = user.options or {}
        ignore = bool(options.get("ignore_password_expiry"))
        user.password_expires_at = now + timedelta(days=days) if days and not ignore else None
        first_use = by_admin and self.settings.change_password_upon_first_use
        if first_use and not options.get("ignore_change_password_upon_first_use"):
            user.password_expires_at = now  # its user must change it to log in
        user.tokens_valid_after = now
        user.failed_auth_count = 0
        user.failed_auth_at = None


def _remember_password(session: Session, user: User) -> None:
    if user.password_hash is not None and user.password_created_at is not None:
        entry = PasswordHistory(
            user_id=user.user_id,
            password_hash=user.password_hash,
            created_at=user.password_created_at,
        )
        session.add(entry)


def _recent_hashes(session: Session, user: User, count: int) -> list[str]:
    """The user's current password hash and those before it, `count` in all, newest first."""
    rows = session.scalars(
        select(PasswordHistory.password_hash)
        .where(PasswordHistory.user_id == user.user_id)
        .order_by(PasswordHistory.created_at.desc(), PasswordHistory.entry_id.desc())
        .limit(count)
    )
    hashes = list(rows)
    if user.password_hash and user.password_hash not in hashes:
        hashes = [user.password_hash, *hashes][:count]
    return hashes


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if key not in SPECIAL}


def _merge_options(current: Mapping[str, Any], changes: Mapping[str, Any] | None) -> dict[str, Any]:
    """Keystone's option update: a null value removes the option, others set it."""
    merged = dict(current)
    for key, value in (changes or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _check_default_project(session: Session, project_id: str | None) -> None:
    if project_id is not None and session.get(Project, project_id) is None:
        raise BadRequest(f"Invalid default_project_id: Could not find project: {project_id}.")
