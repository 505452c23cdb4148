"""The in-memory twin of the object store: a dict in this process (tests, one worker)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from onestack.object.drivers.base import CHUNK, DataNotFound, ObjectStore, StoreDown

if TYPE_CHECKING:
    from onestack.settings import ObjectSettings


class MemoryStore(ObjectStore):
    process_local = True

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: ObjectSettings, state_dir: Path) -> MemoryStore:
        return cls()

    def put(self, key: str, source: BinaryIO, size: int) -> None:
        data = source.read(size)
        if len(data) != size:
            raise StoreDown(f"short source: {len(data)} of {size} bytes")
        with self._lock:
            self._data[key] = data

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        with self._lock:
            data = self._data.get(key)
        if data is None:
            raise DataNotFound(key)
        return _chunks(data[start:end])

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)


def _chunks(data: bytes) -> Iterator[bytes]:
    for offset in range(0, len(data), CHUNK):
        yield data[offset : offset + CHUNK]
