"""The compute driver interface: how a host runs guests. This docstring is the contract.

A driver starts, stops and inspects the guests of one host (QEMU processes, containers, or
nothing at all for the fake). It knows nothing of the database, HTTP, placement or the
network service: the compute agent hands it a complete `GuestSpec` (the base image already
cached on local disk, every vif already created by the network side) and records what it
returns. Host commands go through `onestack.oslib` builders only.

- Guests are never children of the calling process: `spawn` detaches them, so they outlive
  the agent and a new agent finds them again with `guests()` and `info()`.
- Every method is idempotent where a retry after a crash could call it twice: `spawn` of a
  server that already runs returns without starting a second one; `destroy` of an unknown
  server is a no-op; power actions on a guest already in the target state succeed.
- `spawn` returns once the guest is started (not booted): if it fails it raises
  `GuestError` and leaves nothing behind (no process, no overlay, no files).
- Power actions raise `GuestNotFound` for a server the driver does not know, and
  `GuestError` (message for the server's fault) when the host refuses.
- `info` never raises for an unknown server: it answers `PowerState.NOSTATE`.
- `console_log` returns the tail of the guest's console output (the last `lines` lines, all
  when None); "" before anything was written.
- `destroy` stops the guest if it runs and removes everything the driver made for it
  (process, overlay disk, sockets, logs); what the network side made (bridges, taps' ports)
  is not the driver's.

A driver is built only through `DRIVERS` (`drivers/__init__.py`), by name, with
`from_settings(settings, state_dir)`. The contract suite `tests/contract/test_compute_driver.py`
runs over every entry.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any, ClassVar


class PowerState(IntEnum):
    """Nova's power states, as `OS-EXT-STS:power_state` shows them."""

    NOSTATE = 0
    RUNNING = 1
    PAUSED = 3
    SHUTDOWN = 4
    CRASHED = 6
    SUSPENDED = 7


class GuestNotFound(LookupError):
    """The driver knows no guest for this server."""


class GuestError(RuntimeError):
    """The host could not do what was asked; the message is shown as the server's fault."""


@dataclass(frozen=True)
class Vif:
    """One network interface of a guest, as the network service bound it."""

    port_id: str
    mac_address: str
    network_id: str
    # Host device to create and attach (tap for QEMU, veth host end for a container).
    devname: str
    # The Linux bridge the device joins, and the namespace holding that bridge ("" = host's).
    bridge: str
    netns: str = ""
    mtu: int = 1500
    fixed_ips: tuple[str, ...] = ()


@dataclass(frozen=True)
class BootImage:
    """The image a guest boots from, already on local disk (the agent's image cache)."""

    image_id: str
    path: Path
    disk_format: str  # qcow2 | raw | ... ; "" for a container rootfs
    container_format: str  # bare | ami | tgz (a container's rootfs tarball, unpacked at path)
    kernel_path: Path | None = None
    ramdisk_path: Path | None = None
    command_line: str = ""
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GuestSpec:
    """Everything a driver needs to start one server."""

    server_id: str
    name: str
    hostname: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    image: BootImage
    vifs: tuple[Vif, ...] = ()
    # An ISO 9660 config drive (label config-2) to attach, when the user asked for one.
    config_drive: Path | None = None


@dataclass(frozen=True)
class GuestInfo:
    power_state: PowerState
    pid: int | None = None


@dataclass(frozen=True)
class HostResources:
    """What the host offers to placement (before allocation ratios)."""

    vcpus: int
    memory_mb: int
    disk_gb: int


class ComputeDriver(ABC):
    """Runs the guests of one host."""

    # What os-hypervisors shows as hypervisor_type, and what an image's `hypervisor_type`
    # property must match to be scheduled here ("QEMU", "container", "fake").
    hypervisor_type: ClassVar[str] = ""
    # True when guests can be suspended to disk and resumed.
    can_suspend: ClassVar[bool] = True
    # True when `spawn` reads the image from `BootImage.path` (the agent fetches it first).
    needs_image_file: ClassVar[bool] = True

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: Any, state_dir: Path) -> ComputeDriver:
        """The driver as `[compute]` settings configure it; its files live under state_dir."""

    @abstractmethod
    def host_resources(self) -> HostResources:
        """What this host offers."""

    @abstractmethod
    def spawn(self, spec: GuestSpec) -> None:
        """Create and start the guest, detached from this process."""

    @abstractmethod
    def destroy(self, server_id: str) -> None:
        """Stop the guest (hard) and remove all the driver made for it; no-op if unknown."""

    @abstractmethod
    def power_off(self, server_id: str, timeout_s: float) -> None:
        """Ask the guest to shut down (ACPI); after timeout_s, stop it hard."""

    @abstractmethod
    def power_on(self, spec: GuestSpec) -> None:
        """Start a stopped guest again from its existing disk."""

    @abstractmethod
    def reboot(self, server_id: str, hard: bool) -> None:
        """Soft: ask the guest to restart; hard: reset it at once."""

    @abstractmethod
    def pause(self, server_id: str) -> None:
        """Freeze the guest in memory."""

    @abstractmethod
    def unpause(self, server_id: str) -> None:
        """Let a paused guest run again."""

    @abstractmethod
    def suspend(self, server_id: str) -> None:
        """Save the guest's state to disk and stop its process."""

    @abstractmethod
    def resume(self, spec: GuestSpec) -> None:
        """Restore a suspended guest."""

    @abstractmethod
    def info(self, server_id: str) -> GuestInfo:
        """The guest's power state (NOSTATE when unknown) and process id."""

    @abstractmethod
    def guests(self) -> list[str]:
        """The server ids of every guest this driver has on the host (running or not)."""

    @abstractmethod
    def console_log(self, server_id: str, lines: int | None = None) -> str:
        """The tail of the guest's console output."""
