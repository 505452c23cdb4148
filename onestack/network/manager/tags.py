"""Tags of any network resource (Neutron's tag extension); the API checks that the caller
may change the resource before it calls these."""

from __future__ import annotations

from sqlalchemy import delete, select

from onestack.network import errors
from onestack.network.manager.base import NetworkBase, set_tags
from onestack.network.models import Tag

MAX_TAG = 255


class TagRecords(NetworkBase):
    def list(self, resource_id: str) -> list[str]:
        with self.db.reader() as session:
            query = select(Tag.tag).where(Tag.resource_id == resource_id).order_by(Tag.tag)
            return list(session.scalars(query))

    def replace(self, resource_id: str, tags: list[str]) -> list[str]:
        for tag in tags:
            _check(tag)
        with self.writing() as session:
            set_tags(session, resource_id, tags)
        return sorted(set(tags))

    def add(self, resource_id: str, tag: str) -> None:
        _check(tag)
        with self.writing() as session:
            if session.get(Tag, (resource_id, tag)) is None:
                session.add(Tag(resource_id=resource_id, tag=tag))

    def remove(self, resource_id: str, tag: str) -> None:
        with self.writing() as session:
            gone = session.execute(
                delete(Tag).where(Tag.resource_id == resource_id, Tag.tag == tag)
            ).rowcount
        if not gone:
            raise errors.TagNotFound(resource_id, tag)

    def has(self, resource_id: str, tag: str) -> bool:
        with self.db.reader() as session:
            return session.get(Tag, (resource_id, tag)) is not None


def _check(tag: str) -> None:
    if not tag or len(tag) > MAX_TAG or "," in tag or "/" in tag:
        raise errors.InvalidInput(f"'{tag}' is not a valid tag (1-255 characters, no , or /).")
