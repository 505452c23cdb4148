"""Image's logic and its only writes: records (`manager.images`), data (`manager.data`),
members (`manager.members`), staging, imports and per-store data (`manager.staging`,
`manager.imports`, `manager.locations`)."""

from __future__ import annotations

from onestack.common.bus import Notifier
from onestack.common.db import Database
from onestack.common.quota import Quotas
from onestack.image.drivers import ImageStore
from onestack.image.manager.base import Caller, ImageDeps
from onestack.image.manager.data import DataManager, ImageData
from onestack.image.manager.images import Change, ImageRecords
from onestack.image.manager.imports import ImportManager, ImportRequest
from onestack.image.manager.locations import LocationManager
from onestack.image.manager.members import MemberManager
from onestack.image.manager.query import SORT_KEYS, ListQuery
from onestack.image.manager.quota import ImageQuotas
from onestack.image.manager.staging import StagingManager
from onestack.image.manager.stores import StoreSet
from onestack.settings import ImageSettings

__all__ = [
    "SORT_KEYS",
    "Caller",
    "Change",
    "ImageData",
    "ImageManager",
    "ImportRequest",
    "ListQuery",
]


class ImageManager:
    """The image managers, each built over one `ImageDeps` (database, notifier, settings,
    stores, quotas): the image service's public Python interface."""

    def __init__(
        self,
        db: Database,
        stores: StoreSet,
        settings: ImageSettings,
        notifier: Notifier,
        quotas: Quotas | None = None,
    ) -> None:
        self.settings = settings
        self.stores = stores
        self.quotas = ImageQuotas(db, quotas)
        deps = ImageDeps(db, notifier, settings, stores, self.quotas)
        self.images = ImageRecords(deps)
        self.data = DataManager(deps)
        self.members = MemberManager(deps)
        self.staging = StagingManager(deps, self.data)
        self.imports = ImportManager(deps, self.data)
        self.locations = LocationManager(deps)

    def recover(self) -> None:
        """Once per start, before serving: interrupted uploads, stages and imports."""
        self.data.recover()
        self.imports.recover()

    @property
    def store(self) -> ImageStore:
        """The default store."""
        return self.stores[self.stores.default_id]

    def quota_report(self, project_id: str) -> dict[str, dict[str, int]]:
        return self.quotas.report(project_id)
