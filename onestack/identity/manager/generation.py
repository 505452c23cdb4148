"""The identity write generation: one counter that every identity write bumps.

A process may cache what it derived from the identity tables (token validations, the catalog)
under the generation it read; one primary-key read tells it whether anything changed since,
in this process or in any other sharing the database, so revocations, disabled users and
removed grants still take effect at once.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onestack.common.db import Database
from onestack.identity.models import Generation

ROW_ID = 1


def bump(session: Session) -> None:
    """Count one write; call inside the write's transaction."""
    session.execute(
        update(Generation)
        .where(Generation.generation_id == ROW_ID)
        .values(value=Generation.value + 1)
    )


def current(session: Session) -> int:
    return session.scalar(select(Generation.value).where(Generation.generation_id == ROW_ID)) or 0


class GenerationWatch:
    """Reads the generation on the hot path: one held raw connection, no ORM, no pool checkout.

    A cache hit on token validation costs this one indexed read (microseconds on SQLite), and
    it still sees every commit from every process at once. The connection is opened lazily,
    so it belongs to the worker process that uses it, never to a parent that forked.
    """

    QUERY = f"SELECT value FROM identity_generation WHERE id = {ROW_ID}"

    def __init__(self, db: Database) -> None:
        self._db = db
        self._raw: Any = None
        self._lock = threading.Lock()

    def current(self) -> int:
        with self._lock:
            try:
                return self._read()
            except Exception:
                # A dropped server connection: reconnect once; a second failure is real.
                self._discard()
                return self._read()

    def _read(self) -> int:
        if self._raw is None:
            self._raw = self._db.held_connection()
        row = self._raw.driver_connection.execute(self.QUERY).fetchone()
        return int(row[0]) if row else 0

    def _discard(self) -> None:
        if self._raw is not None:
            self._db.release(self._raw)
        self._raw = None
