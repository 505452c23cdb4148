"""The metadata definitions catalog's namespaces: who sees them, their CRUD and listing.

A namespace is public or private; a private one is seen only by its owner project (and the
image admin): to anyone else it does not exist (404). Writes are for image admins by policy.
Namespaces are few (tens), so listings sort and page in Python.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.image import errors
from onestack.image.manager import metadef_docs as docs
from onestack.image.manager.base import Caller, ImageBase, now
from onestack.image.models import (
    MetadefAssociation,
    MetadefItem,
    MetadefNamespace,
    MetadefResourceType,
)

SORT_KEYS = ("created_at", "updated_at", "namespace", "display_name", "visibility")
ITEM_KINDS = ("object", "property", "tag")


@dataclass
class NamespaceQuery:
    visibility: str | None = None
    resource_types: list[str] = field(default_factory=list)
    limit: int = 25
    marker: str | None = None
    sort_key: str = "created_at"
    sort_dir: str = "desc"


@dataclass
class NamespaceDetail:
    """A namespace with what it holds, for `GET /v2/metadefs/namespaces/{namespace}`."""

    namespace: MetadefNamespace
    items: list[MetadefItem]
    associations: list[MetadefAssociation]


def visible(caller: Caller, namespace: MetadefNamespace) -> bool:
    return (
        caller.is_admin
        or namespace.visibility == "public"
        or (namespace.owner is not None and namespace.owner == caller.project_id)
    )


def get_namespace(session: Session, caller: Caller, name: str) -> MetadefNamespace:
    """The namespace if the caller may see it; 404 otherwise."""
    row = session.scalar(select(MetadefNamespace).where(MetadefNamespace.namespace == name))
    if row is None or not visible(caller, row):
        raise errors.MetadefNotFound("namespace", name)
    return row


def namespace_payload(row: MetadefNamespace) -> dict[str, Any]:
    return {
        "namespace": row.namespace,
        "display_name": row.display_name,
        "description": row.description,
        "visibility": row.visibility,
        "protected": row.protected,
        "owner": row.owner,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


class NamespaceManager(ImageBase):
    def list(self, caller: Caller, query: NamespaceQuery) -> list[MetadefNamespace]:
        if query.sort_key not in SORT_KEYS:
            raise errors.InvalidParameter(f"Invalid sort key: {query.sort_key}.")
        if query.sort_dir not in ("asc", "desc"):
            raise errors.InvalidParameter(f"Invalid sort direction: {query.sort_dir}.")
        if query.visibility not in (None, *docs.VISIBILITIES):
            raise errors.InvalidParameter(f"Invalid visibility: {query.visibility}.")
        with self.db.reader() as session:
            rows = [r for r in session.scalars(select(MetadefNamespace)) if visible(caller, r)]
            if query.visibility:
                rows = [r for r in rows if r.visibility == query.visibility]
            if query.resource_types:
                wanted = set(query.resource_types)
                linked = session.scalars(
                    select(MetadefAssociation.namespace_id).where(
                        MetadefAssociation.resource_type.in_(wanted)
                    )
                )
                ids = set(linked)
                rows = [r for r in rows if r.namespace_id in ids]
        rows.sort(key=lambda r: (getattr(r, query.sort_key) or "", r.namespace))
        if query.sort_dir == "desc":
            rows.reverse()
        if query.marker is not None:
            names = [r.namespace for r in rows]
            if query.marker not in names:
                raise errors.InvalidParameter(f"Invalid marker: namespace {query.marker}.")
            rows = rows[names.index(query.marker) + 1 :]
        return rows[: query.limit]

    def get(self, caller: Caller, name: str) -> NamespaceDetail:
        with self.db.reader() as session:
            row = get_namespace(session, caller, name)
            return NamespaceDetail(row, _items(session, row), _associations(session, row))

    def create(self, caller: Caller, body: dict[str, Any]) -> NamespaceDetail:
        """A namespace, with the objects, properties, tags and associations `body` holds."""
        fields = docs.namespace(body)
        fields["owner"] = fields["owner"] or caller.project_id
        contents = read_contents(body)
        with self.writing(errors.MetadefDuplicate("namespace", fields["namespace"])) as session:
            detail = add_namespace(session, fields, contents)
        self.notifier.info("metadef_namespace.create", namespace_payload(detail.namespace))
        return detail

    def update(self, caller: Caller, name: str, body: dict[str, Any]) -> MetadefNamespace:
        fields = docs.namespace({"namespace": name, **body})
        with self.writing(errors.MetadefDuplicate("namespace", fields["namespace"])) as session:
            row = get_namespace(session, caller, name)
            # Fields the body leaves out keep their value: openstacksdk PUTs only the changes.
            for key, value in fields.items():
                if key in body and (key != "owner" or value is not None):
                    setattr(row, key, value)
            row.updated_at = now()
        payload = {**namespace_payload(row), "namespace_old": name}
        self.notifier.info("metadef_namespace.update", payload)
        return row

    def delete(self, caller: Caller, name: str) -> None:
        with self.writing() as session:
            row = get_namespace(session, caller, name)
            if row.protected:
                raise errors.MetadefProtected("namespace", name)
            session.delete(row)
        self.notifier.info("metadef_namespace.delete", namespace_payload(row))


@dataclass
class Contents:
    """What a namespace document holds besides its own fields."""

    items: list[tuple[str, str, dict[str, Any]]]  # (kind, name, stored body)
    associations: list[dict[str, Any]]


def read_contents(body: dict[str, Any]) -> Contents:
    items: list[tuple[str, str, dict[str, Any]]] = []
    for prop_name, schema in docs.properties(body.get("properties")).items():
        items.append(("property", prop_name, schema))
    objects = body.get("objects") or []
    tags = body.get("tags") or []
    associations = body.get("resource_type_associations") or []
    for value, what in ((objects, "objects"), (tags, "tags"), (associations, "associations")):
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise errors.InvalidParameter(f"'{what}' must be a list of JSON objects.")
    for obj in objects:
        items.append(("object", *docs.metadef_object(obj)))
    items += [("tag", tag, {}) for tag in docs.tag_names({"tags": tags})]
    return Contents(items, [docs.association(a) for a in associations])


def add_namespace(session: Session, fields: dict[str, Any], contents: Contents) -> NamespaceDetail:
    """Insert a namespace and its contents in the caller's transaction."""
    moment = now()
    row = MetadefNamespace(
        namespace_id=str(uuid.uuid4()), created_at=moment, updated_at=moment, **fields
    )
    session.add(row)
    session.flush()
    items = [new_item(row, kind, name, body) for kind, name, body in contents.items]
    session.add_all(items)
    links = [associate(session, row, a) for a in contents.associations]
    session.flush()
    return NamespaceDetail(row, items, links)


def new_item(row: MetadefNamespace, kind: str, name: str, body: dict[str, Any]) -> MetadefItem:
    moment = now()
    return MetadefItem(
        item_id=str(uuid.uuid4()),
        namespace_id=row.namespace_id,
        kind=kind,
        name=name,
        body=json.dumps(body),
        created_at=moment,
        updated_at=moment,
    )


def associate(
    session: Session, row: MetadefNamespace, fields: dict[str, Any], protected: bool = False
) -> MetadefAssociation:
    """Link a namespace to a resource type, creating the type when it is new (as Glance)."""
    moment = now()
    if session.get(MetadefResourceType, fields["resource_type"]) is None:
        session.add(
            MetadefResourceType(
                name=fields["resource_type"],
                protected=protected,
                created_at=moment,
                updated_at=moment,
            )
        )
        session.flush()
    link = MetadefAssociation(
        namespace_id=row.namespace_id, created_at=moment, updated_at=moment, **fields
    )
    session.add(link)
    return link


def _items(session: Session, row: MetadefNamespace) -> list[MetadefItem]:
    statement = select(MetadefItem).where(MetadefItem.namespace_id == row.namespace_id)
    return list(session.scalars(statement.order_by(MetadefItem.kind, MetadefItem.name)))


def _associations(session: Session, row: MetadefNamespace) -> list[MetadefAssociation]:
    statement = select(MetadefAssociation).where(
        MetadefAssociation.namespace_id == row.namespace_id
    )
    return list(session.scalars(statement.order_by(MetadefAssociation.resource_type)))
