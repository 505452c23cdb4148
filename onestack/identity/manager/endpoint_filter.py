"""Endpoint filtering (OS-EP-FILTER): which endpoints a project's catalog shows.

A project with no association sees every endpoint. Once it is associated with endpoints, or
with endpoint groups (filters on service_id, region_id and interface), its project-scoped
tokens' catalogs show only those: the union of the endpoints named and those the groups match.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.errors import BadRequest
from onestack.identity import errors
from onestack.identity.manager.base import IdentityBase
from onestack.identity.models import (
    Endpoint,
    EndpointGroup,
    Project,
    ProjectEndpoint,
    ProjectEndpointGroup,
)

FILTER_KEYS = frozenset({"service_id", "region_id", "interface"})


class EndpointFilterManager(IdentityBase):
    # -- endpoint groups --------------------------------------------------------------------

    def get_group(self, group_id: str) -> EndpointGroup:
        with self.db.reader() as session:
            return _group(session, group_id)

    def list_groups(self, name: str | None = None) -> list[EndpointGroup]:
        query = select(EndpointGroup).order_by(EndpointGroup.name)
        if name is not None:
            query = query.where(EndpointGroup.name == name)
        with self.db.reader() as session:
            return list(session.scalars(query))

    def create_group(self, ctx: RequestContext, fields: Mapping[str, Any]) -> EndpointGroup:
        _check_filters(fields.get("filters"))
        row = EndpointGroup(
            endpoint_group_id=uuid.uuid4().hex,
            name=fields["name"],
            description=fields.get("description") or "",
            filters=dict(fields["filters"]),
        )
        with self.writing() as session:
            session.add(row)
        self.notify(ctx, "endpoint_group", "created", row.endpoint_group_id)
        return row

    def update_group(
        self, ctx: RequestContext, group_id: str, fields: Mapping[str, Any]
    ) -> EndpointGroup:
        if "filters" in fields:
            _check_filters(fields["filters"])
        with self.writing() as session:
            row = _group(session, group_id)
            for key in ("name", "description", "filters"):
                if fields.get(key) is not None:
                    setattr(row, key, fields[key])
        self.notify(ctx, "endpoint_group", "updated", group_id)
        return row

    def delete_group(self, ctx: RequestContext, group_id: str) -> None:
        with self.writing() as session:
            row = _group(session, group_id)
            session.execute(
                delete(ProjectEndpointGroup).where(
                    ProjectEndpointGroup.endpoint_group_id == group_id
                )
            )
            session.delete(row)
        self.notify(ctx, "endpoint_group", "deleted", group_id)

    def group_endpoints(self, group_id: str) -> list[Endpoint]:
        with self.db.reader() as session:
            group = _group(session, group_id)
            return _matching(session.scalars(select(Endpoint)), [group.filters])

    # -- associations -----------------------------------------------------------------------

    def associate(self, project_id: str, endpoint_id: str) -> None:
        with self.writing() as session:
            _existing(session, project_id, endpoint_id=endpoint_id)
            if session.get(ProjectEndpoint, (project_id, endpoint_id)) is None:
                session.add(ProjectEndpoint(project_id=project_id, endpoint_id=endpoint_id))

    def dissociate(self, project_id: str, endpoint_id: str) -> None:
        with self.writing() as session:
            row = session.get(ProjectEndpoint, (project_id, endpoint_id))
            if row is None:
                raise errors.ProjectEndpointNotFound(project_id, endpoint_id)
            session.delete(row)

    def check_association(self, project_id: str, endpoint_id: str) -> None:
        with self.db.reader() as session:
            _existing(session, project_id, endpoint_id=endpoint_id)
            if session.get(ProjectEndpoint, (project_id, endpoint_id)) is None:
                raise errors.ProjectEndpointNotFound(project_id, endpoint_id)

    def associate_group(self, project_id: str, group_id: str) -> None:
        with self.writing() as session:
            _existing(session, project_id, group_id=group_id)
            if session.get(ProjectEndpointGroup, (project_id, group_id)) is None:
                session.add(ProjectEndpointGroup(project_id=project_id, endpoint_group_id=group_id))

    def dissociate_group(self, project_id: str, group_id: str) -> None:
        with self.writing() as session:
            row = session.get(ProjectEndpointGroup, (project_id, group_id))
            if row is None:
                raise errors.ProjectEndpointNotFound(project_id, group_id)
            session.delete(row)

    def check_group_association(self, project_id: str, group_id: str) -> None:
        with self.db.reader() as session:
            _existing(session, project_id, group_id=group_id)
            if session.get(ProjectEndpointGroup, (project_id, group_id)) is None:
                raise errors.ProjectEndpointNotFound(project_id, group_id)

    def project_endpoints(self, project_id: str) -> list[Endpoint]:
        """The endpoints the project's catalog shows because of its associations, direct or
        through endpoint groups (empty when nothing is associated)."""
        with self.db.reader() as session:
            _existing(session, project_id)
            visible = visible_endpoint_ids(session, project_id) or set()
            query = select(Endpoint).where(Endpoint.endpoint_id.in_(visible))
            return list(session.scalars(query.order_by(Endpoint.endpoint_id)))

    def project_groups(self, project_id: str) -> list[EndpointGroup]:
        with self.db.reader() as session:
            _existing(session, project_id)
            ids = select(ProjectEndpointGroup.endpoint_group_id).where(
                ProjectEndpointGroup.project_id == project_id
            )
            query = select(EndpointGroup).where(EndpointGroup.endpoint_group_id.in_(ids))
            return list(session.scalars(query))

    def endpoint_projects(self, endpoint_id: str) -> list[Project]:
        with self.db.reader() as session:
            _existing(session, endpoint_id=endpoint_id)
            ids = select(ProjectEndpoint.project_id).where(
                ProjectEndpoint.endpoint_id == endpoint_id
            )
            return list(session.scalars(select(Project).where(Project.project_id.in_(ids))))

    def group_projects(self, group_id: str) -> list[Project]:
        with self.db.reader() as session:
            _group(session, group_id)
            ids = select(ProjectEndpointGroup.project_id).where(
                ProjectEndpointGroup.endpoint_group_id == group_id
            )
            return list(session.scalars(select(Project).where(Project.project_id.in_(ids))))


def visible_endpoint_ids(session: Session, project_id: str) -> set[str] | None:
    """The endpoints a project's catalog may show; None when nothing filters it (all)."""
    direct = set(
        session.scalars(
            select(ProjectEndpoint.endpoint_id).where(ProjectEndpoint.project_id == project_id)
        )
    )
    filters = [
        group.filters
        for group in session.scalars(
            select(EndpointGroup)
            .join(
                ProjectEndpointGroup,
                ProjectEndpointGroup.endpoint_group_id == EndpointGroup.endpoint_group_id,
            )
            .where(ProjectEndpointGroup.project_id == project_id)
        )
    ]
    if not direct and not filters:
        return None
    matched = _matching(session.scalars(select(Endpoint)), filters) if filters else []
    return direct | {endpoint.endpoint_id for endpoint in matched}


def purge_project_associations(session: Session, project_id: str) -> None:
    session.execute(delete(ProjectEndpoint).where(ProjectEndpoint.project_id == project_id))
    session.execute(
        delete(ProjectEndpointGroup).where(ProjectEndpointGroup.project_id == project_id)
    )


def purge_endpoint_associations(session: Session, endpoint_id: str) -> None:
    session.execute(delete(ProjectEndpoint).where(ProjectEndpoint.endpoint_id == endpoint_id))


def _matching(endpoints: Iterable[Endpoint], filters: list[dict[str, Any]]) -> list[Endpoint]:
    return [
        endpoint
        for endpoint in endpoints
        if any(all(getattr(endpoint, k) == v for k, v in f.items()) for f in filters)
    ]


def _check_filters(filters: Any) -> None:
    if not isinstance(filters, dict) or not filters:
        raise BadRequest("Invalid input for field 'endpoint_group.filters': it must not be empty.")
    unknown = set(filters) - FILTER_KEYS
    if unknown:
        raise BadRequest(
            f"Invalid input for field 'endpoint_group.filters': unknown {sorted(unknown)}; "
            f"known: {sorted(FILTER_KEYS)}."
        )
    if not all(isinstance(value, str) for value in filters.values()):
        raise BadRequest("Invalid input for field 'endpoint_group.filters': values are strings.")


def _group(session: Session, group_id: str) -> EndpointGroup:
    row = session.get(EndpointGroup, group_id)
    if row is None:
        raise errors.EndpointGroupNotFound(group_id)
    return row


def _existing(
    session: Session,
    project_id: str | None = None,
    endpoint_id: str | None = None,
    group_id: str | None = None,
) -> None:
    if project_id is not None and session.get(Project, project_id) is None:
        raise errors.ProjectNotFound(project_id)
    if endpoint_id is not None and session.get(Endpoint, endpoint_id) is None:
        raise errors.EndpointNotFound(endpoint_id)
    if group_id is not None:
        _group(session, group_id)
