"""What object storage's managers share: deps (database, notifier, store), the clock, name
ordering and the lookups of rows by account and name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from onestack.common.manager import Deps, Manager
from onestack.object import errors
from onestack.object.drivers import ObjectStore
from onestack.object.models import Container, StoredObject


@dataclass(frozen=True)
class ObjectDeps(Deps):
    store: ObjectStore


class ObjectBase(Manager[ObjectDeps]):
    """An object storage manager."""

    def __init__(self, deps: ObjectDeps) -> None:
        super().__init__(deps)
        self.store = deps.store


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ordered(session: Session, column: ColumnElement[str]) -> ColumnElement[str]:
    """`column` compared byte by byte, as Swift orders names (PostgreSQL's default collation
    may follow the locale; SQLite's already compares bytes)."""
    if session.get_bind().dialect.name == "postgresql":
        return column.collate("C")
    return column


def get_container(session: Session, account: str, name: str) -> Container:
    row = session.get(Container, (account, name))
    if row is None:
        raise errors.ContainerNotFound()
    return row


def get_object(session: Session, account: str, container: str, name: str) -> StoredObject:
    row = session.get(StoredObject, (account, container, name))
    if row is None:
        raise errors.ObjectNotFound()
    return row
