"""Image's logic and its only writes: records (`manager.images`), data (`manager.data`),
members (`manager.members`), staging, imports and per-store data (`manager.staging`,
`manager.imports`, `manager.locations`), and the metadata definitions catalog
(`manager.namespaces`, `manager.metadef_items`, `manager.resource_types`)."""

from __future__ import annotations

from collections.abc import Callable

from onestack.common.bus import Notifier
from onestack.common.db import Database
from onestack.common.ownership import Ownership, Work
from onestack.common.quota import Quotas
from onestack.image.drivers import ImageStore
from onestack.image.manager.base import Caller, ImageDeps
from onestack.image.manager.data import UPLOAD, DataManager, ImageData
from onestack.image.manager.images import Change, ImageRecords
from onestack.image.manager.imports import IMPORT, ImportManager, ImportRequest
from onestack.image.manager.locations import LocationManager
from onestack.image.manager.members import MemberManager
from onestack.image.manager.metadef_defaults import DefaultsLoader
from onestack.image.manager.metadef_items import ItemManager, ResourceTypeManager
from onestack.image.manager.metadefs import NamespaceManager, NamespaceQuery
from onestack.image.manager.query import SORT_KEYS, ListQuery
from onestack.image.manager.quota import ImageQuotas
from onestack.image.manager.staging import STAGE, StagingManager
from onestack.image.manager.stores import StoreSet
from onestack.image.manager.tasks import TASK, TaskManager, TaskQuery
from onestack.settings import ImageSettings

__all__ = [
    "SORT_KEYS",
    "Caller",
    "Change",
    "ImageData",
    "ImageManager",
    "ImportRequest",
    "ListQuery",
    "NamespaceQuery",
    "TaskQuery",
]


class ImageManager:
    """The image managers, each built over one `ImageDeps` (database, notifier, settings,
    stores, quotas, ownership): the image service's public Python interface.

    `ownership` is this process as the owner of the uploads, stages and imports it runs
    (a throwaway owner of kind "api" when not given)."""

    def __init__(
        self,
        db: Database,
        stores: StoreSet,
        settings: ImageSettings,
        notifier: Notifier,
        quotas: Quotas | None = None,
        ownership: Ownership | None = None,
    ) -> None:
        self.settings = settings
        self.stores = stores
        self.ownership = ownership = ownership or Ownership(db, "api")
        self.quotas = ImageQuotas(db, quotas)
        deps = ImageDeps(db, notifier, settings, stores, self.quotas, ownership)
        self.images = ImageRecords(deps)
        self.data = DataManager(deps)
        self.members = MemberManager(deps)
        self.staging = StagingManager(deps, self.data)
        self.imports = ImportManager(deps, self.data)
        self.locations = LocationManager(deps)
        self.tasks = TaskManager(deps, self.images, self.data)
        # The metadata definitions catalog.
        self.namespaces = NamespaceManager(deps)
        self.metadef_items = ItemManager(deps)
        self.resource_types = ResourceTypeManager(deps)
        self.metadef_defaults = DefaultsLoader(deps)

    def recover(self) -> None:
        """At start: the uploads and stages of processes that are gone go back to queued and
        their partial data goes away; on a full start (nobody else alive) also the imports
        that no agent can resume (`ImportManager.recover`)."""
        self.reap()
        if not self.ownership.others_alive():
            self.imports.recover()

    def reap(self) -> int:
        """Put back the uploads and stages of processes that are gone (the API's sweep)."""
        handlers = {UPLOAD: self.data.put_back, STAGE: self.staging.put_back}
        return self.ownership.reap(handlers, self.data.discard_partial)

    def agent_handlers(self) -> dict[str, Callable[[Work], None]]:
        """What the image agent runs: imports and import tasks, queued or left by a dead agent."""
        return {IMPORT: self.imports.run_work, TASK: self.tasks.run_work}

    @property
    def store(self) -> ImageStore:
        """The default store."""
        return self.stores[self.stores.default_id]

    def quota_report(self, project_id: str) -> dict[str, dict[str, int]]:
        return self.quotas.report(project_id)
