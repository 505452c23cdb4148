"""The compute driver contract (onestack/compute/drivers/base.py), run over every entry of
DRIVERS: the fake always, QEMU and containers when this host can run them (root,
qemu-system-x86_64 or cgroup v1 and util-linux, the guest images' inputs). A driver added to
the map is tested here without another line."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from onestack.compute.drivers import (
    DRIVERS,
    BootImage,
    ComputeDriver,
    GuestNotFound,
    GuestSpec,
    PowerState,
    make_driver,
)
from onestack.guest import GuestImages, ensure_images

SERVER_ID = "c0de0000-1111-4222-8333-444455556666"
UNKNOWN_ID = "c0de0000-1111-4222-8333-000000000000"
QEMU_READY = os.geteuid() == 0 and all(
    shutil.which(tool) for tool in ("qemu-system-x86_64", "qemu-img")
)
CONTAINER_READY = (
    os.geteuid() == 0
    and Path("/sys/fs/cgroup/memory/cgroup.procs").exists()
    and all(shutil.which(tool) for tool in ("nsenter", "unshare", "setsid", "pivot_root", "tar"))
)
NEEDS = {
    "qemu": (QEMU_READY, "needs root and qemu-system-x86_64 + qemu-img"),
    "container": (CONTAINER_READY, "needs root, cgroup v1 and util-linux + tar"),
}


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> GuestImages:
    return ensure_images(tmp_path_factory.mktemp("guest-images"))


@pytest.fixture(scope="module")
def guest_image(images: GuestImages) -> BootImage:
    return BootImage(
        image_id="img", path=images.disk_qcow2.path, disk_format="qcow2",
        container_format="bare", kernel_path=images.kernel.path,
        ramdisk_path=images.ramdisk.path,
        command_line=f"{images.disk_qcow2.properties['os_command_line']} panic=-1",
    )  # fmt: skip


@pytest.fixture(scope="module")
def rootfs_image(images: GuestImages) -> BootImage:
    rootfs = images.rootfs_tar
    return BootImage(
        image_id="rootfs", path=rootfs.path, disk_format=rootfs.disk_format,
        container_format=rootfs.container_format, properties=dict(rootfs.properties),
    )  # fmt: skip


IMAGE_FIXTURES = {"qemu": "guest_image", "container": "rootfs_image"}


@pytest.fixture(params=list(DRIVERS))
def name(request: pytest.FixtureRequest) -> str:
    ready, reason = NEEDS.get(request.param, (True, ""))
    if not ready:
        pytest.skip(f"{request.param}: {reason}")
    return str(request.param)


@pytest.fixture
def driver(name: str) -> Iterator[ComputeDriver]:
    # Short: QEMU's unix sockets live under the state directory (108-byte limit).
    state_dir = Path(tempfile.mkdtemp(prefix="osc", dir="/tmp"))
    built = make_driver(name, SimpleNamespace(soft_reboot_timeout_s=5.0), state_dir)
    try:
        yield built
    finally:
        for server_id in built.guests():
            built.destroy(server_id)
        shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture
def spec(name: str, request: pytest.FixtureRequest) -> GuestSpec:
    image = (
        request.getfixturevalue(IMAGE_FIXTURES[name])
        if name in IMAGE_FIXTURES
        else BootImage(image_id="img", path=Path("/nonexistent"), disk_format="qcow2",
                       container_format="bare")
    )  # fmt: skip
    return GuestSpec(
        server_id=SERVER_ID, name="c1", hostname="c1", vcpus=1, memory_mb=256, disk_gb=1,
        image=image,
    )  # fmt: skip


def test_the_map_builds_its_own_driver(name: str, driver: ComputeDriver) -> None:
    resources = driver.host_resources()

    assert type(driver) is DRIVERS[name]
    assert driver.hypervisor_type
    assert min(resources.vcpus, resources.memory_mb, resources.disk_gb) > 0


def test_an_unknown_server_has_no_state_and_refuses_power_actions(
    driver: ComputeDriver, spec: GuestSpec
) -> None:
    for server_id in (UNKNOWN_ID, "", "../..", "."):
        assert driver.info(server_id).power_state is PowerState.NOSTATE
        driver.destroy(server_id)  # a no-op
    assert driver.guests() == []
    for action in (driver.pause, driver.unpause, driver.suspend, driver.console_log):
        with pytest.raises(GuestNotFound):
            action(UNKNOWN_ID)
    with pytest.raises(GuestNotFound):
        driver.power_off(UNKNOWN_ID, 1)
    with pytest.raises(GuestNotFound):
        driver.reboot(UNKNOWN_ID, hard=True)


def test_a_guest_goes_through_every_power_state_and_destroy_forgets_it(
    driver: ComputeDriver, spec: GuestSpec
) -> None:
    def state() -> PowerState:
        return driver.info(SERVER_ID).power_state

    driver.spawn(spec)
    first = driver.info(SERVER_ID)
    driver.spawn(spec)  # idempotent: the same guest, not a second one
    assert (state(), driver.info(SERVER_ID), driver.guests()) == (
        PowerState.RUNNING, first, [SERVER_ID],
    )  # fmt: skip
    assert isinstance(driver.console_log(SERVER_ID), str)

    driver.pause(SERVER_ID)
    assert state() is PowerState.PAUSED
    driver.unpause(SERVER_ID)
    assert state() is PowerState.RUNNING
    if driver.can_suspend:
        driver.suspend(SERVER_ID)
        driver.suspend(SERVER_ID)  # already in the target state
        assert state() is PowerState.SUSPENDED
        driver.resume(spec)
        assert state() is PowerState.RUNNING
    driver.reboot(SERVER_ID, hard=True)
    assert state() is PowerState.RUNNING
    driver.power_off(SERVER_ID, timeout_s=1)  # the guest may still be booting: hard stop after
    driver.power_off(SERVER_ID, timeout_s=1)
    assert state() is PowerState.SHUTDOWN
    driver.power_on(spec)
    assert state() is PowerState.RUNNING

    driver.destroy(SERVER_ID)
    driver.destroy(SERVER_ID)
    assert (state(), driver.guests()) == (PowerState.NOSTATE, [])
