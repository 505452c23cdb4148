"""Command builders for `qemu-system-x86_64` (package qemu-system-x86): the accelerator probe and
the command line of one detached guest. Pure: every path and choice comes in as an argument."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from onestack.oslib.process import Command

QEMU = "qemu-system-x86_64"
# A probe that runs real guest code: SeaBIOS finds no boot device, reboots at once and
# -no-reboot turns that into an exit. Under a working KVM it takes well under a second.
PROBE_TIMEOUT_S = 3


@dataclass(frozen=True)
class Nic:
    """One virtio NIC on a pre-created tap."""

    tap: str
    mac: str


@dataclass(frozen=True)
class Machine:
    """Everything the command line of one guest is made from."""

    name: str
    accel: str  # kvm | tcg
    memory_mb: int
    vcpus: int
    disk: Path
    qmp_socket: Path
    console_socket: Path
    console_log: Path
    pidfile: Path
    kernel: Path | None = None
    ramdisk: Path | None = None
    append: str = ""
    nics: tuple[Nic, ...] = ()
    cdrom: Path | None = None
    incoming: Path | None = None  # a saved state to restore instead of booting


def accel_probe(accel: str = "kvm") -> Command:
    """Start and stop a diskless guest under `accel`; killed if it does not finish in time."""
    return Command(
        ("timeout", "-s", "KILL", str(PROBE_TIMEOUT_S), QEMU, "-accel", accel, "-M", "pc",
         "-m", "32", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
         "-boot", "reboot-timeout=0", "-serial", "none", "-monitor", "none")
    )  # fmt: skip


def start(machine: Machine, netns: str = "") -> Command:
    """Start the guest daemonized (the caller's process returns once QEMU is set up)."""
    argv = [QEMU, "-name", f"guest={machine.name},process=onestack-{machine.name}"]
    argv += ["-accel", machine.accel, "-m", str(machine.memory_mb), "-smp", str(machine.vcpus)]
    argv += ["-nodefaults", "-no-user-config", "-display", "none"]
    argv += _boot(machine) + _disks(machine) + _nics(machine.nics) + _control(machine)
    if netns:
        argv = ["ip", "netns", "exec", netns, *argv]
    return Command(tuple(argv))


def _boot(machine: Machine) -> list[str]:
    argv: list[str] = []
    if machine.kernel is not None:
        argv += ["-kernel", str(machine.kernel)]
        if machine.ramdisk is not None:
            argv += ["-initrd", str(machine.ramdisk)]
        if machine.append:
            argv += ["-append", machine.append]
    if machine.incoming is not None:
        argv += ["-incoming", f"exec:cat {shlex.quote(str(machine.incoming))}"]
    return argv


def _disks(machine: Machine) -> list[str]:
    argv = ["-drive", f"file={_opt(machine.disk)},format=qcow2,if=virtio,cache=writeback"]
    if machine.cdrom is not None:
        argv += ["-drive", f"file={_opt(machine.cdrom)},format=raw,if=ide,media=cdrom,readonly=on"]
    return argv


def _nics(nics: tuple[Nic, ...]) -> list[str]:
    argv: list[str] = []
    for index, nic in enumerate(nics):
        argv += ["-netdev", f"tap,id=net{index},ifname={nic.tap},script=no,downscript=no"]
        argv += ["-device", f"virtio-net-pci,netdev=net{index},mac={nic.mac}"]
    return argv


def _control(machine: Machine) -> list[str]:
    console = (
        f"socket,id=console0,path={_opt(machine.console_socket)},server=on,wait=off,"
        f"logfile={_opt(machine.console_log)},logappend=on"
    )
    return [
        "-chardev", console, "-serial", "chardev:console0",
        "-qmp", f"unix:{_opt(machine.qmp_socket)},server=on,wait=off",
        "-daemonize", "-pidfile", str(machine.pidfile),
    ]  # fmt: skip


def _opt(path: Path) -> str:
    """A path inside a QEMU option list, where a comma must be doubled."""
    return str(path).replace(",", ",,")
