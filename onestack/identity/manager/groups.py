"""Groups and their membership."""

from __future__ import annotations

from onestack.identity.manager.base import Store


class GroupManager(Store):
    pass
