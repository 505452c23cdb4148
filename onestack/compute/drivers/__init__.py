"""Compute drivers by name: the explicit map `[compute] driver` chooses from, and the only place
a driver class is found. `make_driver` builds one; `make_drivers` builds the ones a host runs
(`auto`: every real driver the host can run, one compute node each); nothing else names a
driver class."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

from onestack.compute.drivers.base import (
    BootImage,
    ComputeDriver,
    GuestError,
    GuestInfo,
    GuestNotFound,
    GuestSpec,
    HostResources,
    PowerState,
    Vif,
)
from onestack.compute.drivers.container import ContainerDriver
from onestack.compute.drivers.fake import FakeDriver
from onestack.compute.drivers.qemu import QemuDriver

__all__ = [
    "DRIVERS",
    "BootImage",
    "ComputeDriver",
    "GuestError",
    "GuestInfo",
    "GuestNotFound",
    "GuestSpec",
    "HostResources",
    "PowerState",
    "Vif",
    "driver",
    "make_driver",
    "make_drivers",
]

AUTO = "auto"
log = logging.getLogger("onestack.compute.drivers")

DRIVERS: dict[str, type[ComputeDriver]] = {
    "fake": FakeDriver,
    "qemu": QemuDriver,
    "container": ContainerDriver,
}


def driver(name: str) -> type[ComputeDriver]:
    """The driver class `name` stands for; ValueError naming the known ones otherwise."""
    found = DRIVERS.get(name)
    if found is None:
        raise ValueError(f"Unknown compute driver {name!r}; known: {', '.join(DRIVERS)}.")
    return found


def make_driver(name: str, settings: Any, state_dir: Path) -> ComputeDriver:
    """The driver `name`, configured by the `[compute]` settings."""
    return driver(name).from_settings(settings, state_dir)


def make_drivers(name: str, settings: Any, state_dir: Path) -> list[ComputeDriver]:
    """The drivers of this host: `name` alone, or for "auto" QEMU (when qemu-system-x86_64
    is installed) and containers (when root with cgroup v1 and overlayfs), the fake when
    neither can run."""
    if name != AUTO:
        return [make_driver(name, settings, state_dir)]
    probes = (("qemu", qemu_usable), ("container", containers_usable))
    names = [n for n, usable in probes if usable()]
    if not names:
        log.warning("compute driver auto: neither QEMU nor containers can run here; using fake")
        names = ["fake"]
    return [make_driver(n, settings, state_dir) for n in names]


def qemu_usable() -> bool:
    return shutil.which("qemu-system-x86_64") is not None


def containers_usable() -> bool:
    """Root, the cgroup v1 controllers the container driver writes, and overlayfs."""
    if os.geteuid() != 0:
        return False
    cgroups = Path("/sys/fs/cgroup")
    if not all((cgroups / c).is_dir() for c in ("memory", "cpu", "pids", "freezer", "devices")):
        return False
    try:
        filesystems = Path("/proc/filesystems").read_text()
    except OSError:
        return False
    return "overlay" in filesystems.split()
