"""Objects: write (data to the store first, then the row that makes it visible), read,
metadata, delete and copy.

Every write stores its bytes under a new key (the MD5 of the object's path, then a version),
commits the row, and only then deletes the bytes the row named before. So a reader sees the
old object or the new one, never a mix, and a write that fails anywhere leaves the store as
it was (its own bytes are deleted again).
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO

from onestack.object import errors
from onestack.object.drivers import DataNotFound, StoreDown
from onestack.object.manager.base import ObjectBase, get_container, get_object, utcnow
from onestack.object.models import StoredObject

SPOOL_BYTES = 8 << 20


@dataclass(frozen=True)
class NewObject:
    """What the API learnt about a body it has read in full: its size and MD5."""

    size: int
    etag: str
    content_type: str
    metadata: Mapping[str, str]


class ObjectManager(ObjectBase):
    def head(self, account: str, container: str, name: str) -> StoredObject:
        with self.db.reader() as session:
            return get_object(session, account, container, name)

    def put(
        self, account: str, container: str, name: str, source: BinaryIO, new: NewObject
    ) -> StoredObject:
        with self.db.reader() as session:
            get_container(session, account, container)
        key = f"{_path_hash(account, container, name)}/{time.time_ns()}"
        _store(self, key, source, new.size)
        try:
            with self.writing() as session:
                get_container(session, account, container)
                row = session.get(StoredObject, (account, container, name))
                old = row.data_key if row else None
                if row is None:
                    row = StoredObject(account=account, container=container, name=name)
                    session.add(row)
                row.data_key, row.size, row.etag = key, new.size, new.etag
                row.content_type, row.metadata_ = new.content_type, dict(new.metadata)
                row.last_modified = utcnow()
        except BaseException:
            self.store.delete(key)
            raise
        if old is not None:
            self.store.delete(old)
        return row

    def read(self, row: StoredObject, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes [start, end) of the object `row` describes."""
        if row.size == 0 or start >= (row.size if end is None else end):
            return iter(())
        try:
            return self.store.read(row.data_key, start, end)
        except DataNotFound as exc:
            raise errors.ObjectNotFound() from exc
        except StoreDown as exc:
            raise errors.StoreUnavailable() from exc

    def post(
        self,
        account: str,
        container: str,
        name: str,
        metadata: Mapping[str, str],
        content_type: str | None,
    ) -> None:
        """Replace the object's metadata (Swift's POST keeps none of the old)."""
        with self.writing() as session:
            row = get_object(session, account, container, name)
            row.metadata_ = dict(metadata)
            if content_type:
                row.content_type = content_type

    def delete(self, account: str, container: str, name: str) -> None:
        with self.writing() as session:
            row = get_object(session, account, container, name)
            key = row.data_key
            session.delete(row)
        self.store.delete(key)

    def copy(
        self, source: StoredObject, account: str, container: str, name: str, new: NewObject
    ) -> StoredObject:
        """Write `source`'s bytes as a new object; `new` carries its type and metadata."""
        with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as spool:
            for chunk in self.read(source):
                spool.write(chunk)
            spool.seek(0)
            return self.put(account, container, name, spool, new)


def _store(manager: ObjectBase, key: str, source: BinaryIO, size: int) -> None:
    try:
        manager.store.put(key, source, size)
    except StoreDown as exc:
        raise errors.StoreUnavailable() from exc


def _path_hash(account: str, container: str, name: str) -> str:
    path = f"/{account}/{container}/{name}".encode()
    return hashlib.md5(path, usedforsecurity=False).hexdigest()
