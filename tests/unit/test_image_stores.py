"""Image stores come from the settings through the driver map only: a store named in the
settings is found in `DRIVERS` (an unknown name is refused, naming the known ones), and a new
driver is one entry in the map."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onestack.image.drivers import DRIVERS
from onestack.image.drivers.filesystem import FilesystemStore
from onestack.image.drivers.memory import MemoryStore
from onestack.image.manager.stores import StoreSet, build_stores, process_local
from onestack.settings import ImageSettings


class TapeStore(MemoryStore):
    """A driver no code names: only the map (as the test puts it there) knows it."""

    store_id = "tape"
    kind = "tape"
    process_local = False


@pytest.fixture
def tape() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(DRIVERS, "tape", TapeStore)
        yield


def _build(tmp_path: Path, **settings: Any) -> StoreSet:
    return build_stores(ImageSettings(**settings), tmp_path / "images", tmp_path / "staging")


def test_the_single_store_is_named_after_its_driver(tmp_path: Path) -> None:
    stores = _build(tmp_path)
    assert stores.ids == ["file"] and stores.default_id == "file"
    assert isinstance(stores["file"], FilesystemStore)
    assert isinstance(stores.staging, FilesystemStore)
    assert stores.staging.directory == tmp_path / "staging"


def test_the_memory_store_stages_in_memory_and_wants_one_process(tmp_path: Path) -> None:
    stores = _build(tmp_path, store="memory")
    assert stores.ids == ["memory"]
    assert isinstance(stores.staging, MemoryStore)
    assert process_local(ImageSettings(store="memory")) == ["memory"]
    assert process_local(ImageSettings()) == []


def test_an_unknown_driver_is_refused_naming_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'tape'; known: filesystem, memory"):
        _build(tmp_path, store="tape")
    with pytest.raises(ValueError, match="'tape'; known: filesystem, memory"):
        _build(tmp_path, stores={"slow": {"driver": "tape"}})


@pytest.mark.usefixtures("tape")
def test_a_new_driver_is_one_entry_in_the_map(tmp_path: Path) -> None:
    single = _build(tmp_path, store="tape")
    assert single.ids == ["tape"] and isinstance(single.staging, TapeStore)
    named = _build(tmp_path, stores={"slow": {"driver": "tape"}, "fast": str(tmp_path / "f")})
    assert isinstance(named["slow"], TapeStore) and isinstance(named["fast"], FilesystemStore)
    assert [entry["type"] for entry in named.describe(detail=True)] == ["tape", "file"]


def test_named_stores_may_choose_their_driver(tmp_path: Path) -> None:
    stores = _build(
        tmp_path,
        stores={"fast": {"driver": "memory", "description": "RAM"}, "disk": str(tmp_path / "d")},
    )
    assert isinstance(stores["fast"], MemoryStore)
    assert isinstance(stores.staging, MemoryStore)  # the default store's driver
    assert stores.describe()[0] == {"id": "fast", "description": "RAM", "default": True}
    assert process_local(ImageSettings(stores={"fast": {"driver": "memory"}})) == ["memory"]


def test_a_filesystem_store_needs_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs a directory"):
        _build(tmp_path, stores={"fast": {"description": "no dir"}})


def test_named_directories_are_resolved_and_must_differ(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    stores = _build(tmp_path, stores={"fast": str(tmp_path / "link")})
    assert stores["fast"].directory == (tmp_path / "real").resolve()  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="directory of their own"):
        _build(tmp_path, stores={"a": str(tmp_path / "real"), "b": str(tmp_path / "link")})
