"""Roles (global and domain-specific) and implied roles.

A role's name is unique within its domain; global roles (no domain) share one namespace. An
`immutable` role refuses updates and deletion until the option is set back to false.
Implications form a graph without cycles; the `admin` role is never implied and a global
role never implies a domain-specific one, as in Keystone.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.errors import BadRequest, Forbidden
from onestack.identity import errors
from onestack.identity.manager.base import IdentityBase
from onestack.identity.manager.cascade import purge_role
from onestack.identity.manager.effective import closure, implication_map
from onestack.identity.manager.fields import apply_fields
from onestack.identity.models import GLOBAL_ROLE_DOMAIN, Domain, ImpliedRole, Role

ROLE_OPTIONS = frozenset({"immutable"})
# Keystone's default [assignment] prohibited_implied_role.
PROHIBITED_IMPLIED_ROLES = frozenset({"admin"})


class ImpliedRoleNotFound(errors.ImpliedRoleNotFound):
    def __init__(self, prior_role_id: str, implied_role_id: str) -> None:
        errors.NotFound.__init__(self, f"{prior_role_id} does not imply {implied_role_id}.")


def role_domain(role: Role) -> str | None:
    """The role's domain id, None for a global role."""
    return None if role.domain_id == GLOBAL_ROLE_DOMAIN else role.domain_id


def is_immutable(role: Role) -> bool:
    return bool((role.options or {}).get("immutable"))


def check_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """Known options with their value; 400 for an unknown one or a wrong type."""
    if options is None:
        return {}
    unknown = sorted(set(options) - ROLE_OPTIONS)
    if unknown:
        raise BadRequest(f"Invalid input for field 'options': unknown option '{unknown[0]}'.")
    for name, value in options.items():
        if value is not None and not isinstance(value, bool):
            raise BadRequest(f"Invalid input for field 'options.{name}': must be a boolean.")
    return dict(options)


# Fields with their own columns; everything else a client sends is kept in `extra`.
EXTRA_EXCLUDED = frozenset({"name", "description", "domain_id", "options"})


class RoleManager(IdentityBase):
    # -- roles -------------------------------------------------------------------------

    def get(self, role_id: str) -> Role:
        with self.db.reader() as session:
            role = session.get(Role, role_id)
        if role is None:
            raise errors.RoleNotFound(role_id)
        return role

    def list(self, domain_id: str | None = None, name: str | None = None) -> list[Role]:
        query = select(Role).where(Role.domain_id == (domain_id or GLOBAL_ROLE_DOMAIN))
        if name is not None:
            query = query.where(Role.name == name)
        with self.db.reader() as session:
            return list(session.scalars(query.order_by(Role.name)))

    def create(self, ctx: RequestContext, fields: Mapping[str, Any]) -> Role:
        domain_id = fields.get("domain_id")
        role = Role(
            role_id=uuid.uuid4().hex,
            name=fields["name"],
            domain_id=domain_id or GLOBAL_ROLE_DOMAIN,
            description=fields.get("description"),
            options={k: v for k, v in check_options(fields.get("options")).items() if v},
            extra={k: v for k, v in fields.items() if k not in EXTRA_EXCLUDED},
        )
        where = f"in domain {domain_id}" if domain_id else "among the global roles"
        with self.writing(f"A role named '{role.name}' exists {where}.") as session:
            if domain_id and session.get(Domain, domain_id) is None:
                raise errors.DomainNotFound(domain_id)
            session.add(role)
        self.notify(ctx, "role", "created", role.role_id)
        return role

    def update(self, ctx: RequestContext, role_id: str, changes: Mapping[str, Any]) -> Role:
        options = check_options(changes.get("options")) if "options" in changes else None
        with self.writing(f"A role named '{changes.get('name')}' exists.") as session:
            role = session.get(Role, role_id)
            if role is None:
                raise errors.RoleNotFound(role_id)
            if "domain_id" in changes and changes["domain_id"] != role_domain(role):
                raise BadRequest("Update of `domain_id` is not allowed.")
            releasing = options is not None and not options.get("immutable", True)
            if is_immutable(role) and not releasing:
                raise Forbidden(
                    f"Unable to update immutable role resource: `{role_id}. "
                    'Set resource option "immutable" to false first.'
                )
            apply_fields(
                role,
                {k: v for k, v in changes.items() if k not in ("domain_id", "options")},
                frozenset({"name", "description"}),
            )
            if options is not None:
                merged = {**(role.options or {}), **options}
                role.options = {k: v for k, v in merged.items() if v}
        self.notify(ctx, "role", "updated", role_id)
        return role

    def delete(self, ctx: RequestContext, role_id: str) -> None:
        with self.writing() as session:
            role = session.get(Role, role_id)
            if role is None:
                raise errors.RoleNotFound(role_id)
            if is_immutable(role):
                raise Forbidden(
                    f"Unable to delete immutable role resource: `{role_id}. "
                    'Set resource option "immutable" to false first.'
                )
            purge_role(session, role_id)
        self.notify(ctx, "role", "deleted", role_id)

    # -- implied roles -----------------------------------------------------------------

    def get_implication(self, prior_role_id: str, implied_role_id: str) -> tuple[Role, Role]:
        with self.db.reader() as session:
            prior, implied = self._pair(session, prior_role_id, implied_role_id)
            if session.get(ImpliedRole, (prior_role_id, implied_role_id)) is None:
                raise ImpliedRoleNotFound(prior_role_id, implied_role_id)
        return prior, implied

    def implied_by(self, prior_role_id: str) -> tuple[Role, list[Role]]:
        """A role and the roles it implies directly."""
        with self.db.reader() as session:
            prior = session.get(Role, prior_role_id)
            if prior is None:
                raise errors.RoleNotFound(prior_role_id)
            implied = session.scalars(
                select(Role)
                .join(ImpliedRole, ImpliedRole.implied_role_id == Role.role_id)
                .where(ImpliedRole.prior_role_id == prior_role_id)
                .order_by(Role.name)
            )
            return prior, list(implied)

    def inferences(self) -> list[tuple[Role, list[Role]]]:
        """Every role that implies others, with the roles it implies directly."""
        with self.db.reader() as session:
            roles = {role.role_id: role for role in session.scalars(select(Role))}
            rules = implication_map(session)
        return [
            (roles[prior], sorted((roles[i] for i in implied), key=lambda r: r.name))
            for prior, implied in sorted(rules.items(), key=lambda item: roles[item[0]].name)
        ]

    def create_implication(
        self, ctx: RequestContext, prior_role_id: str, implied_role_id: str
    ) -> tuple[Role, Role]:
        with self.writing(f"{prior_role_id} already implies {implied_role_id}.") as session:
            prior, implied = self._pair(session, prior_role_id, implied_role_id)
            if implied.name in PROHIBITED_IMPLIED_ROLES:
                raise Forbidden(f"{implied_role_id} cannot be an implied roles.")
            if role_domain(prior) is None and role_domain(implied) is not None:
                raise Forbidden("Global role cannot imply a domain-specific role.")
            if prior_role_id in closure({implied_role_id}, implication_map(session)):
                raise Forbidden(
                    f"{implied_role_id} cannot be an implied roles: "
                    f"it implies {prior_role_id} already, which would make a cycle."
                )
            if session.get(ImpliedRole, (prior_role_id, implied_role_id)) is None:
                session.add(
                    ImpliedRole(prior_role_id=prior_role_id, implied_role_id=implied_role_id)
                )
        self.notify(ctx, "implied_role", "created", f"{prior_role_id}:{implied_role_id}")
        return prior, implied

    def delete_implication(
        self, ctx: RequestContext, prior_role_id: str, implied_role_id: str
    ) -> None:
        with self.writing() as session:
            self._pair(session, prior_role_id, implied_role_id)
            row = session.get(ImpliedRole, (prior_role_id, implied_role_id))
            if row is None:
                raise ImpliedRoleNotFound(prior_role_id, implied_role_id)
            session.delete(row)
        self.notify(ctx, "implied_role", "deleted", f"{prior_role_id}:{implied_role_id}")

    def _pair(
        self, session: Session, prior_role_id: str, implied_role_id: str
    ) -> tuple[Role, Role]:
        prior = session.get(Role, prior_role_id)
        if prior is None:
            raise errors.RoleNotFound(prior_role_id)
        implied = session.get(Role, implied_role_id)
        if implied is None:
            raise errors.RoleNotFound(implied_role_id)
        return prior, implied
