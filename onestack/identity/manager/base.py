"""What every identity resource manager shares: the database, notifications, conflicts.

Writes go through `Store.writing()`, which turns a uniqueness violation into a 409, rolls
everything back, and counts the write in the identity generation (see `generation.py`).
Notifications are sent only after the transaction committed, so a failed request neither
writes nor announces anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onestack.common.bus import Notifier
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.errors import Conflict
from onestack.identity.manager import generation
from onestack.settings import IdentitySettings


class Store:
    """Base of the resource managers: one database, one notifier, the identity settings."""

    def __init__(self, db: Database, notifier: Notifier, settings: IdentitySettings) -> None:
        self.db = db
        self.notifier = notifier
        self.settings = settings

    @contextmanager
    def writing(self, conflict: str = "Duplicate entry.") -> Iterator[Session]:
        """A write transaction; an integrity violation becomes Conflict(conflict)."""
        try:
            with self.db.transaction() as session:
                yield session
                generation.bump(session)
        except IntegrityError as exc:
            raise Conflict(conflict) from exc

    def notify(
        self, ctx: RequestContext | None, resource: str, operation: str, resource_id: str
    ) -> None:
        """identity.<resource>.<operation> (created, updated, deleted) with the initiator."""
        payload = {
            "resource_info": resource_id,
            "initiator": ctx.initiator() if ctx else None,
        }
        self.notifier.info(f"identity.{resource}.{operation}", payload)
