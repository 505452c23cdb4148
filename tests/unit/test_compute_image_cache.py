"""The compute agent's image cache (fetched once, renamed into place, kernel and ramdisk
alongside) and the drivers a host runs (`make_drivers`, "auto")."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from onestack.common.context import RequestContext
from onestack.compute import drivers
from onestack.compute.drivers import GuestError
from onestack.compute.manager.imagecache import ImageCache
from onestack.compute.manager.peers import BootSource
from onestack.settings import ComputeSettings

CTX = RequestContext(user_id="u", user_domain_id="default", project_id="p")


class Images:
    """Serves `content` by id, counting fetches; ids not in it are gone."""

    def __init__(self, content: dict[str, bytes]) -> None:
        self.content = content
        self.fetches: list[str] = []
        self.lock = threading.Lock()

    def fetch(self, ctx: RequestContext, image_id: str, dest: Path) -> BootSource:
        with self.lock:
            self.fetches.append(image_id)
        if image_id not in self.content:
            dest.write_bytes(b"partial")
            raise LookupError(f"Image {image_id} could not be found.")
        dest.write_bytes(self.content[image_id])
        return BootSource(image_id, "active", "raw", "bare", 0, 0)


def test_boot_image_fetches_disk_kernel_and_ramdisk_once(tmp_path: Path) -> None:
    images = Images({"disk": b"D", "vmlinuz": b"K", "initrd": b"R"})
    cache = ImageCache(tmp_path / "cache", images)
    facts = {
        "image_id": "disk",
        "disk_format": "qcow2",
        "container_format": "bare",
        "properties": {"kernel_id": "vmlinuz", "ramdisk_id": "initrd", "os_command_line": "x=1"},
    }
    threads = [threading.Thread(target=cache.boot_image, args=(CTX, facts)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    boot = cache.boot_image(CTX, facts)
    assert boot.path.read_bytes() == b"D"
    assert boot.kernel_path is not None and boot.kernel_path.read_bytes() == b"K"
    assert boot.ramdisk_path is not None and boot.ramdisk_path.read_bytes() == b"R"
    assert boot.command_line == "x=1"
    assert boot.disk_format == "qcow2"
    assert sorted(images.fetches) == ["disk", "initrd", "vmlinuz"]
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["disk", "initrd", "vmlinuz"]


def test_failed_fetch_leaves_nothing_and_is_a_guest_error(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path, Images({}))
    with pytest.raises(GuestError, match="could not be found"):
        cache.ensure(CTX, "gone")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", ["", "../etc", ".hidden", "a/b"])
def test_image_ids_never_leave_the_cache(tmp_path: Path, bad: str) -> None:
    with pytest.raises(GuestError):
        ImageCache(tmp_path, Images({})).ensure(CTX, bad)


def test_named_driver_is_the_only_one(tmp_path: Path) -> None:
    made = drivers.make_drivers("fake", ComputeSettings(), tmp_path)
    assert [d.hypervisor_type for d in made] == ["fake"]


@pytest.mark.parametrize(
    ("qemu", "container", "types"),
    [
        (True, True, ["QEMU", "container"]),
        (True, False, ["QEMU"]),
        (False, True, ["container"]),
        (False, False, ["fake"]),
    ],
)
def test_auto_runs_every_usable_driver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qemu: bool, container: bool, types: list[str]
) -> None:
    monkeypatch.setattr(drivers, "qemu_usable", lambda: qemu)
    monkeypatch.setattr(drivers, "containers_usable", lambda: container)
    made = drivers.make_drivers("auto", ComputeSettings(), tmp_path)
    assert [d.hypervisor_type for d in made] == types


def test_unknown_driver_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="known"):
        drivers.make_drivers("hyperv", ComputeSettings(), tmp_path)
