"""The fake compute driver: guests are entries in memory, every action succeeds at once.

Deterministic and host-free, for API-behaviour and scale tests. Its state lives in the process
that built it, so a restart forgets every guest (the agent's power-state sync then shows them
SHUTOFF, as it would after a host reboot).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from onestack.compute.drivers.base import (
    ComputeDriver,
    GuestInfo,
    GuestNotFound,
    GuestSpec,
    HostResources,
    PowerState,
)


class FakeDriver(ComputeDriver):
    hypervisor_type = "fake"
    needs_image_file = False

    def __init__(self, resources: HostResources, spawn_delay_s: float = 0.0) -> None:
        self._resources = resources
        # A slow spawn, for tests that stop an agent in the middle of a build.
        self._spawn_delay_s = spawn_delay_s
        self._guests: dict[str, PowerState] = {}
        self._consoles: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any, state_dir: Path) -> FakeDriver:
        return cls(
            HostResources(
                vcpus=getattr(settings, "fake_vcpus", 1000),
                memory_mb=getattr(settings, "fake_memory_mb", 1024 * 1024),
                disk_gb=getattr(settings, "fake_disk_gb", 100_000),
            ),
            spawn_delay_s=getattr(settings, "fake_spawn_delay_s", 0.0),
        )

    def host_resources(self) -> HostResources:
        return self._resources

    def spawn(self, spec: GuestSpec) -> None:
        if self._spawn_delay_s:
            time.sleep(self._spawn_delay_s)
        with self._lock:
            if spec.server_id in self._guests:
                return
            self._guests[spec.server_id] = PowerState.RUNNING
            addresses = [ip for vif in spec.vifs for ip in vif.fixed_ips]
            self._consoles[spec.server_id] = [
                f"fake guest {spec.hostname} booting",
                *(f"onestack-guest: address {ip}" for ip in addresses),
                f"onestack-guest: ready: {spec.hostname}",
            ]

    def destroy(self, server_id: str) -> None:
        with self._lock:
            self._guests.pop(server_id, None)
            self._consoles.pop(server_id, None)

    def _set(self, server_id: str, state: PowerState) -> None:
        with self._lock:
            if server_id not in self._guests:
                raise GuestNotFound(server_id)
            self._guests[server_id] = state

    def power_off(self, server_id: str, timeout_s: float) -> None:
        self._set(server_id, PowerState.SHUTDOWN)

    def power_on(self, spec: GuestSpec) -> None:
        self._set(spec.server_id, PowerState.RUNNING)

    def reboot(self, server_id: str, hard: bool) -> None:
        self._set(server_id, PowerState.RUNNING)

    def pause(self, server_id: str) -> None:
        self._set(server_id, PowerState.PAUSED)

    def unpause(self, server_id: str) -> None:
        self._set(server_id, PowerState.RUNNING)

    def suspend(self, server_id: str) -> None:
        self._set(server_id, PowerState.SUSPENDED)

    def resume(self, spec: GuestSpec) -> None:
        self._set(spec.server_id, PowerState.RUNNING)

    def info(self, server_id: str) -> GuestInfo:
        with self._lock:
            return GuestInfo(self._guests.get(server_id, PowerState.NOSTATE))

    def guests(self) -> list[str]:
        with self._lock:
            return sorted(self._guests)

    def console_log(self, server_id: str, lines: int | None = None) -> str:
        with self._lock:
            if server_id not in self._consoles:
                raise GuestNotFound(server_id)
            kept = self._consoles[server_id]
            return "\n".join(kept if lines is None else kept[-lines:]) + "\n" if kept else ""
