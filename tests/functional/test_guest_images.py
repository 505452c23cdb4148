"""A fresh cloud builds onestack's guest images in the background and registers them once."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.functional.cloud import CloudFactory, CloudProcess

NAMES = {
    "onestack-guest",
    "onestack-guest-raw",
    "onestack-guest-kernel",
    "onestack-guest-ramdisk",
    "onestack-guest-rootfs",
}
BUILD_TIMEOUT_S = 600
TOOLS = ("busybox", "mke2fs", "qemu-img", "cpio", "debugfs")

pytestmark = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in TOOLS) or not list(Path("/boot").glob("vmlinuz-*")),
    reason="the guest image build needs busybox-static, e2fsprogs, qemu-utils, cpio and a "
    "Debian kernel in /boot (scripts/install installs them)",
)


@pytest.fixture(scope="module")
def cloud(make_cloud: CloudFactory) -> CloudProcess:
    return make_cloud(settings={"image.guest_images": True}, name="guest")


def guest_images(cloud: CloudProcess, user: str = "onestack") -> dict[str, dict[str, Any]]:
    listed = cloud.openstack("image", "list", "--long", "-f", "json", cloud=user)
    return {image["Name"]: image for image in listed if image["Name"] in NAMES}


def wait_until_registered(cloud: CloudProcess) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + BUILD_TIMEOUT_S
    while time.monotonic() < deadline:
        found = guest_images(cloud)
        if len(found) == len(NAMES) and all(i["Status"] == "active" for i in found.values()):
            return found
        log = cloud.log_text()
        assert "cannot build them" not in log and "Traceback" not in log, log[-3000:]
        time.sleep(2)
    pytest.fail(f"guest images not registered in {BUILD_TIMEOUT_S} s: {sorted(found)}")


def show(cloud: CloudProcess, name: str) -> dict[str, Any]:
    return cloud.openstack("image", "show", name, "-f", "json")


def test_the_api_answers_before_the_images_are_built(cloud: CloudProcess) -> None:
    # The fixture's start() returned as soon as identity answered; the build goes on.
    assert cloud.openstack("token", "issue", "-f", "json")["id"]


def test_every_guest_image_is_registered_public_and_linked(cloud: CloudProcess) -> None:
    found = wait_until_registered(cloud)

    disk = show(cloud, "onestack-guest")
    properties = disk["properties"]
    assert disk["visibility"] == "public"
    assert disk["disk_format"] == "qcow2" and disk["min_ram"] == 128
    assert properties["kernel_id"] == found["onestack-guest-kernel"]["ID"]
    assert properties["ramdisk_id"] == found["onestack-guest-ramdisk"]["ID"]
    assert properties["os_distro"]
    # Disks boot as VMs, the rootfs tarball as a container (the scheduler's filter).
    assert properties["hypervisor_type"] == "qemu"
    assert show(cloud, "onestack-guest-rootfs")["properties"]["hypervisor_type"] == "container"
    assert show(cloud, "onestack-guest-kernel")["disk_format"] == "aki"
    assert show(cloud, "onestack-guest-ramdisk")["disk_format"] == "ari"
    assert set(guest_images(cloud, "onestack-demo")) >= NAMES  # public: the demo project sees them


def test_the_stored_data_is_the_built_file(cloud: CloudProcess, tmp_path: Path) -> None:
    wait_until_registered(cloud)
    built = cloud.state_dir / "guest-images"
    local = max(built.glob("*.qcow2"), key=lambda p: p.stat().st_mtime)
    downloaded = tmp_path / "disk.qcow2"

    cloud.openstack("image", "save", "--file", str(downloaded), "onestack-guest")

    content = local.read_bytes()
    assert downloaded.read_bytes() == content
    assert show(cloud, "onestack-guest")["checksum"] == hashlib.md5(content).hexdigest()


def test_a_restart_registers_nothing_twice(cloud: CloudProcess) -> None:
    before = {name: image["ID"] for name, image in wait_until_registered(cloud).items()}

    cloud.restart()
    deadline = time.monotonic() + BUILD_TIMEOUT_S
    while "guest images: ready" not in cloud.log_text().split("onestack: up on")[-1]:
        assert time.monotonic() < deadline, "the registration after the restart never finished"
        time.sleep(1)

    after = {name: image["ID"] for name, image in guest_images(cloud).items()}
    assert after == before
    listed = cloud.openstack("image", "list", "-f", "json")
    assert sum(image["Name"] == "onestack-guest" for image in listed) == 1
