"""Containers: create (201, or 202 when it exists and only its metadata changes), stat,
metadata, ACLs, delete (409 while it holds objects) and the object listing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from onestack.object import errors
from onestack.object.manager.accounts import ensure_account, merged
from onestack.object.manager.base import ObjectBase, get_container, utcnow
from onestack.object.manager.listing import ListQuery, filtered, page
from onestack.object.models import Container, StoredObject


@dataclass(frozen=True)
class ContainerChange:
    metadata: Mapping[str, str]
    read_acl: str | None = None  # None: unchanged; "": removed
    write_acl: str | None = None


@dataclass(frozen=True)
class ContainerView:
    row: Container
    objects: int
    bytes_used: int


class ContainerManager(ObjectBase):
    def create(self, account: str, name: str, change: ContainerChange) -> bool:
        """Create the container, or update an existing one; True when it was created."""
        for _ in range(2):  # a concurrent create of the same name: the second updates it
            try:
                with self.db.transaction() as session:
                    ensure_account(session, account)
                    row = session.get(Container, (account, name))
                    created = row is None
                    if row is None:
                        now = utcnow()
                        row = Container(
                            account=account, name=name, metadata_={}, created_at=now, updated_at=now
                        )
                        session.add(row)
                    _apply(row, change)
                return created
            except IntegrityError:
                continue
        return False

    def update(self, account: str, name: str, change: ContainerChange) -> None:
        with self.writing() as session:
            _apply(get_container(session, account, name), change)

    def stat(self, account: str, name: str) -> ContainerView:
        with self.db.reader() as session:
            row = get_container(session, account, name)
            count, used = session.execute(
                select(func.count(), func.coalesce(func.sum(StoredObject.size), 0)).where(
                    StoredObject.account == account, StoredObject.container == name
                )
            ).one()
        return ContainerView(row, int(count), int(used))

    def delete(self, account: str, name: str) -> None:
        with self.writing() as session:
            row = get_container(session, account, name)
            held = select(StoredObject).where(
                StoredObject.account == account, StoredObject.container == name
            )
            if session.scalar(select(exists(held))):
                raise errors.ContainerNotEmpty()
            session.delete(row)

    def objects(self, account: str, name: str, query: ListQuery) -> list[Any]:
        """Object rows and Subdirs of the container, as the listing options select."""
        with self.db.reader() as session:
            get_container(session, account, name)
            stmt = select(StoredObject).where(
                StoredObject.account == account, StoredObject.container == name
            )
            stmt = filtered(session, stmt, StoredObject.name, query)
            return page(session.scalars(stmt.execution_options(yield_per=500)), query)


def _apply(row: Container, change: ContainerChange) -> None:
    row.metadata_ = merged(row.metadata_, change.metadata)
    if change.read_acl is not None:
        row.read_acl = change.read_acl or None
    if change.write_acl is not None:
        row.write_acl = change.write_acl or None
    row.updated_at = utcnow()
