"""The identity write generation: one counter that every identity write bumps.

A process may cache what it derived from the identity tables (token validations, the catalog)
under the generation it read; one primary-key read tells it whether anything changed since,
in this process or in any other sharing the database, so revocations, disabled users and
removed grants still take effect at once.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

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
