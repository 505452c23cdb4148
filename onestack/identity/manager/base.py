"""What identity adds to the common manager base (`common.manager`): its settings, the write
generation and Keystone's notifications.

Every write through `writing()` is counted in the identity generation (see `generation.py`)
inside its own transaction, so every process's caches see it at once. Notifications
(`identity.<resource>.<operation>`) are sent after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.manager import Deps, Manager
from onestack.identity.manager import generation
from onestack.settings import IdentitySettings


@dataclass(frozen=True)
class IdentityDeps(Deps):
    """What every identity manager is built over."""

    settings: IdentitySettings


class IdentityBase(Manager[IdentityDeps]):
    """Base of the identity resource managers."""

    def __init__(self, deps: IdentityDeps) -> None:
        super().__init__(deps)
        self.settings = deps.settings

    def before_commit(self, session: Session) -> None:
        generation.bump(session)

    def notify(
        self, ctx: RequestContext | None, resource: str, operation: str, resource_id: str
    ) -> None:
        """identity.<resource>.<operation> (created, updated, deleted) with the initiator."""
        payload = {
            "resource_info": resource_id,
            "initiator": ctx.initiator() if ctx else None,
        }
        self.notifier.info(f"identity.{resource}.{operation}", payload)
