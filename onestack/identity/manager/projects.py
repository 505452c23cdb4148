"""Projects (hierarchy, tags, filters)."""

from __future__ import annotations

from onestack.identity.manager.base import Store


class ProjectManager(Store):
    pass
