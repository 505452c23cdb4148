"""The base of every service's resource managers: one dependency object, safe writes.

A service keeps one `Deps` (its database, notifier and whatever else all its managers use)
and builds each manager over it. Reads open `self.db.reader()`; writes go through
`self.writing()`, which rolls everything back on any error and turns a uniqueness violation
into the service's conflict error. Notifications are sent after the `with` block, so a failed
write announces nothing. Managers never render HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onestack.common.bus import Notifier
from onestack.common.db import Database
from onestack.common.errors import Conflict, OneStackError


@dataclass(frozen=True)
class Deps:
    """What every manager of a service shares; a service subclasses it to add its own."""

    db: Database
    notifier: Notifier


D = TypeVar("D", bound=Deps)


class Manager(Generic[D]):
    """One kind of resource's logic and its only writes, over the service's `Deps`."""

    def __init__(self, deps: D) -> None:
        self.deps = deps
        # Plain attributes, not properties: managers sit on the hot paths.
        self.db = deps.db
        self.notifier = deps.notifier

    @contextmanager
    def writing(self, conflict: OneStackError | str = "Duplicate entry.") -> Iterator[Session]:
        """A write transaction; an integrity violation becomes `conflict` (a message makes a
        plain 409 Conflict), and nothing of the transaction is kept."""
        try:
            with self.db.transaction() as session:
                yield session
                self.before_commit(session)
        except IntegrityError as exc:
            raise _as_error(conflict) from exc

    def before_commit(self, session: Session) -> None:
        """Runs last inside every `writing()` transaction; a service may add to the write."""


def _as_error(conflict: OneStackError | str) -> OneStackError:
    return Conflict(conflict) if isinstance(conflict, str) else conflict
