"""Regions, services and endpoints: what the token catalog is built from.

Rules kept here, as Keystone's API reference states them: a region's parent must exist (404)
and the region tree has no cycles (400); a region with child regions cannot be deleted (409),
nor one that endpoints use (403); an endpoint names an existing service and region (400), except
that the legacy `region` attribute creates its region when missing; deleting a service deletes
its endpoints and its registered limits (with the limits that override them); a region that
registered limits name cannot be deleted (403).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.errors import BadRequest, Conflict, Forbidden
from onestack.identity import errors
from onestack.identity.manager.base import IdentityBase
from onestack.identity.manager.cascade import purge_service_limits
from onestack.identity.manager.endpoint_filter import purge_endpoint_associations
from onestack.identity.manager.fields import apply_fields
from onestack.identity.models import Endpoint, Region, RegisteredLimit, Service

REGION_COLUMNS = frozenset({"description", "parent_region_id"})
SERVICE_COLUMNS = frozenset({"type", "name", "description", "enabled"})
ENDPOINT_COLUMNS = frozenset({"service_id", "interface", "region_id", "url", "enabled"})


class CatalogManager(IdentityBase):
    # -- regions -------------------------------------------------------------------------

    def get_region(self, region_id: str) -> Region:
        with self.db.reader() as session:
            region = session.get(Region, region_id)
        if region is None:
            raise errors.RegionNotFound(region_id)
        return region

    def list_regions(self, parent_region_id: str | None = None) -> list[Region]:
        query = select(Region).order_by(Region.region_id)
        if parent_region_id is not None:
            query = query.where(Region.parent_region_id == parent_region_id)
        with self.db.reader() as session:
            return list(session.scalars(query))

    def create_region(self, ctx: RequestContext | None, fields: Mapping[str, Any]) -> Region:
        values = dict(fields)
        region_id = values.pop("id", None) or uuid.uuid4().hex
        if values.get("description") is None:
            values["description"] = ""
        region = Region(region_id=region_id, parent_region_id=None, extra={})
        apply_fields(region, values, REGION_COLUMNS)
        with self.writing(f"Duplicate ID, {region_id}.") as session:
            if session.get(Region, region_id) is not None:
                raise Conflict(f"Duplicate ID, {region_id}.")
            parent_id = region.parent_region_id
            if parent_id is not None and session.get(Region, parent_id) is None:
                raise errors.RegionNotFound(region.parent_region_id)
            session.add(region)
        self.notify(ctx, "region", "created", region_id)
        return region

    def update_region(
        self, ctx: RequestContext, region_id: str, changes: Mapping[str, Any]
    ) -> Region:
        values = dict(changes)
        if "description" in values and values["description"] is None:
            values["description"] = ""
        with self.writing() as session:
            region = session.get(Region, region_id)
            if region is None:
                raise errors.RegionNotFound(region_id)
            parent_id = values.get("parent_region_id")
            if parent_id is not None:
                _check_parent(session, region_id, parent_id)
            apply_fields(region, values, REGION_COLUMNS)
        self.notify(ctx, "region", "updated", region_id)
        return region

    def delete_region(self, ctx: RequestContext, region_id: str) -> None:
        with self.writing() as session:
            if session.get(Region, region_id) is None:
                raise errors.RegionNotFound(region_id)
            used = select(Endpoint.endpoint_id).where(Endpoint.region_id == region_id)
            if session.scalars(used).first() is not None:
                raise Forbidden(
                    f"Unable to delete region {region_id} because it or its child regions "
                    "have associated endpoints."
                )
            limited = select(RegisteredLimit.registered_limit_id).where(
                RegisteredLimit.region_id == region_id
            )
            if session.scalars(limited).first() is not None:
                raise Forbidden(
                    f"Unable to delete region {region_id} because registered limits name it; "
                    "delete those registered limits first."
                )
            children = list(
                session.scalars(
                    select(Region.region_id)
                    .where(Region.parent_region_id == region_id)
                    .order_by(Region.region_id)
                )
            )
            if children:
                raise Conflict(
                    f"Unable to delete region {region_id} because it has child regions "
                    f"({', '.join(children)}); delete or re-parent them first."
                )
            session.execute(delete(Region).where(Region.region_id == region_id))
        self.notify(ctx, "region", "deleted", region_id)

    # -- services ------------------------------------------------------------------------

    def get_service(self, service_id: str) -> Service:
        with self.db.reader() as session:
            service = session.get(Service, service_id)
        if service is None:
            raise errors.ServiceNotFound(service_id)
        return service

    def list_services(self, type: str | None = None, name: str | None = None) -> list[Service]:
        query = select(Service).order_by(Service.type, Service.name, Service.service_id)
        if type is not None:
            query = query.where(Service.type == type)
        if name is not None:
            query = query.where(Service.name == name)
        with self.db.reader() as session:
            return list(session.scalars(query))

    def create_service(self, ctx: RequestContext, fields: Mapping[str, Any]) -> Service:
        service = Service(service_id=uuid.uuid4().hex, name="", description="", enabled=True)
        service.extra = {}
        apply_fields(service, _not_null(fields, ("name", "description")), SERVICE_COLUMNS)
        with self.writing() as session:
            session.add(service)
        self.notify(ctx, "service", "created", service.service_id)
        return service

    def update_service(
        self, ctx: RequestContext, service_id: str, changes: Mapping[str, Any]
    ) -> Service:
        with self.writing() as session:
            service = session.get(Service, service_id)
            if service is None:
                raise errors.ServiceNotFound(service_id)
            apply_fields(service, _not_null(changes, ("name", "description")), SERVICE_COLUMNS)
        self.notify(ctx, "service", "updated", service_id)
        return service

    def delete_service(self, ctx: RequestContext, service_id: str) -> None:
        with self.writing() as session:
            if session.get(Service, service_id) is None:
                raise errors.ServiceNotFound(service_id)
            endpoint_ids = list(
                session.scalars(
                    select(Endpoint.endpoint_id).where(Endpoint.service_id == service_id)
                )
            )
            for endpoint_id in endpoint_ids:
                purge_endpoint_associations(session, endpoint_id)
            session.execute(delete(Endpoint).where(Endpoint.service_id == service_id))
            purge_service_limits(session, service_id)
            session.execute(delete(Service).where(Service.service_id == service_id))
        for endpoint_id in endpoint_ids:
            self.notify(ctx, "endpoint", "deleted", endpoint_id)
        self.notify(ctx, "service", "deleted", service_id)

    # -- endpoints -----------------------------------------------------------------------

    def get_endpoint(self, endpoint_id: str) -> Endpoint:
        with self.db.reader() as session:
            endpoint = session.get(Endpoint, endpoint_id)
        if endpoint is None:
            raise errors.EndpointNotFound(endpoint_id)
        return endpoint

    def list_endpoints(
        self,
        interface: str | None = None,
        service_id: str | None = None,
        region_id: str | None = None,
    ) -> list[Endpoint]:
        query = select(Endpoint).order_by(Endpoint.service_id, Endpoint.interface)
        if interface is not None:
            query = query.where(Endpoint.interface == interface)
        if service_id is not None:
            query = query.where(Endpoint.service_id == service_id)
        if region_id is not None:
            query = query.where(Endpoint.region_id == region_id)
        with self.db.reader() as session:
            return list(session.scalars(query))

    def create_endpoint(self, ctx: RequestContext, fields: Mapping[str, Any]) -> Endpoint:
        values, legacy = _fold_legacy_region(fields)
        endpoint = Endpoint(endpoint_id=uuid.uuid4().hex, enabled=True, region_id=None, extra={})
        apply_fields(endpoint, values, ENDPOINT_COLUMNS)
        with self.writing() as session:
            new_region = _ensure_legacy_region(session, legacy)
            _check_references(session, endpoint)
            session.add(endpoint)
        if new_region is not None:
            self.notify(ctx, "region", "created", new_region)
        self.notify(ctx, "endpoint", "created", endpoint.endpoint_id)
        return endpoint

    def update_endpoint(
        self, ctx: RequestContext, endpoint_id: str, changes: Mapping[str, Any]
    ) -> Endpoint:
        values, legacy = _fold_legacy_region(changes)
        with self.writing() as session:
            endpoint = session.get(Endpoint, endpoint_id)
            if endpoint is None:
                raise errors.EndpointNotFound(endpoint_id)
            new_region = _ensure_legacy_region(session, legacy)
            apply_fields(endpoint, values, ENDPOINT_COLUMNS)
            with session.no_autoflush:  # check before the changed row reaches the database
                _check_references(session, endpoint)
        if new_region is not None:
            self.notify(ctx, "region", "created", new_region)
        self.notify(ctx, "endpoint", "updated", endpoint_id)
        return endpoint

    def delete_endpoint(self, ctx: RequestContext, endpoint_id: str) -> None:
        with self.writing() as session:
            if session.get(Endpoint, endpoint_id) is None:
                raise errors.EndpointNotFound(endpoint_id)
            purge_endpoint_associations(session, endpoint_id)
            session.execute(delete(Endpoint).where(Endpoint.endpoint_id == endpoint_id))
        self.notify(ctx, "endpoint", "deleted", endpoint_id)


def _fold_legacy_region(fields: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The fields with the legacy `region` folded into region_id, and that region's id when
    only `region` named it: Keystone creates such a region if missing (v2-style clients)."""
    values = dict(fields)
    legacy = values.pop("region", None)
    if values.get("region_id") is not None or legacy is None:
        return values, None
    values["region_id"] = legacy
    return values, legacy


def _ensure_legacy_region(session: Session, region_id: str | None) -> str | None:
    """Create the region named by the legacy attribute if missing; its id when created."""
    if region_id is None or session.get(Region, region_id) is not None:
        return None
    session.add(Region(region_id=region_id, description="", extra={}))
    session.flush()
    return region_id


def _not_null(fields: Mapping[str, Any], text_columns: tuple[str, ...]) -> dict[str, Any]:
    """The fields with a null text column stored as the empty string, as Keystone does."""
    return {k: ("" if v is None and k in text_columns else v) for k, v in fields.items()}


def _check_parent(session: Session, region_id: str, parent_id: str) -> None:
    """404 when the new parent is missing, 400 when it would close a cycle."""
    ancestor: str | None = parent_id
    seen: set[str] = set()
    while ancestor is not None and ancestor not in seen:
        if ancestor == region_id:
            raise BadRequest(
                f"The specified parent region {parent_id} would create a circular region hierarchy."
            )
        seen.add(ancestor)
        row = session.get(Region, ancestor)
        if row is None:
            raise errors.RegionNotFound(ancestor)
        ancestor = row.parent_region_id


def _check_references(session: Session, endpoint: Endpoint) -> None:
    """Keystone's 400 for an endpoint naming a service or region that does not exist."""
    if session.get(Service, endpoint.service_id) is None:
        raise BadRequest(
            f"Expecting to find endpoint service_id in service table: no service "
            f"{endpoint.service_id}."
        )
    if endpoint.region_id is not None and session.get(Region, endpoint.region_id) is None:
        raise BadRequest(
            f"Expecting to find endpoint region_id in region table: no region {endpoint.region_id}."
        )
