"""Object stores by name: the explicit map `[object] driver` chooses from, and the only place a
store class is found."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from onestack.object.drivers.base import DataNotFound, ObjectStore, StoreDown
from onestack.object.drivers.memory import MemoryStore
from onestack.object.drivers.ring import RingStore

if TYPE_CHECKING:
    from onestack.settings import ObjectSettings

__all__ = ["DRIVERS", "DataNotFound", "ObjectStore", "StoreDown", "make_store"]

DRIVERS: dict[str, type[ObjectStore]] = {"ring": RingStore, "memory": MemoryStore}


def make_store(settings: ObjectSettings, state_dir: Path) -> ObjectStore:
    """The store `[object] driver` names; ValueError naming the known ones otherwise."""
    found = DRIVERS.get(settings.driver)
    if found is None:
        raise ValueError(
            f"Unknown object store driver {settings.driver!r}; known: {', '.join(DRIVERS)}."
        )
    return found.from_settings(settings, state_dir)
