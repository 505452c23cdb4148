"""The image store contract (onestack/image/drivers/base.py), run over every entry of DRIVERS:
a store added to the map is tested here without another line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from onestack.image.drivers import DRIVERS, DataNotFound, ImageStore, make_store
from onestack.settings import StoreSettings

IMAGE_ID = "0b9c3f1e-8f5c-4a43-9d8e-0d3c6f1b2a77"
DATA = bytes(range(256)) * 1000  # 256 kB: several chunks


@pytest.fixture(params=list(DRIVERS))
def driver(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def store(driver: str, tmp_path: Path) -> Iterator[ImageStore]:
    yield make_store(StoreSettings(driver=driver, dir=tmp_path / "images"))


def test_the_map_builds_its_own_store(driver: str, store: ImageStore) -> None:
    assert type(store) is DRIVERS[driver]
    assert store.store_id and store.kind


def _put(store: ImageStore, data: bytes = DATA, image_id: str = IMAGE_ID) -> str:
    writer = store.writer(image_id)
    for offset in range(0, len(data), 10_000):
        writer.write(data[offset : offset + 10_000])
    return writer.commit()


def test_committed_data_reads_back_whole(store: ImageStore) -> None:
    location = _put(store)
    assert store.exists(location)
    assert b"".join(store.read(location)) == DATA


@pytest.mark.parametrize(("start", "end"), [(0, 1), (100, 70_000), (255_999, None), (5, 5)])
def test_read_returns_the_requested_range(store: ImageStore, start: int, end: int | None) -> None:
    location = _put(store)
    assert b"".join(store.read(location, start, end)) == DATA[start:end]


def test_empty_data_is_stored(store: ImageStore) -> None:
    location = _put(store, b"")
    assert store.exists(location)
    assert b"".join(store.read(location)) == b""


def test_uncommitted_data_is_invisible_and_abort_leaves_nothing(
    store: ImageStore, tmp_path: Path
) -> None:
    writer = store.writer(IMAGE_ID)
    writer.write(DATA)
    writer.abort()
    writer.abort()  # idempotent
    assert not any(path.is_file() for path in tmp_path.rglob("*"))


def test_discard_partial_removes_unfinished_writes(store: ImageStore, tmp_path: Path) -> None:
    writer = store.writer(IMAGE_ID)  # a write a crash interrupted
    writer.write(DATA)
    store.discard_partial()
    assert not any(path.is_file() for path in tmp_path.rglob("*"))
    writer.abort()  # only releases the handle; the data is already gone


def test_delete_removes_data_and_is_idempotent(store: ImageStore) -> None:
    location = _put(store)
    store.delete(location)
    store.delete(location)
    assert not store.exists(location)
    with pytest.raises(DataNotFound):
        store.read(location)


def test_reading_nothing_raises_data_not_found_at_once(store: ImageStore) -> None:
    location = _put(store)
    store.delete(location)
    with pytest.raises(DataNotFound):
        store.read(location)


def test_a_new_write_replaces_the_old_data(store: ImageStore) -> None:
    _put(store)
    location = _put(store, b"second")
    assert b"".join(store.read(location)) == b"second"


def test_locations_lists_committed_data_only(store: ImageStore) -> None:
    first = _put(store, b"one", "11111111-1111-1111-1111-111111111111")
    second = _put(store, b"two", "22222222-2222-2222-2222-222222222222")
    unfinished = store.writer("33333333-3333-3333-3333-333333333333")
    unfinished.write(b"unfinished")
    assert sorted(store.locations()) == sorted([first, second])
    unfinished.abort()
    store.delete(first)
    assert store.locations() == [second]


def test_images_are_kept_apart(store: ImageStore) -> None:
    first = _put(store, b"one", "11111111-1111-1111-1111-111111111111")
    second = _put(store, b"two", "22222222-2222-2222-2222-222222222222")
    store.delete(first)
    assert b"".join(store.read(second)) == b"two"
