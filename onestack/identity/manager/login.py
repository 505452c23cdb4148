"""Password login: the checks a password must pass before a token is issued.

Order follows Keystone: a locked account is refused before its password is even looked at; a
wrong password counts towards the lockout; a disabled user or domain looks like a wrong
password; an expired password is refused last (with a message saying so, since the caller
proved they know it). The failure counter is written in its own short transaction because
token issue runs in a read-only session.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.orm import Session

from onestack.common.errors import BadRequest
from onestack.identity import errors
from onestack.identity.manager.lookup import domain_enabled, find_user
from onestack.identity.models import User
from onestack.identity.passwords import verify_password
from onestack.settings import IdentitySettings


def utcnow() -> datetime:
    """Now, naive UTC, as the identity tables store moments."""
    return datetime.now(UTC).replace(tzinfo=None)


def check_login(session: Session, settings: IdentitySettings, request: object) -> str:
    """The id of the user the request's password method proves; AuthFailed otherwise."""
    ref = getattr(request, "user", None)
    password = getattr(request, "password", None)
    if ref is None or password is None:
        raise BadRequest("The password method needs a user and a password.")
    user = find_user(session, ref)
    if user is None:
        verify_password(None, password)  # same time as a real check
        raise errors.AuthFailed()
    authenticate_user(session, settings, user, password)
    return user.user_id


def authenticate_user(
    session: Session,
    settings: IdentitySettings,
    user: User,
    password: str,
    allow_expired: bool = False,
) -> None:
    """Raise unless `password` is `user`'s and the user may log in now."""
    now = utcnow()
    if is_locked(settings, user, now):
        raise errors.AccountLocked(user.user_id)
    if not verify_password(user.password_hash, password):
        if settings.lockout_failure_attempts:
            _record_failure(session, settings, user, now)
        raise errors.AuthFailed()
    if not user.enabled or not domain_enabled(session, user.domain_id):
        raise errors.AuthFailed()
    if not allow_expired and password_expired(user, now):
        raise errors.PasswordExpired(user.user_id)
    if user.failed_auth_count:
        _write(session, user.user_id, failed_auth_count=0, failed_auth_at=None)


def option(user: User, name: str) -> bool:
    return bool((user.options or {}).get(name))


def password_expires_at(user: User) -> datetime | None:
    """When the user's password expires, as shown to clients; None for never."""
    if option(user, "ignore_password_expiry"):
        return None
    return user.password_expires_at


def password_expired(user: User, now: datetime) -> bool:
    expires_at = password_expires_at(user)
    return expires_at is not None and expires_at <= now


def is_locked(settings: IdentitySettings, user: User, now: datetime) -> bool:
    attempts = settings.lockout_failure_attempts
    if not attempts or option(user, "ignore_lockout_failure_attempts"):
        return False
    if (user.failed_auth_count or 0) < attempts or user.failed_auth_at is None:
        return False
    return user.failed_auth_at + timedelta(seconds=settings.lockout_duration_s) > now


def _record_failure(
    session: Session, settings: IdentitySettings, user: User, now: datetime
) -> None:
    attempts = settings.lockout_failure_attempts or 0
    if (user.failed_auth_count or 0) >= attempts:
        # The previous lockout has run out: this failure starts a new count.
        _write(session, user.user_id, failed_auth_count=1, failed_auth_at=now)
    else:
        _write(
            session,
            user.user_id,
            failed_auth_count=func.coalesce(User.failed_auth_count, 0) + 1,
            failed_auth_at=now,
        )


def _write(session: Session, user_id: str, **values: object) -> None:
    """A short write transaction of its own, next to the caller's read session."""
    with Session(session.get_bind()) as writer, writer.begin():
        writer.execute(update(User).where(User.user_id == user_id).values(**values))
