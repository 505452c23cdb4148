"""Roles (global and domain-specific) and implied roles."""

from __future__ import annotations

from onestack.identity.manager.base import Store


class RoleManager(Store):
    pass
