"""Who is calling: the validated caller of a request, as policy and notifications see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RequestContext:
    """The caller of one API request, built from its validated token."""

    user_id: str
    user_domain_id: str
    roles: frozenset[str] = field(default_factory=frozenset)
    project_id: str | None = None
    project_domain_id: str | None = None
    domain_id: str | None = None
    system_scope: str | None = None
    is_admin_project: bool = False
    request_id: str | None = None
    remote_address: str | None = None
    user_agent: str | None = None

    def credentials(self) -> dict[str, Any]:
        """The values policy rules compare against (`role:`, `project_id:`, ...)."""
        return {
            "user_id": self.user_id,
            "user_domain_id": self.user_domain_id,
            "roles": sorted(self.roles),
            "project_id": self.project_id,
            "project_domain_id": self.project_domain_id,
            "domain_id": self.domain_id,
            "system_scope": self.system_scope,
            "is_admin_project": self.is_admin_project,
        }

    def initiator(self) -> dict[str, Any]:
        """The notification's initiator, shaped like CADF's."""
        initiator: dict[str, Any] = {
            "typeURI": "service/security/account/user",
            "id": self.user_id,
            "user_id": self.user_id,
            "host": {"address": self.remote_address, "agent": self.user_agent},
        }
        if self.project_id:
            initiator["project_id"] = self.project_id
        if self.domain_id:
            initiator["domain_id"] = self.domain_id
        if self.request_id:
            initiator["request_id"] = self.request_id
        return initiator
