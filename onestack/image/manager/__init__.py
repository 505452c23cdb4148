"""Image's logic and its only writes: records (`manager.images`), data (`manager.data`) and
members (`manager.members`)."""

from __future__ import annotations

from onestack.common.bus import Notifier
from onestack.common.db import Database
from onestack.common.quota import Quotas
from onestack.image.drivers import ImageStore
from onestack.image.manager.base import Caller
from onestack.image.manager.data import DataManager, ImageData
from onestack.image.manager.images import Change, ImageRecords
from onestack.image.manager.members import MemberManager
from onestack.image.manager.query import SORT_KEYS, ListQuery
from onestack.image.manager.quota import ImageQuotas
from onestack.settings import ImageSettings

__all__ = ["SORT_KEYS", "Caller", "Change", "ImageData", "ImageManager", "ListQuery"]


class ImageManager:
    """The image managers over one database, one store and one notifier."""

    def __init__(
        self,
        db: Database,
        store: ImageStore,
        settings: ImageSettings,
        notifier: Notifier,
        quotas: Quotas | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        image_quotas = self.quotas = ImageQuotas(db, quotas)
        self.images = ImageRecords(db, store, settings, notifier, image_quotas)
        self.data = DataManager(db, store, settings, notifier, image_quotas)
        self.members = MemberManager(db, notifier)

    def quota_report(self, project_id: str) -> dict[str, dict[str, int]]:
        return self.quotas.report(project_id)
