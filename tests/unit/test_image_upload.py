"""Image uploads through the manager on the memory store: every failure leaves the image
queued and no data in the store; an image deleted mid-upload keeps no data either."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from onestack.common import migrate
from onestack.common.bus import LocalBus, Notifier
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.image import errors
from onestack.image.drivers import StoreWriter
from onestack.image.drivers.memory import MemoryStore
from onestack.image.manager import Caller, Change, ImageManager
from onestack.image.manager.pipeline import BATCH_BYTES, IN_FLIGHT
from onestack.image.manager.stores import StoreSet
from onestack.settings import ImageSettings

CALLER = Caller(RequestContext(user_id="u1", user_domain_id="default", project_id="p1"))


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[ImageManager]:
    url = f"sqlite:///{tmp_path / 'onestack.db'}"
    migrate.upgrade(url)
    db = Database(url)
    settings = ImageSettings(image_size_cap_bytes=100)
    stores = StoreSet({"memory": MemoryStore()}, "memory", MemoryStore())
    yield ImageManager(db, stores, settings, Notifier(LocalBus(), "image"))
    db.dispose()


def _queued(manager: ImageManager) -> str:
    image = manager.images.create(CALLER, {"disk_format": "raw", "container_format": "bare"})
    return image.image_id


async def _chunks(*parts: bytes, fail: BaseException | None = None) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
    if fail is not None:
        raise fail


def _stored(manager: ImageManager) -> dict[str, bytes]:
    assert isinstance(manager.store, MemoryStore)
    return manager.store._data


def test_upload_activates_with_size_and_hashes(manager: ImageManager) -> None:
    image_id = _queued(manager)
    image = asyncio.run(manager.data.upload(CALLER, image_id, _chunks(b"ab", b"c")))
    assert (image.status, image.size, image.checksum) == (
        "active", 3, "900150983cd24fb0d6963f7d28e17f72",
    )  # fmt: skip
    assert image.os_hash_algo == "sha512"
    assert _stored(manager) == {image.locations[0].location: b"abc"}


@pytest.mark.parametrize(
    ("parts", "fail", "error"),
    [
        ((b"x" * 60, b"x" * 60), None, errors.ImageTooLarge),
        ((b"x" * 10,), ConnectionResetError("client went away"), ConnectionResetError),
        ((b"x" * 10,), asyncio.CancelledError(), asyncio.CancelledError),
    ],
)
def test_failed_upload_leaves_the_image_queued_and_no_data(
    manager: ImageManager, parts: tuple[bytes, ...], fail: BaseException | None, error: type
) -> None:
    image_id = _queued(manager)
    with pytest.raises(error):
        asyncio.run(manager.data.upload(CALLER, image_id, _chunks(*parts, fail=fail)))
    assert manager.images.get(CALLER, image_id).status == "queued"
    assert _stored(manager) == {}


def test_image_deleted_during_upload_keeps_no_data(manager: ImageManager) -> None:
    image_id = _queued(manager)

    async def delete_midway() -> AsyncIterator[bytes]:
        yield b"first"
        manager.images.delete(CALLER, image_id)
        yield b"second"

    with pytest.raises(errors.ImageNotFound):
        asyncio.run(manager.data.upload(CALLER, image_id, delete_midway()))
    assert _stored(manager) == {}


def test_recover_requeues_uploads_a_crash_interrupted(manager: ImageManager) -> None:
    image_id = _queued(manager)
    exited = subprocess.Popen(["true"])
    exited.wait()
    manager.ownership.pid = exited.pid  # the process that owns the upload ...
    manager.data._start_saving(CALLER, image_id)  # ... died right after this
    manager.recover()
    assert manager.images.get(CALLER, image_id).status == "queued"


def test_recover_leaves_the_upload_of_a_live_process_alone(manager: ImageManager) -> None:
    image_id = _queued(manager)
    manager.data._start_saving(CALLER, image_id)  # still streaming in this (live) process
    manager.recover()
    assert manager.images.get(CALLER, image_id).status == "saving"


def test_other_projects_cannot_see_a_private_image(manager: ImageManager) -> None:
    image_id = _queued(manager)
    stranger = Caller(RequestContext(user_id="u2", user_domain_id="default", project_id="p2"))
    with pytest.raises(errors.ImageNotFound):
        manager.images.get(stranger, image_id)
    assert manager.images.get(Caller(stranger.ctx, is_admin=True), image_id).owner == "p1"


def test_property_and_tag_quotas_refuse_the_whole_change(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'onestack.db'}"
    migrate.upgrade(url)
    db = Database(url)
    settings = ImageSettings(image_property_quota=2, image_tag_quota=1)
    images = ImageManager(db, MemoryStore(), settings, Notifier(LocalBus(), "image")).images
    with pytest.raises(errors.TooManyItems):
        images.create(CALLER, {"a": "1", "b": "2", "c": "3"})
    image = images.create(CALLER, {"a": "1", "tags": ["t1"]})
    with pytest.raises(errors.TooManyItems):
        images.update(
            CALLER, image.image_id, [Change("replace", "a", "2"), Change("add", "b", "x"),
                                     Change("add", "c", "y")],
        )  # fmt: skip
    with pytest.raises(errors.TooManyItems):
        images.add_tag(CALLER, image.image_id, "t2")
    kept = images.get(CALLER, image.image_id)
    assert ({p.name: p.value for p in kept.properties}, [t.tag for t in kept.tags]) == (
        {"a": "1"}, ["t1"],
    )  # fmt: skip
    db.dispose()


def _big_manager(tmp_path: Path, store: MemoryStore) -> ImageManager:
    url = f"sqlite:///{tmp_path / 'big.db'}"
    migrate.upgrade(url)
    stores = StoreSet({"memory": store}, "memory", MemoryStore())
    return ImageManager(Database(url), stores, ImageSettings(), Notifier(LocalBus(), "image"))


def _many_batches() -> list[bytes]:
    """More bytes than the pipeline keeps in flight, in chunks that differ from each other."""
    count = (IN_FLIGHT + 3) * BATCH_BYTES // (256 << 10)
    return [i.to_bytes(4, "big") * (64 << 10) for i in range(count)]


def test_upload_of_many_batches_keeps_the_bytes_in_order_with_their_hashes(
    tmp_path: Path,
) -> None:
    manager = _big_manager(tmp_path, MemoryStore())
    parts = _many_batches()
    image = asyncio.run(manager.data.upload(CALLER, _queued(manager), _chunks(*parts)))
    data = b"".join(parts)
    assert _stored(manager) == {image.locations[0].location: data}
    assert (image.size, image.checksum, image.os_hash_value) == (
        len(data), hashlib.md5(data).hexdigest(), hashlib.sha512(data).hexdigest(),
    )  # fmt: skip
    manager.data.db.dispose()


class _FillingStore(MemoryStore):
    """A store whose disk fills up after `room` bytes."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room

    def writer(self, image_id: str, owner: str = "") -> StoreWriter:
        store, inner = self, super().writer(image_id, owner)

        class Filling(StoreWriter):
            def write(self, chunk: bytes) -> None:
                store.room -= len(chunk)
                if store.room < 0:
                    raise OSError(errno.ENOSPC, "No space left on device")
                inner.write(chunk)

            def commit(self) -> str:
                return inner.commit()

            def abort(self) -> None:
                inner.abort()

        return Filling()


def test_store_failing_mid_upload_leaves_the_image_queued_and_no_data(tmp_path: Path) -> None:
    manager = _big_manager(tmp_path, _FillingStore(room=2 * BATCH_BYTES))
    image_id = _queued(manager)
    with pytest.raises(OSError, match="No space left"):
        asyncio.run(manager.data.upload(CALLER, image_id, _chunks(*_many_batches())))
    assert manager.images.get(CALLER, image_id).status == "queued"
    assert _stored(manager) == {}
    manager.data.db.dispose()
