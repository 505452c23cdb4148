"""The in-memory image store: the filesystem store's twin for tests and throwaway clouds."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from onestack.image.drivers.base import DataNotFound, ImageStore, StoreWriter

if TYPE_CHECKING:
    from onestack.settings import StoreSettings

CHUNK_BYTES = 64 * 1024


class MemoryStore(ImageStore):
    store_id = "memory"
    kind = "memory"
    description = "Image data in this process's memory (lost on restart)."
    process_local = True

    @classmethod
    def from_settings(cls, settings: StoreSettings) -> MemoryStore:
        return cls()  # nothing to configure; a directory, when given, is not used

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def writer(self, image_id: str) -> StoreWriter:
        return _MemoryWriter(self, image_id)

    def read(self, location: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        data = self._data.get(location)
        if data is None:
            raise DataNotFound(location)
        return _chunks(memoryview(data)[start:end])

    def delete(self, location: str) -> None:
        with self._lock:
            self._data.pop(location, None)

    def exists(self, location: str) -> bool:
        return location in self._data

    def locations(self) -> list[str]:
        with self._lock:
            return list(self._data)

    def discard_partial(self) -> None:
        """Nothing to do: uncommitted writes live only in their writer."""

    def _put(self, location: str, data: bytes) -> None:
        with self._lock:
            self._data[location] = data


def _chunks(view: memoryview) -> Iterator[bytes]:
    for offset in range(0, len(view), CHUNK_BYTES):
        yield bytes(view[offset : offset + CHUNK_BYTES])


class _MemoryWriter(StoreWriter):
    def __init__(self, store: MemoryStore, image_id: str) -> None:
        self._store = store
        self._location = f"memory://{image_id}"
        self._chunks: list[bytes] | None = []

    def write(self, chunk: bytes) -> None:
        assert self._chunks is not None, "write after commit or abort"
        self._chunks.append(chunk)

    def commit(self) -> str:
        assert self._chunks is not None, "commit after commit or abort"
        self._store._put(self._location, b"".join(self._chunks))
        self._chunks = None
        return self._location

    def abort(self) -> None:
        self._chunks = None
