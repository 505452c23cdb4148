"""Restart recovery of stages and imports, through the manager on memory stores: a queued
import outlives a restart and an agent runs it, one whose agent died is resumed by another (and
fails visibly after too many tries); a task no agent can resume fails, its image gets its lock
back and is importable again; a stage a crash cut short leaves the image queued."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from onestack.common import migrate
from onestack.common.bus import LocalBus, Notifier
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.ownership import Ownership, Work, WorkRow
from onestack.image.drivers.memory import MemoryStore
from onestack.image.manager import Caller, ImageManager, ImportRequest
from onestack.image.manager.imports import MAX_ATTEMPTS
from onestack.image.manager.stores import StoreSet
from onestack.image.models import Image, ImageTask
from onestack.settings import ImageSettings

CALLER = Caller(RequestContext(user_id="u1", user_domain_id="default", project_id="p1"))
GLANCE_DIRECT = ImportRequest("glance-direct", body={"method": {"name": "glance-direct"}})


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[ImageManager]:
    url = f"sqlite:///{tmp_path / 'onestack.db'}"
    migrate.upgrade(url)
    db = Database(url)
    stores = StoreSet({"fast": MemoryStore(), "cheap": MemoryStore()}, "fast", MemoryStore())
    yield ImageManager(db, stores, ImageSettings(), Notifier(LocalBus(), "image"))
    db.dispose()


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _staged(manager: ImageManager, data: bytes = b"staged") -> str:
    image = manager.images.create(CALLER, {"disk_format": "raw", "container_format": "bare"})
    asyncio.run(manager.staging.stage(CALLER, image.image_id, _body(data)))
    return image.image_id


def _properties(manager: ImageManager, image_id: str) -> dict[str, str]:
    return {p.name: p.value for p in manager.images.get(CALLER, image_id).properties}


def _run_agent(manager: ImageManager, ownership: Ownership | None = None) -> Work | None:
    """What an image agent does with the next piece of import work: take it, run it."""
    agent = ownership or Ownership(manager.data.db, "agent:image")
    work = agent.take(manager.agent_handlers())
    if work is not None:
        manager.agent_handlers()[work.kind](work)
        agent.release(work.work_id)
    return work


def _dead_owner(db: Database) -> Ownership:
    """An owner whose process has exited (its pid runs no more)."""
    owner = Ownership(db, "agent:image")
    owner.pid = _exited_pid()
    return owner


def _exited_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_queued_import_outlives_a_restart_and_an_agent_runs_it(manager: ImageManager) -> None:
    image_id = _staged(manager)
    task_id = manager.imports.start(CALLER, image_id, GLANCE_DIRECT)

    manager.recover()  # the process stopped before any agent took the task

    (task,) = manager.imports.tasks(CALLER, image_id)
    assert (task.task_id, task.status) == (task_id, "pending")
    assert _run_agent(manager) is not None
    (task,) = manager.imports.tasks(CALLER, image_id)
    assert task.status == "success"
    assert manager.images.get(CALLER, image_id).status == "active"


def test_an_import_whose_agent_died_is_resumed_by_another(manager: ImageManager) -> None:
    image_id = _staged(manager)
    manager.imports.start(CALLER, image_id, GLANCE_DIRECT)
    dead = _dead_owner(manager.data.db)
    taken = dead.take(manager.agent_handlers())  # it took the work, then its process died
    assert taken is not None
    with manager.data.db.transaction() as session:  # ... after marking the task processing
        session.execute(update(ImageTask).values(status="processing"))

    resumed = _run_agent(manager)

    assert resumed is not None and resumed.attempts == 2
    (task,) = manager.imports.tasks(CALLER, image_id)
    assert task.status == "success"
    assert manager.images.get(CALLER, image_id).status == "active"


def test_an_import_interrupted_too_often_fails_with_a_message(manager: ImageManager) -> None:
    image_id = _staged(manager)
    manager.imports.start(CALLER, image_id, GLANCE_DIRECT)
    for _ in range(MAX_ATTEMPTS):
        assert _dead_owner(manager.data.db).take(manager.agent_handlers()) is not None

    _run_agent(manager)

    (task,) = manager.imports.tasks(CALLER, image_id)
    assert task.status == "failure"
    assert f"interrupted {MAX_ATTEMPTS} times" in task.message
    assert manager.images.get(CALLER, image_id).status == "queued"


def test_a_task_no_agent_can_resume_fails_and_the_image_can_import_again(
    manager: ImageManager,
) -> None:
    image_id = _staged(manager)
    task_id = manager.imports.start(CALLER, image_id, GLANCE_DIRECT)
    with manager.data.db.transaction() as session:  # a task from before imports had agents
        session.execute(delete(WorkRow))

    manager.recover()

    (task,) = manager.imports.tasks(CALLER, image_id)
    assert (task.task_id, task.status) == (task_id, "failure")
    assert "restart" in task.message
    assert manager.images.get(CALLER, image_id).status == "uploading"
    properties = _properties(manager, image_id)
    assert "os_glance_import_task" not in properties
    assert properties["os_glance_importing_to_stores"] == ""
    assert properties["os_glance_failed_import"] == "fast"

    again = manager.imports.start(CALLER, image_id, GLANCE_DIRECT)
    assert again is not None
    asyncio.run(manager.imports.run(again))
    image = manager.images.get(CALLER, image_id)
    assert (image.status, image.size, [r.store_id for r in image.locations]) == (
        "active", 6, ["fast"],
    )  # fmt: skip
    assert _properties(manager, image_id)["os_glance_failed_import"] == ""


def test_an_import_whose_staged_data_is_gone_goes_back_to_queued(manager: ImageManager) -> None:
    image_id = _staged(manager)
    manager.imports.start(CALLER, image_id, GLANCE_DIRECT)
    image = manager.images.get(CALLER, image_id)
    assert image.stage_location is not None
    manager.stores.staging.delete(image.stage_location)

    manager.recover()
    _run_agent(manager)

    image = manager.images.get(CALLER, image_id)
    assert (image.status, image.size, image.stage_location) == ("queued", None, None)
    (task,) = manager.imports.tasks(CALLER, image_id)
    assert task.status == "failure" and task.message


def test_a_stage_cut_short_leaves_the_image_queued(manager: ImageManager) -> None:
    image = manager.images.create(CALLER, {"disk_format": "raw", "container_format": "bare"})
    with manager.data.db.transaction() as session:  # what a crash mid-body leaves behind
        session.execute(
            update(Image).where(Image.image_id == image.image_id).values(status="uploading")
        )

    manager.recover()

    assert manager.images.get(CALLER, image.image_id).status == "queued"


def test_a_failing_store_fails_the_import_and_keeps_nothing(manager: ImageManager) -> None:
    image_id = _staged(manager)
    broken = manager.stores["cheap"]
    assert isinstance(broken, MemoryStore)

    def refuse(location: str, data: bytes) -> None:
        raise OSError("disk full")

    broken._put = refuse  # type: ignore[method-assign]
    wanted = ImportRequest(
        "glance-direct", stores=["fast", "cheap"], body={"method": {"name": "glance-direct"}}
    )
    task_id = manager.imports.start(CALLER, image_id, wanted)
    assert task_id is not None
    asyncio.run(manager.imports.run(task_id))

    (task,) = manager.imports.tasks(CALLER, image_id)
    assert task.status == "failure" and "disk full" in task.message
    image = manager.images.get(CALLER, image_id)
    assert (image.status, image.locations) == ("queued", [])
    assert _properties(manager, image_id)["os_glance_failed_import"] == "cheap,fast"
    fast = manager.stores["fast"]
    assert isinstance(fast, MemoryStore) and fast._data == {}


def test_partial_success_is_allowed_when_not_every_store_must_succeed(
    manager: ImageManager,
) -> None:
    image_id = _staged(manager)
    broken = manager.stores["cheap"]

    def refuse(location: str, data: bytes) -> None:
        raise OSError("disk full")

    broken._put = refuse  # type: ignore[attr-defined]
    wanted = ImportRequest(
        "glance-direct",
        stores=["fast", "cheap"],
        all_stores_must_succeed=False,
        body={"method": {"name": "glance-direct"}, "all_stores_must_succeed": False},
    )
    task_id = manager.imports.start(CALLER, image_id, wanted)
    assert task_id is not None
    asyncio.run(manager.imports.run(task_id))

    (task,) = manager.imports.tasks(CALLER, image_id)
    assert task.status == "success"
    image = manager.images.get(CALLER, image_id)
    assert (image.status, [r.store_id for r in image.locations]) == ("active", ["fast"])
    assert _properties(manager, image_id)["os_glance_failed_import"] == "cheap"


def test_staged_data_nothing_refers_to_goes_away(manager: ImageManager) -> None:
    kept = _staged(manager)
    orphan = manager.stores.staging.writer("11111111-1111-1111-1111-111111111111")
    orphan.write(b"left behind by a crash")
    orphan_location = orphan.commit()

    manager.recover()

    assert not manager.stores.staging.exists(orphan_location)
    image = manager.images.get(CALLER, kept)
    assert image.status == "uploading"
    assert image.stage_location is not None
    assert manager.stores.staging.exists(image.stage_location)


def test_an_import_whose_agent_died_after_writing_is_finished_without_copying_again(
    manager: ImageManager,
) -> None:
    image_id = _staged(manager)
    manager.imports.start(CALLER, image_id, GLANCE_DIRECT)
    dead = _dead_owner(manager.data.db)
    taken = dead.take(manager.agent_handlers())
    assert taken is not None
    writer = manager.stores["fast"].writer(image_id)  # what it wrote before it died
    writer.write(b"staged")
    location = writer.commit()
    written = {
        "committed": {"fast": location},
        "size": 6,
        "md5": hashlib.md5(b"staged").hexdigest(),
        "secure": hashlib.sha512(b"staged").hexdigest(),
    }
    assert dead.step(taken.work_id, "committed", written)
    manager.stores.staging.delete(manager.images.get(CALLER, image_id).stage_location or "")

    resumed = _run_agent(manager)  # the staged data is gone: only the record can finish it

    assert resumed is not None and resumed.step == "committed"
    (task,) = manager.imports.tasks(CALLER, image_id)
    assert task.status == "success"
    image = manager.images.get(CALLER, image_id)
    assert (image.status, image.size, image.checksum) == ("active", 6, written["md5"])
    assert [row.location for row in image.locations] == [location]


def test_a_stage_whose_process_died_goes_back_to_queued_while_a_live_one_stays(
    manager: ImageManager,
) -> None:
    lost = manager.images.create(CALLER, {"disk_format": "raw", "container_format": "bare"})
    running = manager.images.create(CALLER, {"disk_format": "raw", "container_format": "bare"})
    manager.staging._start_staging(CALLER, running.image_id, None)  # this live process
    dead = _dead_owner(manager.data.db)
    gone = ImageManager(
        manager.data.db, manager.stores, ImageSettings(), Notifier(LocalBus(), "image"), None, dead
    )
    gone.staging._start_staging(CALLER, lost.image_id, None)  # then its process died

    assert manager.reap() == 1

    assert manager.images.get(CALLER, lost.image_id).status == "queued"
    assert manager.images.get(CALLER, running.image_id).status == "uploading"
