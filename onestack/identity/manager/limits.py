"""Unified limits: registered limits (a service's default per resource) and the project or
domain limits that override them, with Keystone's flat enforcement model.

Rules, as Keystone states them: a registered limit names an existing service and region (400)
and is unique per (service, region, resource name) (409); a limit names a project or a domain
that exists (400) and a registered limit for its (service, region, resource) (403), once per
project or domain (409). A registered limit that limits refer to cannot be deleted, nor moved
to another service, region or resource (403). Creating a batch writes all of it or nothing.

`effective_limits()` is the `common.quota.LimitSource` other services enforce quotas with; it
caches per process while the identity write generation holds.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, or_, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.errors import BadRequest
from onestack.identity import errors
from onestack.identity.manager import generation
from onestack.identity.manager.base import IdentityBase, IdentityDeps
from onestack.identity.models import Domain, Limit, Project, Region, RegisteredLimit, Service

MODEL_NAME = "flat"
MODEL_DESCRIPTION = (
    "Limit enforcement and validation does not take project hierarchy into consideration."
)
# (project, service, region) -> limits; cleared whole when it grows past this.
EFFECTIVE_CACHE_SIZE = 4096
REGISTERED_SCOPE = ("service_id", "region_id", "resource_name")
REGISTERED_COLUMNS = frozenset({*REGISTERED_SCOPE, "default_limit", "description"})


@dataclass(frozen=True)
class LimitView:
    """A limit as the API shows it: with its registered limit's service, region and name."""

    limit_id: str
    project_id: str | None
    domain_id: str | None
    service_id: str
    region_id: str | None
    resource_name: str
    resource_limit: int
    description: str | None
    # The project's domain, for policy (a domain reader sees its projects' limits).
    project_domain_id: str | None = None


class LimitManager(IdentityBase):
    def __init__(self, deps: IdentityDeps) -> None:
        super().__init__(deps)
        self._effective: dict[tuple[str, str, str | None], tuple[int, dict[str, int]]] = {}
        self._generation = generation.GenerationWatch(deps.db)

    def model(self) -> dict[str, str]:
        return {"name": MODEL_NAME, "description": MODEL_DESCRIPTION}

    # -- registered limits ---------------------------------------------------------------

    def get_registered(self, registered_limit_id: str) -> RegisteredLimit:
        with self.db.reader() as session:
            row = session.get(RegisteredLimit, registered_limit_id)
        if row is None:
            raise errors.RegisteredLimitNotFound(registered_limit_id)
        return row

    def list_registered(
        self,
        service_id: str | None = None,
        region_id: str | None = None,
        resource_name: str | None = None,
    ) -> list[RegisteredLimit]:
        query = select(RegisteredLimit).order_by(
            RegisteredLimit.service_id, RegisteredLimit.resource_name, RegisteredLimit.region_id
        )
        for column, value in (
            (RegisteredLimit.service_id, service_id),
            (RegisteredLimit.region_id, region_id),
            (RegisteredLimit.resource_name, resource_name),
        ):
            if value is not None:
                query = query.where(column == value)
        with self.db.reader() as session:
            return list(session.scalars(query))

    def create_registered(
        self, ctx: RequestContext, items: Sequence[Mapping[str, Any]]
    ) -> list[RegisteredLimit]:
        """All of `items` or none of them."""
        rows = [
            RegisteredLimit(registered_limit_id=uuid.uuid4().hex, region_id=None, description=None)
            for _ in items
        ]
        for row, fields in zip(rows, items, strict=True):
            _apply(row, fields)
        with self.writing("Duplicate entry for registered_limit.") as session:
            for row in rows:
                _check_registered_references(session, row)
                _refuse_duplicate_registered(session, row)
                session.add(row)
                session.flush()  # a duplicate within the batch fails here, as a 409
        for row in rows:
            self.notify(ctx, "registered_limit", "created", row.registered_limit_id)
        return rows

    def update_registered(
        self, ctx: RequestContext, registered_limit_id: str, changes: Mapping[str, Any]
    ) -> RegisteredLimit:
        with self.writing("Duplicate entry for registered_limit.") as session:
            row = session.get(RegisteredLimit, registered_limit_id)
            if row is None:
                raise errors.RegisteredLimitNotFound(registered_limit_id)
            before = tuple(getattr(row, name) for name in REGISTERED_SCOPE)
            with session.no_autoflush:  # check before the changed row reaches the database
                _apply(row, changes)
                after = tuple(getattr(row, name) for name in REGISTERED_SCOPE)
                if after != before:
                    if _is_referenced(session, registered_limit_id):
                        raise errors.RegisteredLimitInUse(registered_limit_id)
                    _check_registered_references(session, row)
                    _refuse_duplicate_registered(session, row)
        self.notify(ctx, "registered_limit", "updated", registered_limit_id)
        return row

    def delete_registered(self, ctx: RequestContext, registered_limit_id: str) -> None:
        with self.writing() as session:
            if session.get(RegisteredLimit, registered_limit_id) is None:
                raise errors.RegisteredLimitNotFound(registered_limit_id)
            if _is_referenced(session, registered_limit_id):
                raise errors.RegisteredLimitInUse(registered_limit_id)
            session.execute(
                delete(RegisteredLimit).where(
                    RegisteredLimit.registered_limit_id == registered_limit_id
                )
            )
        self.notify(ctx, "registered_limit", "deleted", registered_limit_id)

    # -- limits --------------------------------------------------------------------------

    def get(self, limit_id: str) -> LimitView:
        with self.db.reader() as session:
            found = session.execute(_limits_query().where(Limit.limit_id == limit_id)).first()
        if found is None:
            raise errors.LimitNotFound(limit_id)
        return _view(*found)

    def list(
        self,
        service_id: str | None = None,
        region_id: str | None = None,
        resource_name: str | None = None,
        project_id: str | None = None,
        domain_id: str | None = None,
    ) -> list[LimitView]:
        query = _limits_query()
        for column, value in (
            (RegisteredLimit.service_id, service_id),
            (RegisteredLimit.region_id, region_id),
            (RegisteredLimit.resource_name, resource_name),
            (Limit.project_id, project_id),
            (Limit.domain_id, domain_id),
        ):
            if value is not None:
                query = query.where(column == value)
        with self.db.reader() as session:
            return [_view(*found) for found in session.execute(query)]

    def create(self, ctx: RequestContext, items: Sequence[Mapping[str, Any]]) -> list[LimitView]:
        """All of `items` or none of them."""
        created: list[str] = []
        with self.writing("Duplicate entry for limit.") as session:
            for fields in items:
                row = _new_limit(session, fields)
                _refuse_duplicate_limit(session, row)
                session.add(row)
                session.flush()  # a duplicate within the batch fails here, as a 409
                created.append(row.limit_id)
        for limit_id in created:
            self.notify(ctx, "limit", "created", limit_id)
        return [self.get(limit_id) for limit_id in created]

    def update(self, ctx: RequestContext, limit_id: str, changes: Mapping[str, Any]) -> LimitView:
        with self.writing() as session:
            row = session.get(Limit, limit_id)
            if row is None:
                raise errors.LimitNotFound(limit_id)
            for name in ("resource_limit", "description"):
                if name in changes:
                    setattr(row, name, changes[name])
        self.notify(ctx, "limit", "updated", limit_id)
        return self.get(limit_id)

    def delete(self, ctx: RequestContext, limit_id: str) -> None:
        with self.writing() as session:
            if session.get(Limit, limit_id) is None:
                raise errors.LimitNotFound(limit_id)
            session.execute(delete(Limit).where(Limit.limit_id == limit_id))
        self.notify(ctx, "limit", "deleted", limit_id)

    # -- what quota enforcement reads ----------------------------------------------------

    def effective_limits(
        self,
        project_id: str,
        service: str,
        region_id: str | None,
        resource_names: Iterable[str],
    ) -> dict[str, int]:
        """The project's limit for each named resource that has one: its own limit if set,
        else the registered default; -1 is unlimited and a name left out has no limit at all.

        `service` is a service id or type. A registered limit for `region_id` wins over one
        registered without a region. Cached per process while no identity write happens.
        """
        key = (project_id, service, region_id)
        now_generation = self._generation.current()
        cached = self._effective.get(key)
        if cached is None or cached[0] != now_generation:
            with self.db.reader() as session:
                cached = (now_generation, _effective(session, project_id, service, region_id))
            if len(self._effective) >= EFFECTIVE_CACHE_SIZE:
                self._effective.clear()
            self._effective[key] = cached
        limits = cached[1]
        return {name: limits[name] for name in resource_names if name in limits}


def _apply(row: RegisteredLimit, fields: Mapping[str, Any]) -> None:
    for name, value in fields.items():
        if name in REGISTERED_COLUMNS:
            setattr(row, name, value)


def _check_registered_references(session: Session, row: RegisteredLimit) -> None:
    """Keystone's 400 for a registered limit naming a service or region that does not exist."""
    if session.get(Service, row.service_id) is None:
        raise BadRequest(
            f"Invalid input for field 'registered_limit.service_id': no service {row.service_id}."
        )
    if row.region_id is not None and session.get(Region, row.region_id) is None:
        raise BadRequest(
            f"Invalid input for field 'registered_limit.region_id': no region {row.region_id}."
        )


def _find_registered(
    session: Session, service_id: str, region_id: str | None, resource_name: str
) -> RegisteredLimit | None:
    region = (
        RegisteredLimit.region_id.is_(None)
        if region_id is None
        else RegisteredLimit.region_id == region_id
    )
    return session.scalars(
        select(RegisteredLimit).where(
            RegisteredLimit.service_id == service_id,
            RegisteredLimit.resource_name == resource_name,
            region,
        )
    ).first()


def _refuse_duplicate_registered(session: Session, row: RegisteredLimit) -> None:
    found = _find_registered(session, row.service_id, row.region_id, row.resource_name)
    if found is not None and found.registered_limit_id != row.registered_limit_id:
        raise errors.LimitConflict(
            "registered_limit",
            f"a registered limit for service {row.service_id}, region {row.region_id} and "
            f"resource {row.resource_name} exists already ({found.registered_limit_id})",
        )


def _is_referenced(session: Session, registered_limit_id: str) -> bool:
    used = select(Limit.limit_id).where(Limit.registered_limit_id == registered_limit_id)
    return session.scalars(used.limit(1)).first() is not None


def _new_limit(session: Session, fields: Mapping[str, Any]) -> Limit:
    """The limit row for `fields`, its owner and registered limit checked."""
    project_id, domain_id = fields.get("project_id"), fields.get("domain_id")
    if project_id is not None and session.get(Project, project_id) is None:
        raise BadRequest(f"Invalid input for field 'limit.project_id': no project {project_id}.")
    if domain_id is not None and session.get(Domain, domain_id) is None:
        raise BadRequest(f"Invalid input for field 'limit.domain_id': no domain {domain_id}.")
    registered = _find_registered(
        session, fields["service_id"], fields.get("region_id"), fields["resource_name"]
    )
    if registered is None:
        raise errors.NoLimitReference()
    return Limit(
        limit_id=uuid.uuid4().hex,
        registered_limit_id=registered.registered_limit_id,
        project_id=project_id,
        domain_id=domain_id,
        resource_limit=fields["resource_limit"],
        description=fields.get("description"),
    )


def _refuse_duplicate_limit(session: Session, row: Limit) -> None:
    owner = (
        Limit.project_id == row.project_id
        if row.project_id is not None
        else Limit.domain_id == row.domain_id
    )
    query = select(Limit.limit_id).where(
        Limit.registered_limit_id == row.registered_limit_id, owner
    )
    found = session.scalars(query).first()
    if found is not None:
        who = f"project {row.project_id}" if row.project_id else f"domain {row.domain_id}"
        raise errors.LimitConflict("limit", f"{who} has a limit for this resource ({found})")


def _limits_query() -> Select[tuple[Limit, RegisteredLimit, str | None]]:
    return (
        select(Limit, RegisteredLimit, Project.domain_id)
        .join(RegisteredLimit, Limit.registered_limit_id == RegisteredLimit.registered_limit_id)
        .outerjoin(Project, Limit.project_id == Project.project_id)
        .order_by(RegisteredLimit.service_id, RegisteredLimit.resource_name, Limit.limit_id)
    )


def _view(limit: Limit, registered: RegisteredLimit, project_domain_id: str | None) -> LimitView:
    return LimitView(
        limit_id=limit.limit_id,
        project_id=limit.project_id,
        domain_id=limit.domain_id,
        service_id=registered.service_id,
        region_id=registered.region_id,
        resource_name=registered.resource_name,
        resource_limit=limit.resource_limit,
        description=limit.description,
        project_domain_id=project_domain_id,
    )


def _effective(
    session: Session, project_id: str, service: str, region_id: str | None
) -> dict[str, int]:
    """Every resource the service registered, with this project's limit for it."""
    service_ids = select(Service.service_id).where(
        or_(Service.service_id == service, Service.type == service)
    )
    regions = [RegisteredLimit.region_id.is_(None)]
    if region_id is not None:
        regions.append(RegisteredLimit.region_id == region_id)
    rows = session.execute(
        select(RegisteredLimit, Limit.resource_limit)
        .outerjoin(
            Limit,
            (Limit.registered_limit_id == RegisteredLimit.registered_limit_id)
            & (Limit.project_id == project_id),
        )
        .where(RegisteredLimit.service_id.in_(service_ids), or_(*regions))
        # Region-less first, so a region's own registered limit overwrites it below.
        .order_by(RegisteredLimit.region_id.is_not(None), RegisteredLimit.service_id)
    ).all()
    limits: dict[str, int] = {}
    for registered, own in rows:
        limits[registered.resource_name] = registered.default_limit if own is None else own
    return limits
