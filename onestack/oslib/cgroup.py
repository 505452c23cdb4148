"""cgroup v1 groups for containers: one directory per controller under /sys/fs/cgroup, named by
the caller (onestack's prefix plus a server id), with the limits, the freezer, and signalling
every task. Plain file writes, no command; the kernel answers errors as OSError."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
LIMITED = ("memory", "pids", "cpu")
CFS_PERIOD_US = 100_000
# What a guest's root may open when the devices controller exists: the character devices an
# init makes in a tmpfs /dev and the ptys, never a host disk; any node may be created.
DEVICES_ALLOWED = (
    "c *:* m", "b *:* m",
    "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",  # null zero full (u)random
    "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm",  # tty console ptmx pts
)  # fmt: skip
POLL_S = 0.05


@dataclass(frozen=True)
class Limits:
    memory_bytes: int
    pids: int
    cpus: int


@dataclass(frozen=True)
class Group:
    """One named group across the controllers this host mounts."""

    name: str
    root: Path = ROOT

    @property
    def controllers(self) -> tuple[str, ...]:
        # The freezer is optional: without it, pause falls back to SIGSTOP of every task.
        return LIMITED + tuple(
            name for name in ("freezer", "devices") if (self.root / name / "cgroup.procs").exists()
        )

    @property
    def has_freezer(self) -> bool:
        return (self.root / "freezer" / "cgroup.procs").exists()

    def path(self, controller: str) -> Path:
        return self.root / controller / self.name

    def procs_files(self) -> tuple[Path, ...]:
        """The files a process writes its pid into to join every controller."""
        return tuple(self.path(c) / "cgroup.procs" for c in self.controllers)

    def exists(self) -> bool:
        return any(self.path(c).is_dir() for c in self.controllers)

    def create(self, limits: Limits) -> None:
        """Make the group (idempotent) and set memory, pids and CPU quota."""
        for controller in self.controllers:
            self.path(controller).mkdir(exist_ok=True)
        self._write("memory", "memory.limit_in_bytes", limits.memory_bytes)
        self._write("pids", "pids.max", limits.pids)
        self._write("cpu", "cpu.cfs_period_us", CFS_PERIOD_US)
        self._write("cpu", "cpu.cfs_quota_us", CFS_PERIOD_US * max(1, limits.cpus))
        if "devices" in self.controllers:
            self._write("devices", "devices.deny", "a")
            for rule in DEVICES_ALLOWED:
                self._write("devices", "devices.allow", rule)

    def read(self, controller: str, key: str) -> str:
        return (self.path(controller) / key).read_text().strip()

    def pids(self) -> set[int]:
        """Every process in the group (any controller: a task in one is in all of ours)."""
        found: set[int] = set()
        for procs in self.procs_files():
            with contextlib.suppress(OSError):
                found.update(int(line) for line in procs.read_text().split())
        return found

    def frozen(self) -> bool:
        if self.has_freezer:
            try:
                return self.read("freezer", "freezer.state") in ("FROZEN", "FREEZING")
            except OSError:
                return False
        states = [_state(pid) for pid in self.pids()]
        return bool(states) and all(state == "T" for state in states)

    def freeze(self, timeout_s: float = 10.0) -> bool:
        """Stop every task; True once the kernel says all are frozen."""
        if not self.has_freezer:
            self.signal(19)  # SIGSTOP
            return _until(self.frozen, timeout_s)
        self._write("freezer", "freezer.state", "FROZEN")
        return _until(lambda: self.read("freezer", "freezer.state") == "FROZEN", timeout_s)

    def thaw(self) -> None:
        if self.has_freezer:
            self._write("freezer", "freezer.state", "THAWED")
        else:
            self.signal(18)  # SIGCONT

    def signal(self, signum: int) -> None:
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def kill_all(self, timeout_s: float = 10.0) -> bool:
        """SIGKILL every task until none is left (new forks included); True when empty."""
        if not self.exists():
            return True
        with contextlib.suppress(OSError):
            self.thaw()  # frozen tasks do not die until thawed

        def empty() -> bool:
            self.signal(9)
            return not self.pids()

        return _until(empty, timeout_s)

    def remove(self) -> None:
        """Remove the (empty) group from every controller; absent ones are skipped."""
        for controller in self.controllers:
            with contextlib.suppress(FileNotFoundError):
                self.path(controller).rmdir()

    def _write(self, controller: str, key: str, value: object) -> None:
        (self.path(controller) / key).write_text(f"{value}\n")


def _state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat[stat.rindex(")") + 2 :].split()[0]


def _until(done: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_S)
    return True
