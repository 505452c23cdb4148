"""What a metadef namespace holds: objects, property definitions and tags (one table, by
kind), and its associations with resource types.

Reading follows the namespace's visibility (404 if unseen); writing is for image admins by
policy; a protected namespace's contents cannot be deleted (403), only changed.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.image import errors
from onestack.image.manager import metadef_docs as docs
from onestack.image.manager.base import Caller, ImageBase, now
from onestack.image.manager.metadefs import associate, get_namespace, new_item
from onestack.image.models import (
    MetadefAssociation,
    MetadefItem,
    MetadefNamespace,
    MetadefResourceType,
)

# The kind's name in errors and notifications, as Glance spells it.
EVENTS = {"object": "metadef_object", "property": "metadef_property", "tag": "metadef_tag"}


def body_of(item: MetadefItem) -> dict[str, Any]:
    return json.loads(item.body)


class ItemManager(ImageBase):
    def list(self, caller: Caller, namespace: str, kind: str) -> list[MetadefItem]:
        with self.db.reader() as session:
            row = get_namespace(session, caller, namespace)
            return list(session.scalars(_of(row, kind).order_by(MetadefItem.name)))

    def get(self, caller: Caller, namespace: str, kind: str, name: str) -> MetadefItem:
        with self.db.reader() as session:
            return _get(session, get_namespace(session, caller, namespace), kind, name)

    def create(
        self, caller: Caller, namespace: str, kind: str, name: str, body: dict[str, Any]
    ) -> MetadefItem:
        with self.writing(errors.MetadefDuplicate(kind, name)) as session:
            row = get_namespace(session, caller, namespace)
            item = new_item(row, kind, name, body)
            session.add(item)
        self._notify(f"{EVENTS[kind]}.create", namespace, item)
        return item

    def update(
        self, caller: Caller, namespace: str, kind: str, name: str, new: tuple[str, dict[str, Any]]
    ) -> MetadefItem:
        """Rename and redefine an item: `new` is its new name and stored body."""
        with self.writing(errors.MetadefDuplicate(kind, new[0])) as session:
            item = _get(session, get_namespace(session, caller, namespace), kind, name)
            item.name, item.body = new[0], json.dumps(new[1])
            item.updated_at = now()
        self._notify(f"{EVENTS[kind]}.update", namespace, item, name_old=name)
        return item

    def delete(self, caller: Caller, namespace: str, kind: str, name: str) -> None:
        with self.writing() as session:
            row = get_namespace(session, caller, namespace)
            item = _get(session, row, kind, name)
            if row.protected:
                raise errors.MetadefProtected(kind, name)
            session.delete(item)
        self._notify(f"{EVENTS[kind]}.delete", namespace, item)

    def delete_all(self, caller: Caller, namespace: str, kind: str) -> None:
        """Every object (or property, or tag) of the namespace."""
        with self.writing() as session:
            row = get_namespace(session, caller, namespace)
            if row.protected:
                raise errors.MetadefProtected("namespace", namespace)
            session.execute(_delete(row, kind))
        event = {"object": "objects", "property": "properties", "tag": "tags"}[kind]
        self.notifier.info(f"metadef_namespace.delete_{event}", {"namespace": namespace})

    def set_tags(
        self, caller: Caller, namespace: str, names: list[str], append: bool
    ) -> list[MetadefItem]:
        """Bulk tag create: the namespace's tags become `names` (or gain them, `append`)."""
        with self.writing(errors.MetadefDuplicate("tag", ", ".join(names))) as session:
            row = get_namespace(session, caller, namespace)
            if not append:
                session.execute(_delete(row, "tag"))
            tags = [new_item(row, "tag", name, {}) for name in names]
            session.add_all(tags)
        for tag in tags:
            self._notify("metadef_tag.create", namespace, tag)
        return tags

    def _notify(self, event: str, namespace: str, item: MetadefItem, **more: Any) -> None:
        payload = {"namespace": namespace, "name": item.name, **body_of(item), **more}
        self.notifier.info(event, payload)


class ResourceTypeManager(ImageBase):
    def list(self) -> list[MetadefResourceType]:
        with self.db.reader() as session:
            statement = select(MetadefResourceType).order_by(MetadefResourceType.name)
            return list(session.scalars(statement))

    def associations(self, caller: Caller, namespace: str) -> list[MetadefAssociation]:
        with self.db.reader() as session:
            row = get_namespace(session, caller, namespace)
            statement = select(MetadefAssociation).where(
                MetadefAssociation.namespace_id == row.namespace_id
            )
            return list(session.scalars(statement.order_by(MetadefAssociation.resource_type)))

    def associate(self, caller: Caller, namespace: str, body: dict[str, Any]) -> MetadefAssociation:
        fields = docs.association(body)
        conflict = errors.MetadefDuplicate("resource type association", fields["resource_type"])
        with self.writing(conflict) as session:
            link = associate(session, get_namespace(session, caller, namespace), fields)
        payload = {"namespace": namespace, "name": link.resource_type, "prefix": link.prefix}
        self.notifier.info("metadef_resource_type.create", payload)
        return link

    def dissociate(self, caller: Caller, namespace: str, resource_type: str) -> None:
        with self.writing() as session:
            row = get_namespace(session, caller, namespace)
            link = session.get(MetadefAssociation, (row.namespace_id, resource_type))
            if link is None:
                raise errors.MetadefNotFound("resource type", resource_type, namespace)
            session.delete(link)
        payload = {"namespace": namespace, "name": resource_type}
        self.notifier.info("metadef_resource_type.delete", payload)


def _of(row: MetadefNamespace, kind: str) -> Any:
    return select(MetadefItem).where(
        MetadefItem.namespace_id == row.namespace_id, MetadefItem.kind == kind
    )


def _delete(row: MetadefNamespace, kind: str) -> Any:
    return delete(MetadefItem).where(
        MetadefItem.namespace_id == row.namespace_id, MetadefItem.kind == kind
    )


def _get(session: Session, row: MetadefNamespace, kind: str, name: str) -> MetadefItem:
    item = session.scalar(_of(row, kind).where(MetadefItem.name == name))
    if item is None:
        raise errors.MetadefNotFound(kind, name, row.namespace)
    return item
