"""The QEMU compute driver alone, on real guests (root, TCG): one guest on a tap on a bridge in a
test-owned namespace, where dnsmasq gives it an address, taken through every power action; then
destroy, which must leave no process, tap or file behind. One module-scoped guest keeps the
number of boots small (each takes 4-13 s on these loaded cores)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from onestack.compute.drivers import (
    BootImage,
    ComputeDriver,
    GuestError,
    GuestSpec,
    PowerState,
    Vif,
    make_driver,
)
from onestack.guest import GuestImages
from tests.host.lab import GUEST_IP, GUEST_MAC, Lab
from tests.host.lab import wait_until as lab_wait_until

NEEDED = ("qemu-system-x86_64", "qemu-img", "mke2fs", "dnsmasq", "busybox")
MISSING = [tool for tool in NEEDED if shutil.which(tool) is None]
pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="host test: needs root (netns, tap, bridge)"),
    pytest.mark.skipif(not Path("/dev/net/tun").exists(), reason="host test: no /dev/net/tun"),
    pytest.mark.skipif(bool(MISSING), reason=f"host test: not installed: {MISSING}"),
]

LAB_PREFIX = "osq"  # short: QEMU's unix sockets live in the instance directory
SERVER_ID = "5d1e2f30-8a4b-4c6d-9e0f-a1b2c3d4e5f6"
PORT_ID = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
BOOT_DEADLINE_S = 120  # TCG under load: a 4 s boot can take 13 s; leave room
READY = "onestack-guest: ready: hostname from-drive"


def _config_drive(lab: Lab) -> Path:
    """A config-2 drive (ext4 with 4 KiB blocks, which a CD-ROM's 2 KiB sectors can hold)."""
    tree = lab.dir / "config"
    (tree / "openstack" / "latest").mkdir(parents=True, exist_ok=True)
    meta = json.dumps({"uuid": SERVER_ID, "hostname": "from-drive"})
    (tree / "openstack" / "latest" / "meta_data.json").write_text(meta)
    drive = lab.dir / "config.img"
    argv = ["mke2fs", "-q", "-F", "-t", "ext4", "-b", "4096", "-L", "config-2", "-d", str(tree),
            str(drive), "8M"]  # fmt: skip
    subprocess.run(argv, check=True, capture_output=True)
    return drive


def make_spec(images: GuestImages, lab: Lab, server_id: str = SERVER_ID) -> GuestSpec:
    disk = images.disk_qcow2
    image = BootImage(
        image_id="img-qcow2", path=disk.path, disk_format="qcow2", container_format="bare",
        kernel_path=images.kernel.path, ramdisk_path=images.ramdisk.path,
        command_line=f"{disk.properties['os_command_line']} panic=-1",
    )  # fmt: skip
    vif = Vif(
        port_id=PORT_ID, mac_address=GUEST_MAC, network_id="net-1",
        devname=f"tap{PORT_ID[:11]}", bridge="br0", netns=lab.netns, fixed_ips=(GUEST_IP,),
    )  # fmt: skip
    return GuestSpec(
        server_id=server_id, name="vm1", hostname="vm1", vcpus=1, memory_mb=256, disk_gb=1,
        image=image, vifs=(vif,), config_drive=_config_drive(lab),
    )  # fmt: skip


def new_driver(lab: Lab) -> ComputeDriver:
    settings = SimpleNamespace(soft_reboot_timeout_s=60.0)
    return make_driver("qemu", settings, lab.state_dir)


def qemu_pids() -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if cmdline.startswith(b"qemu-system") and SERVER_ID.encode() in cmdline:
                found.add(int(entry.name))
    return found


def wait_until(
    check: Callable[[], bool], what: str | Callable[[], str], deadline_s: float = BOOT_DEADLINE_S
) -> None:
    lab_wait_until(check, what, deadline_s)


@dataclass
class Running:
    driver: ComputeDriver
    spec: GuestSpec
    links_before: list[str]

    def readies(self) -> int:
        return self.driver.console_log(SERVER_ID).count(READY)

    def wait_ready(self, count: int) -> None:
        wait_until(lambda: self.readies() >= count, lambda: f"banner #{count}:\n{self.tail()}")

    def tail(self) -> str:
        return self.driver.console_log(SERVER_ID, 40)

    def state(self) -> PowerState:
        return self.driver.info(SERVER_ID).power_state


@pytest.fixture(scope="module")
def vm(guest_images: GuestImages, lab: Lab) -> Iterator[Running]:
    links_before = lab.links()
    driver = new_driver(lab)
    driver.spawn(make_spec(guest_images, lab))
    try:
        yield Running(driver, make_spec(guest_images, lab), links_before)
    finally:
        driver.destroy(SERVER_ID)


def test_spawned_guest_boots_from_its_overlay_and_gets_its_address(vm: Running) -> None:
    vm.wait_ready(1)

    log = vm.driver.console_log(SERVER_ID)
    assert f"onestack-guest: address eth0 {GUEST_IP}/24" in log
    assert "metadata from config drive" in log
    assert vm.state() is PowerState.RUNNING
    assert vm.driver.guests() == [SERVER_ID]
    assert vm.driver.console_log(SERVER_ID, 1).count("\n") <= 1


def test_spawn_again_does_not_start_a_second_guest(vm: Running) -> None:
    pid = vm.driver.info(SERVER_ID).pid

    vm.driver.spawn(vm.spec)

    assert qemu_pids() == {pid}


def test_pause_freezes_the_guest_and_unpause_lets_it_run(vm: Running, lab: Lab) -> None:
    vm.wait_ready(1)
    assert lab.ping(2)

    vm.driver.pause(SERVER_ID)
    assert vm.state() is PowerState.PAUSED
    assert not lab.ping()

    vm.driver.unpause(SERVER_ID)
    assert vm.state() is PowerState.RUNNING
    assert lab.ping(2)


def test_a_new_driver_instance_finds_the_running_guest(vm: Running, lab: Lab) -> None:
    before = vm.driver.info(SERVER_ID)

    again = new_driver(lab)

    assert again.guests() == [SERVER_ID]
    assert again.info(SERVER_ID) == before
    assert before.pid in qemu_pids()
    assert _info_from_another_process(lab) == f"{SERVER_ID} RUNNING {before.pid}"


def _info_from_another_process(lab: Lab) -> str:
    """What a driver in a fresh interpreter (a restarted agent) sees."""
    code = (
        "import sys; from pathlib import Path; from types import SimpleNamespace\n"
        "from onestack.compute.drivers import make_driver\n"
        "d = make_driver('qemu', SimpleNamespace(), Path(sys.argv[1]))\n"
        "for g in d.guests(): i = d.info(g); print(g, i.power_state.name, i.pid)\n"
    )
    argv = [sys.executable, "-c", code, str(lab.state_dir)]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()


def test_suspend_saves_to_disk_and_resume_restores_a_guest_that_answers(
    vm: Running, lab: Lab
) -> None:
    pid = vm.driver.info(SERVER_ID).pid

    vm.driver.suspend(SERVER_ID)
    assert vm.driver.info(SERVER_ID) == vm.driver.info(SERVER_ID).__class__(PowerState.SUSPENDED)
    assert qemu_pids() == set()

    new_driver(lab).resume(vm.spec)  # restored by a driver that did not suspend it
    assert vm.state() is PowerState.RUNNING
    assert vm.driver.info(SERVER_ID).pid != pid
    wait_until(lambda: lab.ping(1), "ping after resume", 30)
    assert vm.readies() == 1  # restored, not rebooted


def test_hard_reboot_resets_the_guest(vm: Running) -> None:
    pid = vm.driver.info(SERVER_ID).pid

    vm.driver.reboot(SERVER_ID, hard=True)

    vm.wait_ready(2)
    assert vm.driver.info(SERVER_ID).pid == pid  # reset in place


def test_soft_reboot_powers_down_and_starts_again(vm: Running) -> None:
    pid = vm.driver.info(SERVER_ID).pid

    vm.driver.reboot(SERVER_ID, hard=False)

    assert "power button pressed" in vm.driver.console_log(SERVER_ID)
    vm.wait_ready(3)
    assert vm.driver.info(SERVER_ID).pid not in (None, pid)


def test_stop_uses_the_acpi_button_and_start_boots_again(vm: Running, lab: Lab) -> None:
    vm.wait_ready(3)

    vm.driver.power_off(SERVER_ID, timeout_s=60)

    assert vm.state() is PowerState.SHUTDOWN
    assert qemu_pids() == set()
    assert vm.driver.console_log(SERVER_ID).count("power button pressed") == 2
    vm.driver.power_on(vm.spec)
    assert vm.state() is PowerState.RUNNING
    vm.wait_ready(4)
    wait_until(lambda: lab.ping(1), "ping after start", 30)


def test_destroy_leaves_no_process_tap_or_file(vm: Running, lab: Lab) -> None:
    assert f"tap{PORT_ID[:11]}" in lab.links()

    vm.driver.destroy(SERVER_ID)

    assert qemu_pids() == set()
    assert lab.links() == vm.links_before
    assert list((lab.state_dir / "compute" / "instances").iterdir()) == []
    assert vm.driver.info(SERVER_ID).power_state is PowerState.NOSTATE
    assert vm.driver.guests() == []


def test_an_unsafe_image_is_refused_and_leaves_nothing(
    guest_images: GuestImages, lab: Lab, tmp_path: Path
) -> None:
    sneaky = tmp_path / "sneaky.qcow2"
    argv = ["qemu-img", "create", "-q", "-f", "qcow2", "-b", "/etc/shadow", "-F", "raw",
            str(sneaky)]  # fmt: skip
    subprocess.run(argv, check=True)
    spec = make_spec(guest_images, lab, server_id="0e5c1a3d-0000-4000-8000-00000000beef")
    spec = replace(spec, image=replace(spec.image, path=sneaky))
    links = lab.links()
    driver = new_driver(lab)

    with pytest.raises(GuestError, match="backing file"):
        driver.spawn(spec)

    assert driver.guests() == []
    assert lab.links() == links
    assert not (lab.state_dir / "compute" / "instances" / spec.server_id).exists()


def test_a_guest_qemu_cannot_start_raises_and_leaves_no_tap_or_file(
    guest_images: GuestImages, lab: Lab
) -> None:
    spec = make_spec(guest_images, lab, server_id="0e5c1a3d-0000-4000-8000-00000000cafe")
    spec = replace(spec, image=replace(spec.image, kernel_path=lab.dir / "no-such-kernel"))
    links = lab.links()
    driver = new_driver(lab)

    refused = r"(?s)Could not start QEMU: .*could not open kernel file .*no-such-kernel"
    with pytest.raises(GuestError, match=refused):
        driver.spawn(spec)

    assert driver.guests() == []
    assert lab.links() == links
    assert not (lab.state_dir / "compute" / "instances" / spec.server_id).exists()
