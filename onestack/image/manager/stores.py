"""The configured image stores by id, which one is the default, and the staging area.

Built once from the settings: either the named filesystem stores of `[image] stores`, or the
one store of `store`/`store_dir` (named after its driver, "file" or "memory"). The staging
area is a store of its own that never shows in `stores` (Glance's os_glance_staging_store).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from onestack.image.drivers import ImageStore, make_store
from onestack.image.drivers.filesystem import FilesystemStore
from onestack.settings import ImageSettings


class StoreSet:
    def __init__(
        self,
        stores: dict[str, ImageStore],
        default_id: str,
        staging: ImageStore,
        descriptions: dict[str, str] | None = None,
    ) -> None:
        self._stores = stores
        self.default_id = default_id
        self.staging = staging
        self._descriptions = descriptions or {}

    @property
    def ids(self) -> list[str]:
        return list(self._stores)

    def find(self, store_id: str) -> ImageStore | None:
        return self._stores.get(store_id)

    def __getitem__(self, store_id: str) -> ImageStore:
        return self._stores[store_id]

    def all(self) -> list[ImageStore]:
        return [*self._stores.values(), self.staging]

    def describe(self, detail: bool = False) -> list[dict[str, Any]]:
        """GET /v2/info/stores: each store's id and description, the default marked; with
        `detail` (/v2/info/stores/detail) also its type, weight and properties."""
        described = []
        for store_id, store in self._stores.items():
            entry: dict[str, Any] = {
                "id": store_id,
                "description": self._descriptions.get(store_id) or store.description,
            }
            if store_id == self.default_id:
                entry["default"] = True
            if detail:
                entry.update(type=store.kind, weight=0, properties=store.properties())
            described.append(entry)
        return described


def build_stores(settings: ImageSettings, store_dir: Path, staging_dir: Path) -> StoreSet:
    """The stores the settings name; `store_dir` is the single filesystem store's directory."""
    if not settings.stores:
        store = make_store(settings.store, store_dir)
        staging = make_store(settings.store, staging_dir)
        return StoreSet({store.store_id: store}, store.store_id, staging)
    directories = [entry.dir.expanduser().resolve() for entry in settings.stores.values()]
    if len({*directories, staging_dir.resolve()}) != len(directories) + 1:
        # Two stores in one directory would delete each other's data.
        raise ValueError("Every image store and the staging area need a directory of their own.")
    stores: dict[str, ImageStore] = {
        name: FilesystemStore(directory)
        for name, directory in zip(settings.stores, directories, strict=True)
    }
    default = settings.default_store or next(iter(settings.stores))
    descriptions = {name: entry.description for name, entry in settings.stores.items()}
    return StoreSet(stores, default, FilesystemStore(staging_dir), descriptions)
