"""Domains: create, read, update, delete (a domain must be disabled before it is deleted)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.common.errors import Forbidden
from onestack.identity import errors
from onestack.identity.manager.base import IdentityBase
from onestack.identity.manager.cascade import purge_domain
from onestack.identity.manager.fields import apply_fields
from onestack.identity.models import Domain

COLUMNS = frozenset({"name", "description", "enabled"})


class DomainManager(IdentityBase):
    def get(self, domain_id: str) -> Domain:
        with self.db.reader() as session:
            domain = session.get(Domain, domain_id)
        if domain is None:
            raise errors.DomainNotFound(domain_id)
        return domain

    def list(self, name: str | None = None, enabled: bool | None = None) -> list[Domain]:
        query = select(Domain).order_by(Domain.name)
        if name is not None:
            query = query.where(Domain.name == name)
        if enabled is not None:
            query = query.where(Domain.enabled.is_(enabled))
        with self.db.reader() as session:
            return list(session.scalars(query))

    def create(self, ctx: RequestContext, fields: Mapping[str, Any]) -> Domain:
        values = dict(fields)
        domain = Domain(
            domain_id=values.pop("explicit_domain_id", None) or uuid.uuid4().hex,
            description="",
            enabled=True,
            extra={},
        )
        apply_fields(domain, values, COLUMNS)
        with self.writing(f"A domain named '{domain.name}' or with that id exists.") as session:
            session.add(domain)
        self.notify(ctx, "domain", "created", domain.domain_id)
        return domain

    def update(self, ctx: RequestContext, domain_id: str, changes: Mapping[str, Any]) -> Domain:
        with self.writing(f"A domain named '{changes.get('name')}' exists.") as session:
            domain = session.get(Domain, domain_id)
            if domain is None:
                raise errors.DomainNotFound(domain_id)
            apply_fields(domain, changes, COLUMNS)
        self.notify(ctx, "domain", "updated", domain_id)
        return domain

    def delete(self, ctx: RequestContext, domain_id: str) -> None:
        with self.writing() as session:
            domain = session.get(Domain, domain_id)
            if domain is None:
                raise errors.DomainNotFound(domain_id)
            if domain.enabled:
                raise Forbidden("Cannot delete a domain that is enabled, please disable it first.")
            purge_domain(session, domain_id)
        self.notify(ctx, "domain", "deleted", domain_id)
