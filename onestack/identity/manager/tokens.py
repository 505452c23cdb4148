"""Tokens: authenticate, issue, validate and revoke.

The API layer parses requests into `AuthRequest` and renders what comes back; this module
never sees HTTP. Other services reach identity through `TokenManager.validate`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.identity import errors
from onestack.identity.manager import generation
from onestack.identity.manager.access_rules import rules_of
from onestack.identity.manager.app_credentials import (
    AppCredLogin,
    check_app_cred_login,
    restrict_roles,
)
from onestack.identity.manager.base import IdentityBase, IdentityDeps
from onestack.identity.manager.effective import effective_roles, targets_of
from onestack.identity.manager.endpoint_filter import visible_endpoint_ids
from onestack.identity.manager.login import check_login, password_expires_at
from onestack.identity.manager.lookup import (
    NamedRef,
    Ref,
    domain_enabled,
    find_domain,
    find_project,
)
from onestack.identity.manager.trusts import check_in_use as check_trust_in_use
from onestack.identity.manager.trusts import consume as consume_trust
from onestack.identity.models import (
    SYSTEM_TARGET,
    Domain,
    Endpoint,
    Project,
    RevokedToken,
    Service,
    User,
)
from onestack.identity.tokens import TokenFormat, TokenPayload, new_audit_id

SUPPORTED_METHODS = ("password", "token", "application_credential")


@dataclass(frozen=True)
class AuthRequest:
    """A parsed POST /v3/auth/tokens: how the caller proves who they are and what scope."""

    methods: tuple[str, ...]
    user: Ref | None = None
    password: str | None = None
    token_id: str | None = None
    scope: str = "unscoped"
    scope_ref: Ref | None = None
    app_cred: AppCredLogin | None = None
    # `"scope": "unscoped"` was sent: no default project either.
    wants_unscoped: bool = False
    # The trust to scope to (scope "trust").
    trust_id: str | None = None

    @property
    def checks_secret(self) -> bool:
        """Whether authenticating hashes a secret (a password or a credential's), ~150 ms of
        CPU; the token method alone does not."""
        return "password" in self.methods or "application_credential" in self.methods


@dataclass(frozen=True)
class AppCredRef:
    """The application credential a token was obtained with, as the token body shows it."""

    ref_id: str
    name: str
    unrestricted: bool
    access_rules: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class TrustRef:
    """The trust a trust-scoped token uses, as the token body shows it (`OS-TRUST:trust`)."""

    ref_id: str
    impersonation: bool
    trustor_user_id: str
    trustee_user_id: str


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
    # Whether policy treats the token's project as the admin project, whose admins administer
    # the whole cloud: every project unless `admin_project_name` names one (Keystone's
    # default, as oslo.context's). Never a domain or system token: those have their own rules.
    is_admin_project: bool = False
    # The body shows `is_admin_project` only when an admin project is configured, as Keystone.
    shows_admin_project: bool = False
    password_expires_at: datetime | None = None
    application_credential: AppCredRef | None = None
    trust: TrustRef | None = None

    @property
    def role_names(self) -> frozenset[str]:
        return frozenset(role.name for role in self.roles)

    @cached_property
    def credentials(self) -> Mapping[str, Any]:
        """What policy rules compare against, as `RequestContext.credentials()` has it;
        worked out once per view (a cached view answers many requests). Shared: read only."""
        return self.context().credentials()

    def context(self, **request: Any) -> RequestContext:
        """The token's holder as policy and notifications see them; `request` adds the
        request's own fields (request_id, remote_address, user_agent)."""
        return RequestContext(
            user_id=self.user.ref_id,
            user_domain_id=self.user_domain.ref_id,
            roles=self.role_names,
            project_id=self.project.ref_id if self.project else None,
            project_domain_id=self.project_domain.ref_id if self.project_domain else None,
            domain_id=self.domain.ref_id if self.domain else None,
            system_scope="all" if self.payload.scope == "system" else None,
            is_admin_project=self.is_admin_project,
            **request,
        )


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


# Entries kept per cache and process; a full cache starts over.
VALIDATION_CACHE_SIZE = 10_000


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= VALIDATION_CACHE_SIZE:
        cache.clear()
    cache[key] = value


class TokenManager(IdentityBase):
    """Tokens over the identity tables."""

    def __init__(self, deps: IdentityDeps, token_format: TokenFormat) -> None:
        super().__init__(deps)
        self.format = token_format
        self.token_ttl = timedelta(seconds=deps.settings.token_expiration_s)
        # Caches that hold while the identity write generation does: validations by token id,
        # resolutions of (user, scope, app credential), and scope requests resolved to targets.
        self._validated: dict[str, tuple[int, TokenView]] = {}
        self._grants: dict[tuple[Any, ...], tuple[int, TokenView, datetime | None]] = {}
        self._targets: dict[tuple[Any, ...], tuple[int, str | None]] = {}
        self._catalog: tuple[int, Sequence[Service], Sequence[Endpoint]] | None = None
        # Catalogs with the token's ids filled in, by those ids.
        self._filled: dict[tuple[Any, ...], tuple[int, list[CatalogEntry]]] = {}
        self.generation = generation.GenerationWatch(deps.db)

    # -- issue ---------------------------------------------------------------------------

    def authenticate(self, request: AuthRequest) -> TokenView:
        """Check the credentials, resolve the scope and issue a token (not stored anywhere)."""
        unsupported = [m for m in request.methods if m not in SUPPORTED_METHODS]
        if unsupported:
            raise errors.AuthFailed(
                f"Attempted to authenticate with an unsupported method: {unsupported[0]}."
            )
        now = datetime.now(UTC)
        if "application_credential" in request.methods:
            return self._authenticate_app_cred(request, now)
        now_generation = self.generation.current()
        with self.db.reader() as session:
            if "token" in request.methods:
                parent = self._presented(request.token_id or "", now_generation)
                if parent.trust_id is not None:
                    raise errors.TrustForbidden("A trust-scoped token cannot be rescoped.")
                if parent.app_cred_id is not None:
                    # Its roles and project are the credential's: no other scope to trade up to.
                    raise errors.AuthFailed(
                        "A token obtained with an application credential cannot be used to "
                        "obtain another token."
                    )
                user_id, expires_at = parent.user_id, parent.expires_at
                audit_ids = (new_audit_id(), parent.audit_ids[-1])
                # Keystone's rescoped token keeps how its user first proved who they are.
                methods = (
                    *parent.methods,
                    *(m for m in request.methods if m not in parent.methods),
                )
            else:
                user_id, expires_at, audit_ids = None, now + self.token_ttl, (new_audit_id(),)
                methods = request.methods
            if "password" in request.methods:
                password_user = check_login(session, self.settings, request)
                if user_id is not None and password_user != user_id:
                    raise errors.AuthFailed("The methods identify different users.")
                user_id = password_user
            assert user_id is not None
            if request.trust_id is not None:
                payload = self._trust_payload(request.trust_id, user_id, expires_at)
            else:
                request = self._default_scope(session, user_id, request)
                scope, target_id = self._resolve_scope(session, user_id, request, now_generation)
                payload = TokenPayload(
                    user_id=user_id,
                    methods=(),
                    scope=scope,
                    target_id=target_id,
                    issued_at=now,
                    expires_at=expires_at,
                )
            payload = replace(payload, methods=methods, issued_at=now, audit_ids=audit_ids)
            token_id = self.format.encode(payload)
            return self._view(session, token_id, payload, now_generation)

    def issue_for_project(self, user_id: str, project_id: str, method: str) -> TokenView:
        """A project-scoped token for a user whom `method` (say an EC2 signature) proved.

        The user and their domain must be enabled, the project usable and the user hold a role
        on it; otherwise AuthFailed / ScopeProjectUnusable / ScopeNotAllowed (all 401).
        """
        now = datetime.now(UTC)
        now_generation = self.generation.current()
        with self.db.reader() as session:
            user = session.get(User, user_id)
            if user is None or not user.enabled or not domain_enabled(session, user.domain_id):
                raise errors.AuthFailed()
            request = AuthRequest(methods=(method,), scope="project", scope_ref=Ref(project_id))
            scope, target_id = self._resolve_scope(session, user_id, request, now_generation)
            payload = TokenPayload(
                user_id=user_id,
                methods=request.methods,
                scope=scope,
                target_id=target_id,
                issued_at=now,
                expires_at=now + self.token_ttl,
                audit_ids=(new_audit_id(),),
            )
            return self._view(session, self.format.encode(payload), payload, now_generation)

    def _authenticate_app_cred(self, request: AuthRequest, now: datetime) -> TokenView:
        """A token for the credential's project, with its roles; it may not choose a scope."""
        if len(request.methods) > 1:
            raise errors.AuthFailed(
                "The application_credential method cannot be combined with another method."
            )
        if request.scope != "unscoped":
            raise errors.ApplicationCredentialAuthError(
                "Application credentials cannot request a scope."
            )
        assert request.app_cred is not None
        now_generation = self.generation.current()
        with self.db.reader() as session:
            credential = check_app_cred_login(session, request.app_cred)
            find_project(session, Ref(ref_id=credential.project_id))
            expires_at = now + self.token_ttl
            if credential.expires_at is not None:
                expires_at = min(expires_at, credential.expires_at.replace(tzinfo=UTC))
            payload = TokenPayload(
                user_id=credential.user_id,
                methods=request.methods,
                scope="project",
                target_id=credential.project_id,
                issued_at=now,
                expires_at=expires_at,
                audit_ids=(new_audit_id(),),
                app_cred_id=credential.app_cred_id,
            )
            return self._view(session, self.format.encode(payload), payload, now_generation)

    def _presented(self, token_id: str, now_generation: int) -> TokenPayload:
        """The token the `token` method presents. Keystone looks it up, so one that is
        invalid, expired or revoked is not found (404), not an authentication failure."""
        try:
            return self.validate(token_id, now_generation).payload
        except errors.InvalidToken as exc:
            raise errors.TokenNotFound(f"Could not find token: {token_id}") from exc

    def _trust_payload(self, trust_id: str, trustee_id: str, expires_at: datetime) -> TokenPayload:
        """A token for the trustee through the trust (one of its uses): the trustor when it
        impersonates, on the trust's project, expiring no later than the trust."""
        with self.writing() as session:
            trust = consume_trust(session, trust_id, trustee_id)
        if trust.expires_at is not None:
            expires_at = min(expires_at, trust.expires_at.replace(tzinfo=UTC))
        return TokenPayload(
            user_id=trust.trustor_user_id if trust.impersonation else trustee_id,
            methods=(),
            scope="project",
            target_id=trust.project_id,
            issued_at=expires_at,
            expires_at=expires_at,
            trust_id=trust_id,
        )

    def _default_scope(self, session: Session, user_id: str, request: AuthRequest) -> AuthRequest:
        """Keystone's default scoping: with no scope asked for (not even "unscoped"), the
        token is scoped to the user's default project when it is usable and the user holds a
        role there; otherwise it stays unscoped."""
        if request.scope != "unscoped" or request.wants_unscoped:
            return request
        user = session.get(User, user_id)
        if user is None or not user.default_project_id:
            return request
        scoped = replace(request, scope="project", scope_ref=Ref(ref_id=user.default_project_id))
        try:
            self._find_scope(session, user_id, scoped)
        except (errors.ScopeProjectUnusable, errors.ScopeNotAllowed):
            return request
        return scoped

    def _resolve_scope(
        self, session: Session, user_id: str, request: AuthRequest, now_generation: int
    ) -> tuple[str, str | None]:
        """The scope's target, which the user must hold a role on; cached per generation."""
        if request.scope == "unscoped":
            return "unscoped", None
        key = (user_id, request.scope, request.scope_ref)
        cached = self._targets.get(key)
        if cached is not None and cached[0] == now_generation:
            return request.scope, cached[1]
        scope, target_id = self._find_scope(session, user_id, request)
        _remember(self._targets, key, (now_generation, target_id))
        return scope, target_id

    def _find_scope(
        self, session: Session, user_id: str, request: AuthRequest
    ) -> tuple[str, str | None]:
        if request.scope == "system":
            target_id = SYSTEM_TARGET
        elif request.scope == "domain":
            target_id = find_domain(session, request.scope_ref or Ref()).domain_id
        else:
            target_id = find_project(session, request.scope_ref or Ref()).project_id
        if not effective_roles(session, user_id, request.scope, target_id):
            raise errors.ScopeNotAllowed(
                f"User {user_id} has no access to the requested {request.scope}."
            )
        return request.scope, target_id

    # -- validate and revoke -------------------------------------------------------------

    def current_generation(self) -> int:
        """The identity write generation now: one read, seeing every process's commits.

        A request reads it once, before anything it guards, and passes it to `validate` and
        `catalog`, so one request costs one read however many tokens it looks at.
        """
        return self.generation.current()

    def validate(self, token_id: str, generation: int | None = None) -> TokenView:
        """The token's view if it is authentic, unexpired, unrevoked and its user still may.

        A token found in the cache was authentic when it got there; expiry is checked on every
        call, and the rest holds while no identity write happened since (one read of the
        generation, taken before anything it guards is read). A caller that validates several
        tokens for one request reads the generation once (`current_generation()`) and passes
        it: what it guards is then as fresh as the request's start.
        """
        now_generation = self.generation.current() if generation is None else generation
        cached = self._validated.get(token_id)
        if cached is not None and cached[0] == now_generation:
            if cached[1].payload.expires_at <= datetime.now(UTC):
                raise errors.InvalidToken("The token has expired.")
            return cached[1]
        payload = self.format.decode(token_id)
        with self.db.reader() as session:
            self._check_not_revoked(session, payload)
            view = self._view(session, token_id, payload, now_generation)
        _remember(self._validated, token_id, (now_generation, view))
        return view

    def revoke(self, token_id: str) -> None:
        """Revoke one token (its audit id); it fails validation from now on, on every process."""
        view = self.validate(token_id)
        with self.writing() as session:
            if session.get(RevokedToken, view.payload.audit_id) is None:
                session.add(
                    RevokedToken(
                        audit_id=view.payload.audit_id,
                        expires_at=view.payload.expires_at.replace(tzinfo=None),
                    )
                )

    def _check_not_revoked(self, session: Session, payload: TokenPayload) -> None:
        revoked = session.scalars(
            select(RevokedToken.audit_id).where(RevokedToken.audit_id.in_(payload.audit_ids))
        ).first()
        if revoked is not None:
            raise errors.InvalidToken("The token has been revoked.")

    def _view(
        self, session: Session, token_id: str, payload: TokenPayload, now_generation: int
    ) -> TokenView:
        """The token resolved against what its user may do now on its scope.

        Every token of one user on one scope (and application credential) shares that
        resolution, cached per generation (read before `session` read anything); only the
        password-change cut-off is per token.
        """
        key = (
            payload.user_id,
            payload.scope,
            payload.target_id,
            payload.app_cred_id,
            payload.trust_id,
        )
        cached = self._grants.get(key)
        if cached is None or cached[0] != now_generation:
            cached = (now_generation, *self._resolve(session, token_id, payload))
            _remember(self._grants, key, cached)
        _, template, valid_after = cached
        if valid_after is not None and payload.issued_at.replace(tzinfo=None) < valid_after:
            raise errors.InvalidToken("The token was issued before its user's password changed.")
        return replace(template, token_id=token_id, payload=payload)

    def _resolve(
        self, session: Session, token_id: str, payload: TokenPayload
    ) -> tuple[TokenView, datetime | None]:
        """The view, and the user's cut-off for tokens issued before a password change."""
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
            password_expires_at=password_expires_at(user),
        )
        if payload.scope == "unscoped":
            return view, user.tokens_valid_after
        assert payload.target_id is not None
        scope_fields = self._scope_fields(session, payload)
        if payload.trust_id is not None:
            trust, roles = check_trust_in_use(session, payload.trust_id)
            scope_fields["trust"] = TrustRef(
                trust.trust_id, trust.impersonation, trust.trustor_user_id, trust.trustee_user_id
            )
            return replace(view, **scope_fields, roles=roles), user.tokens_valid_after
        roles = effective_roles(session, user.user_id, payload.scope, payload.target_id)
        if payload.app_cred_id is not None:
            credential, roles = restrict_roles(session, payload.app_cred_id, user.user_id, roles)
            scope_fields["application_credential"] = AppCredRef(
                ref_id=credential.app_cred_id,
                name=credential.name,
                unrestricted=credential.unrestricted,
                access_rules=tuple(r.as_dict() for r in rules_of(session, payload.app_cred_id)),
            )
        if not roles:
            raise errors.InvalidToken("The user no longer has a role on the token's scope.")
        return replace(view, **scope_fields, roles=roles), user.tokens_valid_after

    def _scope_fields(self, session: Session, payload: TokenPayload) -> dict[str, Any]:
        if payload.scope == "project":
            project = session.get(Project, payload.target_id)
            domain = session.get(Domain, project.domain_id) if project else None
            if project is None or domain is None or not (project.enabled and domain.enabled):
                raise errors.InvalidToken("The token's project is gone or disabled.")
            return {
                "project": NamedRef(project.project_id, project.name),
                "project_domain": NamedRef(domain.domain_id, domain.name),
                "is_admin_project": self._is_admin_project(project.name, domain.name),
                "shows_admin_project": self.settings.admin_project_name is not None,
            }
        if payload.scope == "domain":
            domain = session.get(Domain, payload.target_id)
            if domain is None or not domain.enabled:
                raise errors.InvalidToken("The token's domain is gone or disabled.")
            return {"domain": NamedRef(domain.domain_id, domain.name)}
        return {}

    def _is_admin_project(self, project_name: str, domain_name: str) -> bool:
        wanted = self.settings.admin_project_name
        if wanted is None:
            return True
        return project_name == wanted and domain_name == self.settings.admin_project_domain_name

    # -- what a token may see -----------------------------------------------------------

    def catalog(
        self, view: TokenView | None = None, generation: int | None = None
    ) -> list[CatalogEntry]:
        """Every enabled service with its enabled endpoints, for the token `view`.

        Endpoint URLs may name the token's ids as Keystone's do (`$(project_id)s`,
        `%(tenant_id)s`, `$(user_id)s`); they are filled in, and an endpoint whose URL needs an
        id the token lacks (a project id in a domain-scoped token) is left out, as Keystone
        leaves it out. Filled catalogs are cached per generation and ids (`generation` as for
        `validate`).
        """
        now_generation = self.generation.current() if generation is None else generation
        values = _url_values(view)
        key = tuple(sorted(values.items()))
        cached = self._filled.get(key)
        if cached is not None and cached[0] == now_generation:
            return cached[1]
        services, endpoints = self._registered(now_generation)
        filtered = False
        if "project_id" in values:
            endpoints, filtered = self._filtered(endpoints, values["project_id"])
        by_service: dict[str, list[CatalogEndpoint]] = {}
        for e in endpoints:
            url = _fill_url(e.url, values)
            if url is not None:
                entry = CatalogEndpoint(e.endpoint_id, e.interface, e.region_id, url)
                by_service.setdefault(e.service_id, []).append(entry)
        catalog = [
            CatalogEntry(
                service_id=service.service_id,
                type=service.type,
                name=service.name,
                endpoints=tuple(by_service.get(service.service_id, ())),
            )
            for service in services
            # A filtered catalog leaves out the services it took every endpoint from.
            if not filtered or service.service_id in by_service
        ]
        _remember(self._filled, key, (now_generation, catalog))
        return catalog

    def _filtered(
        self, endpoints: Sequence[Endpoint], project_id: str
    ) -> tuple[Sequence[Endpoint], bool]:
        """The endpoints the project's associations (OS-EP-FILTER) let its catalog show, and
        whether any association filtered them; cached per generation with the catalog."""
        with self.db.reader() as session:
            visible = visible_endpoint_ids(session, project_id)
        if visible is None:
            return endpoints, False
        return [e for e in endpoints if e.endpoint_id in visible], True

    def _registered(self, now_generation: int) -> tuple[Sequence[Service], Sequence[Endpoint]]:
        """The enabled services and endpoints, cached while the generation holds."""
        cached = self._catalog
        if cached is not None and cached[0] == now_generation:
            return cached[1], cached[2]
        with self.db.reader() as session:
            services = session.scalars(
                select(Service).where(Service.enabled.is_(True)).order_by(Service.type)
            ).all()
            endpoints = session.scalars(
                select(Endpoint).where(Endpoint.enabled.is_(True)).order_by(Endpoint.interface)
            ).all()
        self._catalog = (now_generation, services, endpoints)
        return services, endpoints

    def projects_for(self, user_id: str) -> list[tuple[Project, Domain]]:
        """The enabled projects where the user holds any role (GET /v3/auth/projects)."""
        with self.db.reader() as session:
            rows = session.execute(
                select(Project, Domain)
                .join(Domain, Domain.domain_id == Project.domain_id)
                .where(
                    Project.project_id.in_(targets_of(session, user_id, "project")),
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
                        Domain.domain_id.in_(targets_of(session, user_id, "domain")),
                        Domain.enabled.is_(True),
                    )
                    .order_by(Domain.name)
                )
            )

    def system_roles_for(self, user_id: str) -> tuple[NamedRef, ...]:
        with self.db.reader() as session:
            return effective_roles(session, user_id, "system", SYSTEM_TARGET)


URL_TEMPLATE = re.compile(r"[$%]\((\w+)\)s")


def _url_values(view: TokenView | None) -> dict[str, str]:
    if view is None:
        return {}
    values = {"user_id": view.user.ref_id}
    if view.project is not None:
        values["project_id"] = values["tenant_id"] = view.project.ref_id
    return values


def _fill_url(url: str, values: dict[str, str]) -> str | None:
    """The URL with its `$(name)s` / `%(name)s` fields filled in; None when one is unknown."""
    missing = [name for name in URL_TEMPLATE.findall(url) if name not in values]
    if missing:
        return None
    return URL_TEMPLATE.sub(lambda match: values[match.group(1)], url)
