"""Compute drivers by name: the explicit map `[compute] driver` chooses from, and the only place
a driver class is found. `make_driver` builds one; nothing else names a driver class."""

from __future__ import annotations

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
]

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
