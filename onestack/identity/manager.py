"""Identity's logic and its only writes: authenticate, issue, validate and revoke tokens.

The API layer parses requests into `AuthRequest` and renders what comes back; this module
never sees HTTP. Other services reach identity through `IdentityManager.validate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from onestack.common.db import Database
from onestack.common.errors import BadRequest
from onestack.identity import errors
from onestack.identity.models import (
    SYSTEM_TARGET,
    Assignment,
    Domain,
    Endpoint,
    ImpliedRole,
    Project,
    RevokedToken,
    Role,
    Service,
    User,
)
from onestack.identity.passwords import verify_password
from onestack.identity.tokens import TokenFormat, TokenPayload, new_audit_id

SUPPORTED_METHODS = ("password", "token")


@dataclass(frozen=True)
class Ref:
    """A reference by id, or by name within a domain given by id or name."""

    ref_id: str | None = None
    name: str | None = None
    domain_id: str | None = None
    domain_name: str | None = None


@dataclass(frozen=True)
class AuthRequest:
    """A parsed POST /v3/auth/tokens: how the caller proves who they are and what scope."""

    methods: tuple[str, ...]
    user: Ref | None = None
    password: str | None = None
    token_id: str | None = None
    scope: str = "unscoped"
    scope_ref: Ref | None = None


@dataclass(frozen=True)
class NamedRef:
    ref_id: str
    name: str


@dataclass(frozen=True)
class TokenView:
    """A valid token, resolved against the database: what the token body shows."""

    token_id: str
    payload: TokenPayload
    user: NamedRef
    user_domain: NamedRef
    project: NamedRef | None = None
    project_domain: NamedRef | None = None
    domain: NamedRef | None = None
    roles: tuple[NamedRef, ...] = field(default_factory=tuple)

    @property
    def role_names(self) -> frozenset[str]:
        return frozenset(role.name for role in self.roles)


@dataclass(frozen=True)
class CatalogEndpoint:
    endpoint_id: str
    interface: str
    region_id: str
    url: str


@dataclass(frozen=True)
class CatalogEntry:
    service_id: str
    type: str
    name: str
    endpoints: tuple[CatalogEndpoint, ...]


class IdentityManager:
    """Tokens over the identity tables."""

    def __init__(self, db: Database, token_format: TokenFormat, token_ttl_s: int) -> None:
        self.db = db
        self.tokens = token_format
        self.token_ttl = timedelta(seconds=token_ttl_s)

    # -- issue ---------------------------------------------------------------------------

    def authenticate(self, request: AuthRequest) -> TokenView:
        """Check the credentials, resolve the scope and issue a token (not stored anywhere)."""
        unsupported = [m for m in request.methods if m not in SUPPORTED_METHODS]
        if unsupported:
            raise errors.AuthFailed(
                f"Attempted to authenticate with an unsupported method: {unsupported[0]}."
            )
        now = datetime.now(UTC)
        with self.db.reader() as session:
            if "token" in request.methods:
                parent = self._decode_valid(session, request.token_id or "")
                user_id, expires_at = parent.user_id, parent.expires_at
                audit_ids = (new_audit_id(), parent.audit_ids[-1])
            else:
                user_id, expires_at, audit_ids = None, now + self.token_ttl, (new_audit_id(),)
            if "password" in request.methods:
                password_user = self._check_password(session, request)
                if user_id is not None and password_user != user_id:
                    raise errors.AuthFailed("The methods identify different users.")
                user_id = password_user
            assert user_id is not None
            scope, target_id = self._resolve_scope(session, user_id, request)
            payload = TokenPayload(
                user_id=user_id,
                methods=request.methods,
                scope=scope,
                target_id=target_id,
                issued_at=now,
                expires_at=expires_at,
                audit_ids=audit_ids,
            )
            token_id = self.tokens.encode(payload)
            return self._view(session, token_id, payload)

    def _check_password(self, session: Session, request: AuthRequest) -> str:
        ref = request.user
        if ref is None or request.password is None:
            raise BadRequest("The password method needs a user and a password.")
        user = _find_user(session, ref)
        if not verify_password(user.password_hash if user else None, request.password):
            raise errors.AuthFailed()
        assert user is not None
        if not user.enabled or not _domain_enabled(session, user.domain_id):
            raise errors.AuthFailed()
        return user.user_id

    def _resolve_scope(
        self, session: Session, user_id: str, request: AuthRequest
    ) -> tuple[str, str | None]:
        if request.scope == "unscoped":
            return "unscoped", None
        if request.scope == "system":
            target_id = SYSTEM_TARGET
        elif request.scope == "domain":
            target_id = _find_domain(session, request.scope_ref or Ref()).domain_id
        else:
            target_id = _find_project(session, request.scope_ref or Ref()).project_id
        if not _effective_roles(session, user_id, request.scope, target_id):
            raise errors.ScopeNotAllowed(
                f"User {user_id} has no access to the requested {request.scope}."
            )
        return request.scope, target_id

    # -- validate and revoke -------------------------------------------------------------

    def validate(self, token_id: str) -> TokenView:
        """The token's view if it is authentic, unexpired, unrevoked and its user still may."""
        with self.db.reader() as session:
            payload = self._decode_valid(session, token_id)
            return self._view(session, token_id, payload)

    def revoke(self, token_id: str) -> None:
        """Revoke one token (its audit id); it fails validation from now on, on every process."""
        view = self.validate(token_id)
        with self.db.transaction() as session:
            if session.get(RevokedToken, view.payload.audit_id) is None:
                session.add(
                    RevokedToken(
                        audit_id=view.payload.audit_id,
                        expires_at=view.payload.expires_at.replace(tzinfo=None),
                    )
                )

    def _decode_valid(self, session: Session, token_id: str) -> TokenPayload:
        payload = self.tokens.decode(token_id)
        revoked = session.scalars(
            select(RevokedToken.audit_id).where(RevokedToken.audit_id.in_(payload.audit_ids))
        ).first()
        if revoked is not None:
            raise errors.InvalidToken("The token has been revoked.")
        return payload

    def _view(self, session: Session, token_id: str, payload: TokenPayload) -> TokenView:
        user = session.get(User, payload.user_id)
        if user is None or not user.enabled:
            raise errors.InvalidToken("The token's user is gone or disabled.")
        user_domain = session.get(Domain, user.domain_id)
        if user_domain is None or not user_domain.enabled:
            raise errors.InvalidToken("The token's user domain is gone or disabled.")
        view = TokenView(
            token_id=token_id,
            payload=payload,
            user=NamedRef(user.user_id, user.name),
            user_domain=NamedRef(user_domain.domain_id, user_domain.name),
        )
        if payload.scope == "unscoped":
            return view
        assert payload.target_id is not None
        scope_fields = self._scope_fields(session, payload)
        roles = _effective_roles(session, user.user_id, payload.scope, payload.target_id)
        if not roles:
            raise errors.InvalidToken("The user no longer has a role on the token's scope.")
        return TokenView(**{**view.__dict__, **scope_fields, "roles": roles})

    def _scope_fields(self, session: Session, payload: TokenPayload) -> dict[str, NamedRef]:
        if payload.scope == "project":
            project = session.get(Project, payload.target_id)
            domain = session.get(Domain, project.domain_id) if project else None
            if project is None or domain is None or not (project.enabled and domain.enabled):
                raise errors.InvalidToken("The token's project is gone or disabled.")
            return {
                "project": NamedRef(project.project_id, project.name),
                "project_domain": NamedRef(domain.domain_id, domain.name),
            }
        if payload.scope == "domain":
            domain = session.get(Domain, payload.target_id)
            if domain is None or not domain.enabled:
                raise errors.InvalidToken("The token's domain is gone or disabled.")
            return {"domain": NamedRef(domain.domain_id, domain.name)}
        return {}

    # -- what a token may see -----------------------------------------------------------

    def catalog(self) -> list[CatalogEntry]:
        """Every enabled service with its enabled endpoints."""
        with self.db.reader() as session:
            services = session.scalars(
                select(Service).where(Service.enabled.is_(True)).order_by(Service.type)
            ).all()
            endpoints = session.scalars(
                select(Endpoint).where(Endpoint.enabled.is_(True)).order_by(Endpoint.interface)
            ).all()
        return [
            CatalogEntry(
                service_id=service.service_id,
                type=service.type,
                name=service.name,
                endpoints=tuple(
                    CatalogEndpoint(e.endpoint_id, e.interface, e.region_id, e.url)
                    for e in endpoints
                    if e.service_id == service.service_id
                ),
            )
            for service in services
        ]

    def projects_for(self, user_id: str) -> list[tuple[Project, Domain]]:
        """The enabled projects where the user holds any role (GET /v3/auth/projects)."""
        with self.db.reader() as session:
            rows = session.execute(
                select(Project, Domain)
                .join(Domain, Domain.domain_id == Project.domain_id)
                .where(
                    Project.project_id.in_(_targets_of(user_id, "project")),
                    Project.enabled.is_(True),
                    Domain.enabled.is_(True),
                )
                .order_by(Project.name)
            )
            return [(project, domain) for project, domain in rows]

    def domains_for(self, user_id: str) -> list[Domain]:
        """The enabled domains where the user holds any role (GET /v3/auth/domains)."""
        with self.db.reader() as session:
            return list(
                session.scalars(
                    select(Domain)
                    .where(
                        Domain.domain_id.in_(_targets_of(user_id, "domain")),
                        Domain.enabled.is_(True),
                    )
                    .order_by(Domain.name)
                )
            )

    def system_roles_for(self, user_id: str) -> tuple[NamedRef, ...]:
        with self.db.reader() as session:
            return _effective_roles(session, user_id, "system", SYSTEM_TARGET)


def _targets_of(user_id: str, target_type: str) -> Select[tuple[str]]:
    return select(Assignment.target_id).where(
        Assignment.actor_id == user_id, Assignment.target_type == target_type
    )


def _find_user(session: Session, ref: Ref) -> User | None:
    if ref.ref_id:
        return session.get(User, ref.ref_id)
    if not ref.name:
        raise BadRequest("A user needs an id, or a name and a domain.")
    domain = _find_domain(session, _domain_of(ref), missing=errors.AuthFailed)
    return session.scalars(
        select(User).where(User.name == ref.name, User.domain_id == domain.domain_id)
    ).first()


def _find_project(session: Session, ref: Ref) -> Project:
    if ref.ref_id:
        project = session.get(Project, ref.ref_id)
    elif ref.name:
        domain = _find_domain(session, _domain_of(ref), missing=errors.ProjectNotFound)
        project = session.scalars(
            select(Project).where(Project.name == ref.name, Project.domain_id == domain.domain_id)
        ).first()
    else:
        raise BadRequest("A project scope needs an id, or a name and a domain.")
    if project is None or not project.enabled or not _domain_enabled(session, project.domain_id):
        raise errors.ProjectNotFound()
    return project


def _find_domain(
    session: Session, ref: Ref, missing: type[Exception] = errors.DomainNotFound
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


def _domain_of(ref: Ref) -> Ref:
    if not (ref.domain_id or ref.domain_name):
        raise BadRequest(f"'{ref.name}' is given by name, so its domain must be given too.")
    return Ref(ref_id=ref.domain_id, name=ref.domain_name)


def _domain_enabled(session: Session, domain_id: str) -> bool:
    domain = session.get(Domain, domain_id)
    return domain is not None and domain.enabled


def _effective_roles(
    session: Session, user_id: str, target_type: str, target_id: str
) -> tuple[NamedRef, ...]:
    """The roles held directly on the target plus every role they imply, transitively."""
    role_ids = set(
        session.scalars(
            select(Assignment.role_id).where(
                Assignment.actor_id == user_id,
                Assignment.target_type == target_type,
                Assignment.target_id == target_id,
            )
        )
    )
    if not role_ids:
        return ()
    implications = session.execute(select(ImpliedRole.prior_role_id, ImpliedRole.implied_role_id))
    implied: dict[str, set[str]] = {}
    for prior, implied_id in implications:
        implied.setdefault(prior, set()).add(implied_id)
    pending = list(role_ids)
    while pending:
        for implied_id in implied.get(pending.pop(), ()):
            if implied_id not in role_ids:
                role_ids.add(implied_id)
                pending.append(implied_id)
    roles = session.scalars(select(Role).where(Role.role_id.in_(role_ids)).order_by(Role.name))
    return tuple(NamedRef(role.role_id, role.name) for role in roles)
