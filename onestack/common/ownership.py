"""Ownership of in-flight work: which process does it, and who takes over when it dies.

A process that does long work is an *owner*: a row with its kind, host, pid and a lease that
its heartbeat renews. A piece of work (an upload, an import, later a server build) is a row
naming its kind, its resource, its owner (None: queued for an agent) and the step it reached.
An owner is *gone* when, on this host, its pid no longer runs, or, on another host, its lease
ran out; only a gone
owner's work is ever taken over, with a compare-and-set on the owner column so that exactly one
process takes each piece. Partial files carry their owner's id, so cleanup removes only a gone
owner's. It knows no service: services register what to do with each kind of orphaned work.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, String, Text, delete, select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from onestack.common.db import Database

log = logging.getLogger("onestack.ownership")

DEFAULT_LEASE_S = 15.0


class Base(DeclarativeBase):
    pass


class OwnerRow(Base):
    __tablename__ = "common_owners"
    owner_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    # When the process started (clock ticks since boot, Linux): a pid reused by another
    # process is then not mistaken for the owner.
    pid_start: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    lease_until: Mapped[datetime] = mapped_column(DateTime)


class WorkRow(Base):
    __tablename__ = "common_work"
    work_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    resource_id: Mapped[str] = mapped_column(String(64))
    owner_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    step: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


@dataclass(frozen=True)
class Work:
    """A piece of work as its handler sees it."""

    work_id: str
    kind: str
    resource_id: str
    owner_id: str | None
    step: str
    detail: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class Owner:
    """A live owner, as `onestack status` lists it."""

    owner_id: str
    kind: str
    host: str
    pid: int


class WorkInProgress(Exception):
    """The work is held by an owner that is still alive."""


def work_id(kind: str, resource_id: str) -> str:
    return f"{kind}:{resource_id}"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def process_start(pid: int) -> int | None:
    """When process `pid` started (ticks since boot), or None when it is not running (a
    zombie is not) or there is no /proc to say."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else int(fields[19])


def pid_running(pid: int, started: int | None = None) -> bool:
    """Whether `pid` runs (and is the process that started at `started`, when known)."""
    if Path("/proc/self/stat").exists():
        found = process_start(pid)
        return found is not None and (started is None or found == started)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Ownership:
    """Owners and their work in one database; one instance per process role (`kind`).

    The owner row is written on first use (`register()`), so building one costs nothing.
    """

    def __init__(self, db: Database, kind: str, lease_s: float = DEFAULT_LEASE_S) -> None:
        self.db = db
        self.kind = kind
        self.lease_s = lease_s
        self.owner_id = uuid.uuid4().hex
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self._registered = False

    # -- this owner ----------------------------------------------------------------------

    def register(self) -> None:
        """Record this owner (idempotent); its lease starts now."""
        if self._registered:
            return
        with self.db.transaction() as session:
            session.merge(self._row())
        self._registered = True

    def renew(self) -> None:
        """The heartbeat: extend the lease (recreating the row if a reaper removed it)."""
        with self.db.transaction() as session:
            renewed = session.execute(
                update(OwnerRow)
                .where(OwnerRow.owner_id == self.owner_id)
                .values(lease_until=self._lease_end())
            ).rowcount
            if not renewed and self._registered:
                session.merge(self._row())

    def retire(self) -> None:
        """A clean stop: forget this owner; work it still holds becomes an orphan at once."""
        with self.db.transaction() as session:
            session.execute(delete(OwnerRow).where(OwnerRow.owner_id == self.owner_id))
        self._registered = False

    def _row(self) -> OwnerRow:
        moment = utcnow()
        return OwnerRow(
            owner_id=self.owner_id,
            kind=self.kind,
            host=self.host,
            pid=self.pid,
            pid_start=process_start(self.pid),
            started_at=moment,
            lease_until=self._lease_end(),
        )

    def _lease_end(self) -> datetime:
        return utcnow() + timedelta(seconds=self.lease_s)

    # -- work ----------------------------------------------------------------------------

    def claim(
        self, session: Session, kind: str, resource_id: str, detail: dict[str, Any] | None = None
    ) -> str:
        """Record, in the caller's transaction, that this owner does `kind` on `resource_id`.

        WorkInProgress when a live owner holds it; a gone owner's claim is replaced."""
        if session.get(OwnerRow, self.owner_id) is None:  # first work of this process
            session.add(self._row())
            self._registered = True
        found = session.get(WorkRow, work_id(kind, resource_id))
        if found is not None:
            if found.owner_id is None or self.alive(session, found.owner_id):
                raise WorkInProgress(found.work_id)
            session.delete(found)
            session.flush()
        return self._add(session, kind, resource_id, self.owner_id, detail)

    def enqueue(
        self, session: Session, kind: str, resource_id: str, detail: dict[str, Any] | None = None
    ) -> str:
        """Record work for an agent to take, in the caller's transaction."""
        return self._add(session, kind, resource_id, None, detail)

    def _add(
        self,
        session: Session,
        kind: str,
        resource_id: str,
        owner_id: str | None,
        detail: dict[str, Any] | None,
    ) -> str:
        moment = utcnow()
        row = WorkRow(
            work_id=work_id(kind, resource_id),
            kind=kind,
            resource_id=resource_id,
            owner_id=owner_id,
            step="queued" if owner_id is None else "started",
            detail=json.dumps(detail or {}),
            attempts=0,
            created_at=moment,
            updated_at=moment,
        )
        session.add(row)
        return row.work_id

    def step(self, work: str, step: str, detail: dict[str, Any] | None = None) -> bool:
        """Persist the step `work` reached; False when this owner no longer holds it."""
        values: dict[str, Any] = {"step": step, "updated_at": utcnow()}
        if detail is not None:
            values["detail"] = json.dumps(detail)
        with self.db.transaction() as session:
            return bool(
                session.execute(
                    update(WorkRow)
                    .where(WorkRow.work_id == work, WorkRow.owner_id == self.owner_id)
                    .values(**values)
                ).rowcount
            )

    def release(self, work: str, session: Session | None = None) -> None:
        """The work is over (done or put back): forget it, if this owner still holds it."""
        query = delete(WorkRow).where(WorkRow.work_id == work, WorkRow.owner_id == self.owner_id)
        if session is not None:
            session.execute(query)
            return
        with self.db.transaction() as new_session:
            new_session.execute(query)

    def take(self, kinds: Iterable[str], queued: bool = True) -> Work | None:
        """Take one piece of work of `kinds` whose owner is gone (or, with `queued`, that
        waits for an agent); the compare-and-set on its owner makes sure that no other
        process takes the same piece."""
        with self.db.reader() as session:
            gone = set(self.gone_owners(session))
            rows = session.scalars(select(WorkRow).where(WorkRow.kind.in_(list(kinds))))
            candidates = [r for r in rows if (r.owner_id is None and queued) or r.owner_id in gone]
        for row in sorted(candidates, key=lambda r: r.created_at):
            taken = self._compare_and_take(row)
            if taken is not None:
                return taken
        return None

    def _compare_and_take(self, row: WorkRow) -> Work | None:
        self.register()  # before the work names this owner
        with self.db.transaction() as session:
            moved = session.execute(
                update(WorkRow)
                .where(
                    WorkRow.work_id == row.work_id,
                    WorkRow.owner_id.is_(None)
                    if row.owner_id is None
                    else WorkRow.owner_id == row.owner_id,
                )
                .values(owner_id=self.owner_id, attempts=row.attempts + 1, updated_at=utcnow())
            ).rowcount
        if not moved:
            return None
        return Work(
            work_id=row.work_id,
            kind=row.kind,
            resource_id=row.resource_id,
            owner_id=row.owner_id,  # the owner it was taken from (None: it was queued)
            step=row.step,
            detail=json.loads(row.detail or "{}"),
            attempts=row.attempts + 1,
        )

    # -- liveness ------------------------------------------------------------------------

    def alive(self, session: Session, owner_id: str) -> bool:
        row = session.get(OwnerRow, owner_id)
        return row is not None and self._is_alive(row)

    def _is_alive(self, row: OwnerRow) -> bool:
        # On this host the pid says it at once (a process that is busy but alive keeps its
        # work, whatever its heartbeat); another host's owner is alive while its lease runs.
        if row.host == self.host:
            return pid_running(row.pid, row.pid_start)
        return row.lease_until >= utcnow()

    def gone_owners(self, session: Session) -> list[str]:
        """Owners that hold work or partial data but are gone, including owners that work
        rows still name after a reaper (or a clean stop) removed their row."""
        owners = list(session.scalars(select(OwnerRow)))
        gone = [row.owner_id for row in owners if not self._is_alive(row)]
        known = {row.owner_id for row in owners}
        named = session.scalars(select(WorkRow.owner_id).where(WorkRow.owner_id.is_not(None)))
        return gone + [owner for owner in set(named) if owner not in known]

    def live_owners(self, kind: str | None = None) -> list[Owner]:
        with self.db.reader() as session:
            rows = session.scalars(select(OwnerRow).order_by(OwnerRow.started_at))
            return [
                Owner(row.owner_id, row.kind, row.host, row.pid)
                for row in rows
                if self._is_alive(row) and (kind is None or row.kind == kind)
            ]

    def others_alive(self) -> bool:
        """Whether any owner besides this one is alive (a full start sees none)."""
        return any(owner.owner_id != self.owner_id for owner in self.live_owners())

    # -- taking over -----------------------------------------------------------------------

    def reap(
        self,
        handlers: dict[str, Callable[[Work], None]],
        cleanup: Callable[[str], None] = lambda owner_id: None,
    ) -> int:
        """Put back the orphaned work of `handlers`' kinds: each piece is taken from its gone
        owner and handed to its kind's handler, then released. `cleanup(owner_id)` runs for
        every gone owner (its partial data); an owner with no work left is forgotten.
        Returns how many pieces were handled."""
        handled = 0
        while (work := self.take(handlers, queued=False)) is not None:
            try:
                handlers[work.kind](work)
            except Exception:
                log.exception("taking over %s failed", work.work_id)
            self.release(work.work_id)
            handled += 1
        self._forget_gone(cleanup)
        return handled

    def _forget_gone(self, cleanup: Callable[[str], None]) -> None:
        with self.db.reader() as session:
            gone = self.gone_owners(session)
            holding = set(session.scalars(select(WorkRow.owner_id)))
        for owner_id in gone:
            cleanup(owner_id)
            if owner_id not in holding:
                with self.db.transaction() as session:
                    session.execute(delete(OwnerRow).where(OwnerRow.owner_id == owner_id))


class Heartbeat:
    """A daemon thread that renews an owner's lease and, each beat, runs `sweep` (reaping
    gone owners), so a dead process's work is taken over without a restart."""

    def __init__(self, ownership: Ownership, sweep: Callable[[], None] = lambda: None) -> None:
        self.ownership = ownership
        self.sweep = sweep
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    @property
    def interval_s(self) -> float:
        return self.ownership.lease_s / 3

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.ownership.renew()
                self.sweep()
            except Exception:  # the database may be away for a moment: try at the next beat
                log.exception("heartbeat failed")
