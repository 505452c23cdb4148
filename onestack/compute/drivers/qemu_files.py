"""What the QEMU driver keeps on disk for one server, under `<root>/<server_id>/`, and how it
tells a live QEMU from a dead one (pid plus the process's start time, so a reused pid is never
mistaken for the guest). The spec is kept as JSON so a new driver instance can start, resume and
clean up a guest it did not spawn."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from onestack.compute.drivers.base import BootImage, GuestError, GuestSpec, Vif

# AF_UNIX paths are limited to 108 bytes including the terminating NUL.
MAX_SOCKET_PATH = 107


@dataclass(frozen=True)
class Process:
    pid: int
    start_time: int  # clock ticks since boot, field 22 of /proc/<pid>/stat


@dataclass(frozen=True)
class InstanceFiles:
    """The paths of one server's files; nothing here touches the disk until called."""

    dir: Path

    @property
    def disk(self) -> Path:
        """The guest's copy-on-write disk over the cached base image."""
        return self.dir / "disk.qcow2"

    @property
    def console_log(self) -> Path:
        """Everything the guest wrote on its serial console."""
        return self.dir / "console.log"

    @property
    def console_socket(self) -> Path:
        """The serial console's interactive end."""
        return self.dir / "console.sock"

    @property
    def qmp_socket(self) -> Path:
        return self.dir / "qmp.sock"

    @property
    def pidfile(self) -> Path:
        return self.dir / "qemu.pid"

    @property
    def spec_file(self) -> Path:
        return self.dir / "spec.json"

    @property
    def process_file(self) -> Path:
        return self.dir / "process.json"

    @property
    def saved_state(self) -> Path:
        """The guest's memory and devices while suspended."""
        return self.dir / "saved.state"

    @property
    def config_drive(self) -> Path:
        """A copy of the config drive, so the directory is self-contained."""
        return self.dir / "config.iso"

    def save_spec(self, spec: GuestSpec) -> None:
        _write_json(self.spec_file, asdict(spec))

    def load_spec(self) -> GuestSpec | None:
        try:
            return spec_from_dict(json.loads(self.spec_file.read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save_process(self, process: Process) -> None:
        _write_json(self.process_file, asdict(process))

    def running(self) -> Process | None:
        """The guest's QEMU process when it is alive, else None."""
        try:
            process = Process(**json.loads(self.process_file.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        return process if start_time(process.pid) == process.start_time else None


def spec_from_dict(data: dict[str, Any]) -> GuestSpec:
    image = dict(data["image"])
    for key in ("path", "kernel_path", "ramdisk_path"):
        image[key] = Path(image[key]) if image.get(key) else None
    vifs = tuple(Vif(**{**vif, "fixed_ips": tuple(vif["fixed_ips"])}) for vif in data["vifs"])
    drive = data.get("config_drive")
    fields = {**data, "image": BootImage(**image), "vifs": vifs}
    fields["config_drive"] = Path(drive) if drive else None
    return GuestSpec(**fields)


def start_time(pid: int) -> int | None:
    """When process `pid` started (clock ticks since boot); None if it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def console_tail(log_path: Path, lines: int | None = None) -> str:
    """The last `lines` lines of a console log (all when None; at most its last MiB), "" when
    nothing was written yet. Shared by every driver that logs a console to a file."""
    try:
        with log_path.open("rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - (1 << 20)))
            text = log.read().decode(errors="replace").replace("\r\n", "\n")
    except FileNotFoundError:
        return ""
    if lines is None:
        return text
    return "".join(text.splitlines(keepends=True)[-lines:] if lines > 0 else [])


def check_vifs(spec: GuestSpec) -> None:
    """GuestError unless every vif has a usable device name and all share one namespace."""
    if len({vif.netns for vif in spec.vifs}) > 1:
        raise GuestError("All of a guest's interfaces must be in one network namespace.")
    for vif in spec.vifs:
        if not vif.devname or len(vif.devname) > 15 or "/" in vif.devname:
            raise GuestError(f"Invalid device name for port {vif.port_id}: {vif.devname!r}")


def valid_id(server_id: str) -> bool:
    """A server id that names a directory of its own under the instances root."""
    return bool(server_id) and "/" not in server_id and not server_id.startswith(".")


def wait_exit(process: Process, timeout_s: float) -> bool:
    """True once `process` is gone (or another process took its pid), False after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while start_time(process.pid) == process.start_time:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def read_pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write a new file and rename it into place, so a reader never sees half of it."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(data, default=str, indent=1))
    os.replace(partial, path)
