"""Role assignments: grants on projects, domains and the system, and their listing."""

from __future__ import annotations

from onestack.identity.manager.base import Store


class AssignmentManager(Store):
    pass
