"""The object store contract (onestack/object/drivers/base.py), run over every entry of
DRIVERS: a store added to the map is tested here without another line. The ring driver runs
against three real storage node processes (three replicas)."""

from __future__ import annotations

import io
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from onestack.object import ring as rings
from onestack.object.drivers import DRIVERS, DataNotFound, ObjectStore, make_store
from onestack.object.paths import address_file, ring_file
from onestack.settings import ObjectSettings

DATA = bytes(range(256)) * 1000  # 256 kB: several chunks


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A state dir with a three-node ring and its three nodes running."""
    state_dir = tmp_path_factory.mktemp("object") / "state"
    rings.save(rings.initial(4, 3, 3), ring_file(state_dir))
    command = [sys.executable, "-m", "onestack.cli", "object", "node"]
    children = [
        subprocess.Popen([*command, f"node{i}", "--state-dir", str(state_dir)]) for i in (1, 2, 3)
    ]
    deadline = time.monotonic() + 30
    while not all(address_file(state_dir, f"node{i}").exists() for i in (1, 2, 3)):
        assert time.monotonic() < deadline, "storage nodes did not start"
        time.sleep(0.05)
    yield state_dir
    for child in children:
        child.terminate()
        child.wait(timeout=30)


@pytest.fixture(params=list(DRIVERS))
def driver(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def store(driver: str, request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    state_dir = request.getfixturevalue("nodes") if driver == "ring" else tmp_path
    return make_store(ObjectSettings(driver=driver), state_dir)


def new_key() -> str:
    return f"{uuid.uuid4().hex}/{time.time_ns()}"


def put(store: ObjectStore, data: bytes = DATA) -> str:
    key = new_key()
    store.put(key, io.BytesIO(data), len(data))
    return key


def test_the_map_builds_its_own_store(driver: str, store: ObjectStore) -> None:
    assert type(store) is DRIVERS[driver]


def test_stored_data_reads_back_whole(store: ObjectStore) -> None:
    key = put(store)
    assert b"".join(store.read(key)) == DATA


@pytest.mark.parametrize(("start", "end"), [(0, 1), (100, 70_000), (255_999, None)])
def test_read_returns_the_requested_range(store: ObjectStore, start: int, end: int | None) -> None:
    key = put(store)
    assert b"".join(store.read(key, start, end)) == DATA[start:end]


def test_an_empty_object_stores(store: ObjectStore) -> None:
    key = put(store, b"")
    assert b"".join(store.read(key)) == b""


def test_a_missing_key_is_data_not_found(store: ObjectStore) -> None:
    with pytest.raises(DataNotFound):
        store.read(new_key())


def test_deleted_data_is_gone_and_deleting_again_is_fine(store: ObjectStore) -> None:
    key = put(store)
    store.delete(key)
    store.delete(key)
    with pytest.raises(DataNotFound):
        store.read(key)
