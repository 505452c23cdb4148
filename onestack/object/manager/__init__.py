"""Object storage's public Python interface: `ObjectManager` over its deps, one manager per
kind of resource (accounts, containers, objects)."""

from __future__ import annotations

from onestack.common.bus import Notifier
from onestack.common.db import Database
from onestack.object.drivers import ObjectStore
from onestack.object.manager.accounts import AccountManager, AccountView, ContainerEntry
from onestack.object.manager.base import ObjectDeps
from onestack.object.manager.containers import ContainerChange, ContainerManager, ContainerView
from onestack.object.manager.listing import MAX_LIMIT, ListQuery, Subdir
from onestack.object.manager.objects import NewObject
from onestack.object.manager.objects import ObjectManager as ObjectsManager

__all__ = [
    "MAX_LIMIT",
    "AccountView",
    "ContainerChange",
    "ContainerEntry",
    "ContainerView",
    "ListQuery",
    "NewObject",
    "ObjectStorage",
    "Subdir",
]


class ObjectStorage:
    """The service's facade: its managers over one database, notifier and store."""

    def __init__(self, db: Database, notifier: Notifier, store: ObjectStore) -> None:
        deps = ObjectDeps(db, notifier, store)
        self.store = store
        self.accounts = AccountManager(deps)
        self.containers = ContainerManager(deps)
        self.objects = ObjectsManager(deps)
