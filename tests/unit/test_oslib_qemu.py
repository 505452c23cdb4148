"""The QEMU, ip and qemu-img command lines, built as data: given these facts, expect these argv."""

from __future__ import annotations

from pathlib import Path

from onestack.oslib import iproute, qemu, qemu_img


def _machine(tmp_path: Path, **overrides: object) -> qemu.Machine:
    fields: dict[str, object] = {
        "name": "srv-1", "accel": "tcg", "memory_mb": 256, "vcpus": 2,
        "disk": tmp_path / "disk.qcow2", "qmp_socket": tmp_path / "qmp.sock",
        "console_socket": tmp_path / "console.sock", "console_log": tmp_path / "console.log",
        "pidfile": tmp_path / "qemu.pid",
    }  # fmt: skip
    fields.update(overrides)
    return qemu.Machine(**fields)  # type: ignore[arg-type]


def _after(argv: tuple[str, ...], flag: str) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == flag]


def test_guest_is_daemonized_with_pidfile_qmp_and_a_logged_serial_console(tmp_path: Path) -> None:
    argv = qemu.start(_machine(tmp_path)).argv

    assert argv[0] == "qemu-system-x86_64"
    assert "-daemonize" in argv
    assert _after(argv, "-pidfile") == [str(tmp_path / "qemu.pid")]
    assert _after(argv, "-qmp") == [f"unix:{tmp_path / 'qmp.sock'},server=on,wait=off"]
    (chardev,) = _after(argv, "-chardev")
    assert chardev.startswith(f"socket,id=console0,path={tmp_path / 'console.sock'},server=on")
    assert f"logfile={tmp_path / 'console.log'}" in chardev
    assert _after(argv, "-serial") == ["chardev:console0"]
    assert (_after(argv, "-accel"), _after(argv, "-m"), _after(argv, "-smp")) == (
        ["tcg"], ["256"], ["2"],
    )  # fmt: skip


def test_disk_is_a_virtio_qcow2_and_the_config_drive_a_read_only_cdrom(tmp_path: Path) -> None:
    argv = qemu.start(_machine(tmp_path, cdrom=tmp_path / "config.iso")).argv

    assert _after(argv, "-drive") == [
        f"file={tmp_path / 'disk.qcow2'},format=qcow2,if=virtio,cache=writeback",
        f"file={tmp_path / 'config.iso'},format=raw,if=ide,media=cdrom,readonly=on",
    ]


def test_commas_in_paths_are_doubled_inside_option_lists() -> None:
    argv = qemu.start(_machine(Path("/srv/a,b"))).argv

    assert "file=/srv/a,,b/disk.qcow2,format=qcow2,if=virtio,cache=writeback" in argv


def test_kernel_initrd_and_command_line_come_from_the_image(tmp_path: Path) -> None:
    machine = _machine(
        tmp_path, kernel=Path("/c/vmlinuz"), ramdisk=Path("/c/initrd"), append="root=/dev/vda"
    )

    argv = qemu.start(machine).argv

    assert _after(argv, "-kernel") == ["/c/vmlinuz"]
    assert _after(argv, "-initrd") == ["/c/initrd"]
    assert _after(argv, "-append") == ["root=/dev/vda"]


def test_no_kernel_means_a_disk_boot(tmp_path: Path) -> None:
    argv = qemu.start(_machine(tmp_path)).argv

    assert not {"-kernel", "-initrd", "-append", "-incoming"} & set(argv)


def test_one_tap_netdev_and_virtio_nic_per_vif_with_its_mac(tmp_path: Path) -> None:
    nics = (qemu.Nic("tapaaaa", "52:54:00:00:00:01"), qemu.Nic("tapbbbb", "52:54:00:00:00:02"))

    argv = qemu.start(_machine(tmp_path, nics=nics)).argv

    assert _after(argv, "-netdev") == [
        "tap,id=net0,ifname=tapaaaa,script=no,downscript=no",
        "tap,id=net1,ifname=tapbbbb,script=no,downscript=no",
    ]
    assert _after(argv, "-device") == [
        "virtio-net-pci,netdev=net0,mac=52:54:00:00:00:01",
        "virtio-net-pci,netdev=net1,mac=52:54:00:00:00:02",
    ]


def test_a_guest_on_a_namespaced_bridge_runs_inside_that_namespace(tmp_path: Path) -> None:
    argv = qemu.start(_machine(tmp_path), netns="ost-net").argv

    assert argv[:5] == ("ip", "netns", "exec", "ost-net", "qemu-system-x86_64")


def test_resume_restores_from_the_saved_state_file(tmp_path: Path) -> None:
    argv = qemu.start(_machine(tmp_path, incoming=Path("/i/x y/saved.state"))).argv

    assert _after(argv, "-incoming") == ["exec:cat '/i/x y/saved.state'"]


def test_accel_probe_is_killed_when_it_hangs() -> None:
    argv = qemu.accel_probe("kvm").argv

    assert argv[:4] == ("timeout", "-s", "KILL", str(qemu.PROBE_TIMEOUT_S))
    assert _after(argv, "-accel") == ["kvm"]
    assert "-no-reboot" in argv


def test_tap_commands_in_the_host_and_in_a_namespace() -> None:
    assert iproute.tap_add("tap1").argv == (
        "ip", "tuntap", "add", "dev", "tap1", "mode", "tap", "vnet_hdr",
    )  # fmt: skip
    assert iproute.link_up_on_bridge("tap1", "br1", 1450, "ns1").argv == (
        "ip", "-n", "ns1", "link", "set", "dev", "tap1", "mtu", "1450", "master", "br1", "up",
    )  # fmt: skip
    delete = ("ip", "-n", "ns1", "link", "del", "dev", "tap1")
    assert iproute.link_delete("tap1", "ns1").argv == delete
    assert iproute.link_show("tap1").argv == ("ip", "-o", "link", "show", "dev", "tap1")


def test_overlay_names_the_backing_format(tmp_path: Path) -> None:
    command = qemu_img.create_overlay(Path("/c/base.raw"), tmp_path / "d.qcow2", 5, "raw")

    assert command.argv == (
        "qemu-img", "create", "-q", "-f", "qcow2", "-b", "/c/base.raw", "-F", "raw",
        str(tmp_path / "d.qcow2"), "5",
    )  # fmt: skip
