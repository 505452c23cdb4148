"""Regions, services and endpoints: what the token catalog is built from."""

from __future__ import annotations

from onestack.identity.manager.base import Store


class CatalogManager(Store):
    pass
