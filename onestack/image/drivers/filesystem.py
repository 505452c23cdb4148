"""The filesystem image store (the default): one file per image under a directory.

A write goes to `<dir>/.partial/<image_id>.<random>` and is renamed to `<dir>/<image_id>`
on commit, after an fsync, so a reader never sees a half-written image and a crash leaves only
partial files, which `discard_partial()` removes at start.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from onestack.image.drivers.base import DataNotFound, ImageStore, StoreWriter

CHUNK_BYTES = 1 << 20  # per thread hop of a streamed download
SCHEME = "file://"


class FilesystemStore(ImageStore):
    store_id = "file"
    kind = "file"
    description = "Image data as files on the controller's disk."

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.partial_dir = directory / ".partial"
        self.partial_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    def properties(self) -> dict[str, object]:
        return {
            "data_dir": str(self.directory),
            "chunk_size": CHUNK_BYTES,
            "thin_provisioning": False,
        }

    def writer(self, image_id: str) -> StoreWriter:
        if "/" in image_id or image_id.startswith("."):
            raise ValueError(f"not a storable image id: {image_id!r}")
        partial = self.partial_dir / f"{image_id}.{uuid.uuid4().hex}"
        return _FileWriter(partial, self.directory / image_id)

    def read(self, location: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        path = self._path(location)
        try:
            handle = path.open("rb")
        except FileNotFoundError as exc:
            raise DataNotFound(location) from exc
        return _read_range(handle, start, end)

    def delete(self, location: str) -> None:
        self._path(location).unlink(missing_ok=True)

    def exists(self, location: str) -> bool:
        return self._path(location).is_file()

    def locations(self) -> list[str]:
        return [f"{SCHEME}{path}" for path in self.directory.iterdir() if path.is_file()]

    def discard_partial(self) -> None:
        shutil.rmtree(self.partial_dir, ignore_errors=True)
        self.partial_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _path(self, location: str) -> Path:
        """The file behind a location; only files directly in the store directory."""
        path = Path(location.removeprefix(SCHEME))
        if path.parent != self.directory:
            raise DataNotFound(location)
        return path


def _read_range(handle: BinaryIO, start: int, end: int | None) -> Iterator[bytes]:
    with handle:
        handle.seek(start)
        remaining = None if end is None else max(0, end - start)
        while remaining is None or remaining > 0:
            want = CHUNK_BYTES if remaining is None else min(CHUNK_BYTES, remaining)
            chunk = handle.read(want)
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk


class _FileWriter(StoreWriter):
    def __init__(self, partial: Path, final: Path) -> None:
        self._partial = partial
        self._final = final
        self._handle = partial.open("xb")

    def write(self, chunk: bytes) -> None:
        self._handle.write(chunk)

    def commit(self) -> str:
        try:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            os.replace(self._partial, self._final)
        except BaseException:
            self.abort()
            raise
        return f"{SCHEME}{self._final}"

    def abort(self) -> None:
        self._handle.close()
        self._partial.unlink(missing_ok=True)
