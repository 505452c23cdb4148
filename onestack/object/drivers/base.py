"""The object store interface: where object bytes live, by an opaque key. This docstring is
the contract every driver keeps (the suite in tests/contract/test_object_store.py checks it).

- `put(key, source, size)` stores exactly `size` bytes read from `source` (a binary file at
  position 0) under `key`. When it returns, the data is durable (fsynced where that means
  something) on enough replicas to be read back; when it raises, nothing is readable under
  `key` that was not there before. A key is written once: callers name a new write by a new
  key, so a driver never has to order two writes to one key.
- `read(key, start, end)` yields the bytes [start, end) of `key` (end None: to the end);
  `DataNotFound` when no replica has the key. Drivers may yield any chunk sizes.
- `delete(key)` forgets `key`; deleting a missing key is not an error.
- Any failure to reach the backend is `StoreDown` (the API answers 503).

Keys are ASCII strings of [0-9a-f/] up to 100 characters chosen by the manager. Nothing here
knows accounts, containers or listings: those are the API layer's (in the database). A driver
over another engine (Ceph RADOS objects, an S3 bucket) implements these three methods and
`from_settings`; `process_local` says the data lives in this process (one worker only).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from onestack.settings import ObjectSettings

CHUNK = 64 * 1024


class DataNotFound(Exception):
    """No replica holds the key."""


class StoreDown(Exception):
    """The backend could not be reached, or too few replicas answered."""


class ObjectStore(ABC):
    process_local: bool = False

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: ObjectSettings, state_dir: Path) -> ObjectStore: ...

    @abstractmethod
    def put(self, key: str, source: BinaryIO, size: int) -> None: ...

    @abstractmethod
    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...
