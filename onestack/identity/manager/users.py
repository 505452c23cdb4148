"""Users (passwords, options)."""

from __future__ import annotations

from onestack.identity.manager.base import Store


class UserManager(Store):
    pass
