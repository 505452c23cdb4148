"""Request bodies of the identity API as pydantic models, and their mapping to the manager's.

Unknown fields are tolerated where Keystone tolerates them; types and required fields are not.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from onestack.common.errors import BadRequest
from onestack.identity.api.fields import Attributes, Id, Name
from onestack.identity.manager import AuthRequest, Ref
from onestack.identity.manager.app_credentials import AppCredLogin

# Keystone tolerates unknown keys throughout the auth body.
_Body = Attributes


class DomainRef(_Body):
    id: Id | None = None
    name: Name | None = None


class UserRef(_Body):
    id: Id | None = None
    name: Name | None = None
    domain: DomainRef | None = None
    password: Annotated[str, StringConstraints(max_length=4096, strict=True)]


class PasswordMethod(_Body):
    user: UserRef


class TokenMethod(_Body):
    id: Annotated[str, StringConstraints(min_length=1, max_length=1024, strict=True)]


class AppCredUserRef(_Body):
    id: Id | None = None
    name: Name | None = None
    domain: DomainRef | None = None


class AppCredMethod(_Body):
    id: Id | None = None
    name: Name | None = None
    user: AppCredUserRef | None = None
    secret: Annotated[str, StringConstraints(min_length=1, max_length=4096, strict=True)]


class Identity(_Body):
    methods: Annotated[list[Name], Field(min_length=1)]
    password: PasswordMethod | None = None
    token: TokenMethod | None = None
    application_credential: AppCredMethod | None = None


class ProjectRef(_Body):
    id: Id | None = None
    name: Name | None = None
    domain: DomainRef | None = None


class SystemRef(_Body):
    all: Literal[True]


class TrustRef(_Body):
    id: Id


class Scope(_Body):
    project: ProjectRef | None = None
    domain: DomainRef | None = None
    system: SystemRef | None = None
    trust: TrustRef | None = Field(None, alias="OS-TRUST:trust")


class Auth(_Body):
    identity: Identity
    scope: Scope | Literal["unscoped"] | None = None


class AuthBody(_Body):
    auth: Auth


def to_auth_request(body: AuthBody, header_token: str | None) -> AuthRequest:
    """The manager's view of a token request; BadRequest when a listed method has no data."""
    identity = body.auth.identity
    methods = tuple(dict.fromkeys(identity.methods))
    fields: dict = {"methods": methods}
    if "password" in methods:
        if identity.password is None:
            raise BadRequest("Invalid input for field 'identity': 'password' is required.")
        user = identity.password.user
        fields["user"] = _ref(user.id, user.name, user.domain)
        fields["password"] = user.password
    if "token" in methods:
        token_id = identity.token.id if identity.token else header_token
        if not token_id:
            raise BadRequest("Invalid input for field 'identity': 'token' is required.")
        fields["token_id"] = token_id
    if "application_credential" in methods:
        fields["app_cred"] = _app_cred_login(identity.application_credential)
    fields.update(_scope(body.auth.scope))
    return AuthRequest(**fields)


def _app_cred_login(method: AppCredMethod | None) -> AppCredLogin:
    """By id, or by name with its user (by id, or by name and domain)."""
    if method is None:
        raise BadRequest(
            "Invalid input for field 'identity': 'application_credential' is required."
        )
    if method.id:
        return AppCredLogin(secret=method.secret, app_cred_id=method.id)
    if not method.name or method.user is None:
        raise BadRequest(
            "Invalid input for field 'application_credential': an id, or a name and a user, "
            "is required."
        )
    user = _ref(method.user.id, method.user.name, method.user.domain)
    if user.ref_id is None and not (user.domain_id or user.domain_name):
        raise BadRequest(
            "Invalid input for field 'application_credential.user': a user given by name "
            "needs its domain."
        )
    return AppCredLogin(secret=method.secret, name=method.name, user=user)


def _scope(scope: Scope | str | None) -> dict:
    if scope == "unscoped":
        return {"wants_unscoped": True}
    if scope is None or isinstance(scope, str):
        return {}
    given = [
        name
        for name in ("project", "domain", "system", "trust")
        if getattr(scope, name) is not None
    ]
    if len(given) > 1:
        raise BadRequest("Only one of project, domain, system or OS-TRUST:trust may be the scope.")
    if scope.trust is not None:
        return {"scope": "trust", "trust_id": scope.trust.id}
    if scope.project is not None:
        return {
            "scope": "project",
            "scope_ref": _ref(scope.project.id, scope.project.name, scope.project.domain),
        }
    if scope.domain is not None:
        return {"scope": "domain", "scope_ref": _ref(scope.domain.id, scope.domain.name, None)}
    if scope.system is not None:
        return {"scope": "system"}
    return {}


def _ref(ref_id: str | None, name: str | None, domain: DomainRef | None) -> Ref:
    if not (ref_id or name):
        raise BadRequest("Invalid input: an id or a name is required.")
    return Ref(
        ref_id=ref_id,
        name=name,
        domain_id=domain.id if domain else None,
        domain_name=domain.name if domain else None,
    )
