"""Image stores by name: the explicit map the settings choose from."""

from __future__ import annotations

from pathlib import Path

from onestack.image.drivers.base import DataNotFound, ImageStore, StoreWriter
from onestack.image.drivers.filesystem import FilesystemStore
from onestack.image.drivers.memory import MemoryStore

__all__ = ["DRIVERS", "DataNotFound", "ImageStore", "StoreWriter", "make_store"]

DRIVERS = {"filesystem": FilesystemStore, "memory": MemoryStore}


def make_store(name: str, directory: Path) -> ImageStore:
    """The store named `name`; the filesystem store keeps its data under `directory`."""
    if name == "filesystem":
        return FilesystemStore(directory)
    if name == "memory":
        return MemoryStore()
    raise ValueError(f"Unknown image store {name!r}; known: {', '.join(DRIVERS)}.")
