"""Image stores by name: the explicit map the settings choose from, and the only place a store
is found. `make_store` builds one from its settings entry; nothing else names a store class."""

from __future__ import annotations

from typing import TYPE_CHECKING

from onestack.image.drivers.base import DataNotFound, ImageStore, StoreWriter
from onestack.image.drivers.filesystem import FilesystemStore
from onestack.image.drivers.memory import MemoryStore

if TYPE_CHECKING:
    from onestack.settings import StoreSettings

__all__ = ["DRIVERS", "DataNotFound", "ImageStore", "StoreWriter", "driver", "make_store"]

DRIVERS: dict[str, type[ImageStore]] = {"filesystem": FilesystemStore, "memory": MemoryStore}


def driver(name: str) -> type[ImageStore]:
    """The store class `name` stands for; ValueError naming the known ones otherwise."""
    found = DRIVERS.get(name)
    if found is None:
        raise ValueError(f"Unknown image store driver {name!r}; known: {', '.join(DRIVERS)}.")
    return found


def make_store(settings: StoreSettings) -> ImageStore:
    """The store a settings entry describes, built by its driver."""
    return driver(settings.driver).from_settings(settings)
