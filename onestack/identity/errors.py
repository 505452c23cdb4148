"""Identity's domain errors, named as Keystone names them; rendered by `identity.api`."""

from __future__ import annotations

from onestack.common.errors import Forbidden, NotFound, Unauthorized


class AuthFailed(Unauthorized):
    """Wrong user, wrong password, disabled user: all look the same to the caller."""

    message = "The request you have made requires authentication."


class TokenNotFound(NotFound):
    message = "Could not find token."


class InvalidToken(Unauthorized):
    message = "The token is invalid, expired or revoked."


class ScopeNotAllowed(Unauthorized):
    message = "The user has no role on the requested scope."


class ProjectNotFound(Unauthorized):
    message = "The requested project could not be found or is disabled."


class DomainNotFound(Unauthorized):
    message = "The requested domain could not be found or is disabled."


class ActionForbidden(Forbidden):
    pass
