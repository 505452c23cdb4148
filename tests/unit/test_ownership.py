"""Ownership of in-flight work on a real SQLite database: live owners keep their work, a gone
owner's work is taken over exactly once and its partial data removed, and only its."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from onestack.common import migrate
from onestack.common.db import Database
from onestack.common.ownership import OwnerRow, Ownership, Work, WorkInProgress, utcnow
from onestack.image.drivers.filesystem import FilesystemStore


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'onestack.db'}"
    migrate.upgrade(url)
    database = Database(url)
    yield database
    database.dispose()


def exited_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def dead(db: Database) -> Ownership:
    """An owner whose process is gone."""
    owner = Ownership(db, "api")
    owner.pid = exited_pid()
    return owner


def claim(owner: Ownership, resource_id: str = "r1") -> None:
    with owner.db.transaction() as session:
        owner.claim(session, "test.upload", resource_id)


def test_work_of_a_live_owner_cannot_be_claimed_again(db: Database) -> None:
    claim(Ownership(db, "api"))

    with pytest.raises(WorkInProgress):
        claim(Ownership(db, "api"))


def test_work_of_a_gone_owner_can_be_claimed_again(db: Database) -> None:
    claim(dead(db))

    claim(Ownership(db, "api"))  # no WorkInProgress


def test_reap_puts_back_only_the_work_of_gone_owners(db: Database) -> None:
    gone, alive = dead(db), Ownership(db, "api")
    claim(gone, "lost")
    claim(alive, "running")
    put_back: list[Work] = []
    cleaned: list[str] = []

    handled = Ownership(db, "api").reap({"test.upload": put_back.append}, cleaned.append)

    assert handled == 1
    assert [(w.resource_id, w.owner_id) for w in put_back] == [("lost", gone.owner_id)]
    assert cleaned == [gone.owner_id]
    with pytest.raises(WorkInProgress):  # the live owner still holds its work
        claim(Ownership(db, "api"), "running")
    claim(Ownership(db, "api"), "lost")  # the gone owner's is free again


def test_queued_work_is_taken_by_exactly_one_agent(db: Database) -> None:
    with db.transaction() as session:
        Ownership(db, "api").enqueue(session, "test.import", "t1", {"n": 1})
    first, second = Ownership(db, "agent:test"), Ownership(db, "agent:test")

    taken = first.take(["test.import"])

    assert taken is not None
    assert (taken.resource_id, taken.detail, taken.attempts) == ("t1", {"n": 1}, 1)
    assert second.take(["test.import"]) is None


def test_a_step_is_kept_for_whoever_resumes_the_work(db: Database) -> None:
    with db.transaction() as session:
        Ownership(db, "api").enqueue(session, "test.import", "t1")
    first = dead(db)
    taken = first.take(["test.import"])
    assert taken is not None
    assert first.step(taken.work_id, "committed", {"at": "here"})

    resumed = Ownership(db, "agent:test").take(["test.import"])

    assert resumed is not None
    assert (resumed.step, resumed.detail, resumed.attempts) == ("committed", {"at": "here"}, 2)
    assert not first.step(taken.work_id, "late")  # the gone owner no longer holds it


def test_an_owner_on_another_host_is_alive_while_its_lease_runs(db: Database) -> None:
    remote = Ownership(db, "api", lease_s=60)
    remote.host = "elsewhere"
    claim(remote)
    with pytest.raises(WorkInProgress):
        claim(Ownership(db, "api"))

    with db.transaction() as session:  # its heartbeat stopped a while ago
        session.execute(update(OwnerRow).values(lease_until=utcnow() - timedelta(seconds=1)))

    claim(Ownership(db, "api"))


def test_a_reused_pid_is_not_mistaken_for_the_owner(db: Database) -> None:
    owner = Ownership(db, "api")
    claim(owner)
    with db.transaction() as session:  # as if this pid now belonged to another process
        session.execute(update(OwnerRow).values(pid_start=OwnerRow.pid_start - 1))

    claim(Ownership(db, "api"))  # no WorkInProgress: the owner is gone


def test_live_owners_lists_running_processes_only(db: Database) -> None:
    alive = Ownership(db, "agent:image")
    alive.register()
    dead(db).register()

    assert [(o.kind, o.pid) for o in Ownership(db, "status").live_owners()] == [
        ("agent:image", alive.pid)
    ]


def test_discard_partial_removes_only_the_owners_partial_writes(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "store")
    gone = store.writer("11111111-1111-1111-1111-111111111111", "deadbeef")
    gone.write(b"left by a dead process")
    running = store.writer("22222222-2222-2222-2222-222222222222", "cafe")
    running.write(b"still arriving")

    store.discard_partial("deadbeef")

    assert running.commit().endswith("22222222-2222-2222-2222-222222222222")
    assert not list((tmp_path / "store" / ".partial" / "deadbeef").glob("*"))
    gone.abort()  # closes the dead process's handle (its file is already gone)
