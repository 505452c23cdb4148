"""The guest images boot and do their job: a QEMU guest on a bridge in a network namespace
gets DHCP, reads a stand-in metadata service, runs user-data, takes SSH logins with the key
from metadata and powers off on the ACPI button; the rootfs tarball runs as a container.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from onestack.guest import GuestImages, ensure_images
from onestack.oslib import qemu_img
from onestack.oslib.process import run

NEEDED = ("qemu-system-x86_64", "qemu-img", "mke2fs", "dnsmasq", "ssh", "ssh-keygen", "unshare")
MISSING = [tool for tool in NEEDED if shutil.which(tool) is None]
pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="host test: needs root (netns, tap, bridge)"),
    pytest.mark.skipif(not Path("/dev/net/tun").exists(), reason="host test: no /dev/net/tun"),
    pytest.mark.skipif(bool(MISSING), reason=f"host test: not installed: {MISSING}"),
]

GUEST_MAC = "52:54:00:77:00:05"
GUEST_IP = "10.77.0.5"
BRIDGE_IP = "10.77.0.1"
METADATA_IP = "169.254.169.254"
INSTANCE_UUID = "6f1c3a52-4d0e-4c1b-9a7e-1d2c3b4a5f60"
BOOT_DEADLINE_S = 90  # TCG under load: a 4 s boot can take 13 s; leave room


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> GuestImages:
    return ensure_images(tmp_path_factory.mktemp("guest-images"))


def test_second_build_in_the_same_place_does_nothing(images: GuestImages) -> None:
    again = ensure_images(images.kernel.path.parent)

    assert again.built is False
    assert [image.sha256 for image in again.all()] == [image.sha256 for image in images.all()]


def test_build_is_reproducible(images: GuestImages, tmp_path: Path) -> None:
    rebuilt = ensure_images(tmp_path)

    assert rebuilt.built is True
    assert {i.role: i.sha256 for i in rebuilt.all()} == {i.role: i.sha256 for i in images.all()}


def test_qcow2_holds_the_raw_disk(images: GuestImages) -> None:
    facts = json.loads(run(qemu_img.info(images.disk_qcow2.path)))

    assert facts["format"] == "qcow2"
    assert facts["virtual-size"] == images.disk_raw.size_bytes


@dataclass
class Lab:
    """A network namespace with a bridge, dnsmasq and the metadata stand-in on it."""

    netns: str
    run_dir: Path
    metadata_log: Path
    key: Path
    public_key: str

    def ip(self, *args: str) -> None:
        subprocess.run(["ip", "-n", self.netns, *args], check=True)

    def exec(self, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.netns, *argv]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    run_dir = tmp_path_factory.mktemp("lab")
    netns = f"ostg-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        key = run_dir / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        lab = Lab(
            netns, run_dir, run_dir / "metadata.log", key, key.with_suffix(".pub").read_text()
        )
        lab.ip("link", "set", "lo", "up")
        lab.ip("link", "add", "br0", "type", "bridge")
        lab.ip("addr", "add", f"{BRIDGE_IP}/24", "dev", "br0")
        lab.ip("addr", "add", f"{METADATA_IP}/32", "dev", "br0")
        lab.ip("link", "set", "br0", "up")
        processes.append(_start_dnsmasq(lab))
        processes.append(_start_metadata(lab))
        yield lab
    finally:
        for process in processes:
            process.kill()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()
        subprocess.run(["ip", "netns", "del", netns], check=False)


def _start_dnsmasq(lab: Lab) -> subprocess.Popen[bytes]:
    argv = lab.exec(
        "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--user=root",
        "--group=root", f"--pid-file={lab.run_dir / 'dnsmasq.pid'}", "--interface=br0",
        "--bind-interfaces", "--except-interface=lo", "--port=0", "--dhcp-authoritative",
        "--no-ping", "--dhcp-range=10.77.0.10,10.77.0.100,255.255.255.0,1h",
        f"--dhcp-option=option:router,{BRIDGE_IP}",
        "--dhcp-option=option:mtu,1400",
        # The metadata route must come from option 121: the guest applies static routes.
        f"--dhcp-option=option:classless-static-route,{METADATA_IP}/32,{BRIDGE_IP},"
        f"0.0.0.0/0,{BRIDGE_IP}",
        f"--dhcp-host={GUEST_MAC},{GUEST_IP},dhcpname",
        f"--dhcp-leasefile={lab.run_dir / 'leases'}", "--log-dhcp",
        f"--log-facility={lab.run_dir / 'dnsmasq.log'}",
    )  # fmt: skip
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL)


def _start_metadata(lab: Lab) -> subprocess.Popen[bytes]:
    user_data = '#!/bin/sh\necho "user-data says $((6 * 7)) on $(hostname)"\n'
    meta_data = {
        "uuid": INSTANCE_UUID,
        "name": "guest-one",
        "hostname": "guest-one.novalocal",
        "launch_index": 0,
        "public_keys": {"lab": lab.public_key},
        "keys": [{"name": "lab", "type": "ssh", "data": lab.public_key}],
    }
    docs = {
        "/openstack/latest/meta_data.json": json.dumps(meta_data),
        "/openstack/latest/user_data": user_data,
        "/latest/meta-data/instance-id": "i-0000002a",
    }
    docs_file = lab.run_dir / "docs.json"
    docs_file.write_text(json.dumps(docs))
    server = Path(__file__).with_name("metadata_server.py")
    argv = lab.exec(
        sys.executable, str(server), str(docs_file), METADATA_IP, "80", str(lab.metadata_log)
    )
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == b"ready"
    return process


@dataclass
class Guest:
    process: subprocess.Popen[bytes]
    console: Path
    qmp: Path

    def wait_for(self, pattern: str, deadline_s: float = BOOT_DEADLINE_S) -> re.Match[str]:
        """Read the serial console until `pattern` shows up; fail with the console otherwise."""
        deadline = time.monotonic() + deadline_s
        regex = re.compile(pattern, re.MULTILINE)
        while time.monotonic() < deadline:
            text = self.console.read_text(errors="replace") if self.console.exists() else ""
            if match := regex.search(text):
                return match
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        pytest.fail(f"no {pattern!r} on the console:\n{text[-3000:]}")


@pytest.fixture(scope="module")
def guest(images: GuestImages, lab: Lab) -> Iterator[Guest]:
    disk = lab.run_dir / "instance.qcow2"
    run(qemu_img.create_overlay(images.disk_qcow2.path, disk, 1 << 30))
    lab.ip("tuntap", "add", "dev", "tap0", "mode", "tap", "vnet_hdr")
    lab.ip("link", "set", "tap0", "master", "br0", "up")
    console, qmp = lab.run_dir / "console.log", lab.run_dir / "qmp.sock"
    argv = lab.exec(
        "qemu-system-x86_64", "-accel", "tcg", "-m", "256", "-smp", "1", "-nodefaults",
        "-no-user-config", "-display", "none", "-no-reboot",
        "-kernel", str(images.kernel.path), "-initrd", str(images.ramdisk.path),
        "-append", f"{images.disk_qcow2.properties['os_command_line']} panic=-1",
        "-drive", f"file={disk},format=qcow2,if=virtio",
        "-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
        "-device", f"virtio-net-pci,netdev=n0,mac={GUEST_MAC}",
        "-serial", f"file:{console}", "-qmp", f"unix:{qmp},server=on,wait=off",
    )  # fmt: skip
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
    try:
        yield Guest(process, console, qmp)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_guest_boots_from_its_ext4_disk(guest: Guest) -> None:
    guest.wait_for(r"EXT4-fs \(vda\): mounted filesystem")
    guest.wait_for(r"onestack-guest: starting \(vm\)")


def test_guest_banner_shows_its_dhcp_address_and_mtu(guest: Guest) -> None:
    guest.wait_for(r"onestack-guest: ready: ")

    guest.wait_for(rf"onestack-guest: address eth0 {GUEST_IP}/24 mtu 1400")


def test_guest_takes_hostname_and_instance_from_metadata(guest: Guest, lab: Lab) -> None:
    guest.wait_for(rf"ready: hostname guest-one instance {INSTANCE_UUID} \(vm\)")
    guest.wait_for(r"ec2 instance-id i-0000002a")
    guest.wait_for(r"metadata from metadata service .*; 1 ssh keys for root")

    requests = lab.metadata_log.read_text()
    assert f"{GUEST_IP} /openstack/latest/meta_data.json" in requests
    assert f"{GUEST_IP} /latest/meta-data/instance-id" in requests


def test_guest_runs_the_user_data_script(guest: Guest) -> None:
    guest.wait_for(r"^user-data says 42 on guest-one")
    guest.wait_for(r"user-data script exited with status 0")


def test_ssh_login_with_the_key_from_metadata(guest: Guest, lab: Lab) -> None:
    guest.wait_for(r"onestack-guest: ready: ")

    result = subprocess.run(
        lab.exec(
            "ssh", "-i", str(lab.key), "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
            "-o", "ConnectTimeout=20", f"root@{GUEST_IP}",
            "hostname; id -u; cat /etc/onestack-guest",
        ),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == ["guest-one", "0"]
    assert "kernel " in result.stdout


def test_acpi_power_button_powers_the_guest_off(guest: Guest) -> None:
    guest.wait_for(r"onestack-guest: ready: ")

    _qmp(guest.qmp, "system_powerdown")

    guest.wait_for(r"power button pressed; powering off", deadline_s=30)
    assert guest.process.wait(timeout=30) == 0


def _qmp(path: Path, command: str) -> dict[str, object]:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(path))
        stream = sock.makefile("rw")
        json.loads(stream.readline())  # greeting
        for execute in ("qmp_capabilities", command):
            stream.write(json.dumps({"execute": execute}) + "\n")
            stream.flush()
            while "return" not in (reply := json.loads(stream.readline())):
                assert "error" not in reply, reply
        return reply


def _config_drive(tmp_path: Path) -> Path:
    """A config drive (label config-2); ext4 here, as the guest mounts any type it knows."""
    tree = tmp_path / "config"
    latest = tree / "openstack" / "latest"
    latest.mkdir(parents=True)
    meta_data = {"uuid": "c0ffee00-0000-4000-8000-000000000001", "hostname": "from-drive"}
    (latest / "meta_data.json").write_text(json.dumps(meta_data))
    (latest / "user_data").write_text("#!/bin/sh\necho config drive user-data ran\n")
    drive = tmp_path / "config.img"
    argv = ["mke2fs", "-q", "-t", "ext4", "-L", "config-2", "-d", str(tree), str(drive), "8M"]
    subprocess.run(argv, check=True, capture_output=True)
    return drive


def test_kernel_and_ramdisk_alone_boot_from_ram_with_a_config_drive(
    images: GuestImages, tmp_path: Path
) -> None:
    console, qmp = tmp_path / "console.log", tmp_path / "qmp.sock"
    drive = _config_drive(tmp_path)
    argv = [
        "qemu-system-x86_64", "-accel", "tcg", "-m", "256", "-smp", "1", "-nodefaults",
        "-no-user-config", "-display", "none", "-no-reboot",
        "-kernel", str(images.kernel.path), "-initrd", str(images.ramdisk.path),
        "-append", "console=ttyS0 panic=-1",
        "-drive", f"file={drive},format=raw,if=virtio,readonly=on",
        "-serial", f"file:{console}", "-qmp", f"unix:{qmp},server=on,wait=off",
    ]  # fmt: skip
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
    try:
        guest = Guest(process, console, qmp)
        guest.wait_for(r"^config drive user-data ran")
        guest.wait_for(r"ready: hostname from-drive instance c0ffee00-0000-4000-8000-000000000001")
        guest.wait_for(r"metadata from config drive /dev/vda; 0 ssh keys")
        _qmp(qmp, "system_powerdown")
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_rootfs_tarball_runs_as_a_container(images: GuestImages, lab: Lab) -> None:
    root = lab.run_dir / "container-root"
    root.mkdir()
    subprocess.run(["tar", "-xzf", str(images.rootfs_tar.path), "-C", str(root)], check=True)
    netns = f"{lab.netns}-c"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    log = lab.run_dir / "container.log"
    try:
        lab.ip("link", "add", "vc0", "type", "veth", "peer", "name", "eth0", "netns", netns)
        lab.ip("link", "set", "vc0", "master", "br0", "up")
        init = images.rootfs_tar.properties["onestack_init"].split()
        argv = ["ip", "netns", "exec", netns, "unshare", "--pid", "--mount", "--uts", "--ipc",
                "--fork", "--kill-child", "chroot", str(root), *init]  # fmt: skip
        with log.open("wb") as out:
            process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        container = Guest(process, log, Path("/nonexistent"))
        try:
            container.wait_for(r"onestack-guest: ready: hostname guest-one .*\(container\)", 60)
            container.wait_for(r"onestack-guest: address eth0 10\.77\.0\.\d+/24 mtu 1400")
        finally:
            process.kill()
            process.wait()
    finally:
        subprocess.run(["ip", "netns", "del", netns], check=False)
