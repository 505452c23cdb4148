"""Password login: the checks a password must pass before a token is issued."""

from __future__ import annotations

from sqlalchemy.orm import Session

from onestack.common.errors import BadRequest
from onestack.identity import errors
from onestack.identity.manager.lookup import domain_enabled, find_user
from onestack.identity.passwords import verify_password
from onestack.settings import IdentitySettings


def check_login(session: Session, settings: IdentitySettings, request: object) -> str:
    """The id of the user the request's password method proves; AuthFailed otherwise."""
    ref = getattr(request, "user", None)
    password = getattr(request, "password", None)
    if ref is None or password is None:
        raise BadRequest("The password method needs a user and a password.")
    user = find_user(session, ref)
    if not verify_password(user.password_hash if user else None, password):
        raise errors.AuthFailed()
    assert user is not None
    if not user.enabled or not domain_enabled(session, user.domain_id):
        raise errors.AuthFailed()
    return user.user_id
