"""The configured image stores by id, which one is the default, and the staging area.

Built once from the settings: either the named stores of `[image] stores`, or the one store of
`store`/`store_dir` (named after its driver, "file" or "memory"). Every store, the staging area
included, is built by its driver from `drivers.DRIVERS`. The staging area is a store of the
default store's driver in `staging_dir` that never shows in `stores` (Glance's
os_glance_staging_store).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from onestack.image.drivers import ImageStore, driver, make_store
from onestack.settings import ImageSettings, StoreSettings


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
    """The stores the settings name; `store_dir` is the single store's directory."""
    configured = store_settings(settings, store_dir)
    default = settings.default_store or next(iter(configured))
    staging = StoreSettings(driver=configured[default].driver, dir=staging_dir)
    _check_directories([*configured.values(), staging])
    stores = {name: make_store(entry) for name, entry in configured.items()}
    descriptions = {name: entry.description for name, entry in configured.items()}
    return StoreSet(stores, default, make_store(staging), descriptions)


def store_settings(settings: ImageSettings, store_dir: Path) -> dict[str, StoreSettings]:
    """Each store's settings entry by id: `[image] stores`, or the one `store` in `store_dir`."""
    if settings.stores:
        # Named stores' locations have always been recorded under their resolved directory.
        return {name: _resolved(entry) for name, entry in settings.stores.items()}
    return {driver(settings.store).store_id: StoreSettings(driver=settings.store, dir=store_dir)}


def process_local(settings: ImageSettings) -> list[str]:
    """The drivers configured whose data lives in one process (the cloud needs one worker)."""
    names = [entry.driver for entry in settings.stores.values()] or [settings.store]
    return [name for name in dict.fromkeys(names) if driver(name).process_local]


def _resolved(entry: StoreSettings) -> StoreSettings:
    if entry.dir is None:
        return entry
    return entry.model_copy(update={"dir": entry.dir.expanduser().resolve()})


def _check_directories(entries: list[StoreSettings]) -> None:
    directories = [entry.dir.expanduser().resolve() for entry in entries if entry.dir]
    if len(set(directories)) != len(directories):
        # Two stores in one directory would delete each other's data.
        raise ValueError("Every image store and the staging area need a directory of their own.")
