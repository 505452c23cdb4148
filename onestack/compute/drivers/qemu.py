"""The QEMU compute driver: one daemonized qemu-system-x86_64 per server (KVM when it really
works, else TCG), a qcow2 overlay over the cached base image, the serial console logged to a file,
QMP for every power action, a tap per vif on the vif's bridge. Files live in
`<state_dir>/compute/instances/<server_id>/` (see `qemu_files`); the guest is never our child."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from onestack.compute.drivers import images
from onestack.compute.drivers.base import (
    ComputeDriver,
    GuestError,
    GuestInfo,
    GuestNotFound,
    GuestSpec,
    HostResources,
    PowerState,
)
from onestack.compute.drivers.qemu_files import (
    MAX_SOCKET_PATH,
    InstanceFiles,
    Process,
    check_vifs,
    console_tail,
    read_pid,
    start_time,
    valid_id,
    wait_exit,
)
from onestack.oslib import iproute, qemu, qemu_img
from onestack.oslib.process import CommandFailed, run
from onestack.oslib.qmp import QMPClient, QMPError

GIB = 1 << 30
# query-status "status" -> power state; anything not listed (inmigrate, postmigrate, ...) is paused.
STATUSES = {
    "running": PowerState.RUNNING,
    "shutdown": PowerState.SHUTDOWN,
    "internal-error": PowerState.CRASHED,
    "io-error": PowerState.CRASHED,
    "guest-panicked": PowerState.CRASHED,
    "watchdog": PowerState.CRASHED,
}
EXIT_WAIT_S = 10.0  # how long a `quit` or a SIGKILL may take to end the process
SAVE_TIMEOUT_S = 300.0  # suspend: the whole RAM to disk under TCG on loaded cores


@functools.cache
def probe_accel() -> str:
    """kvm if /dev/kvm runs a guest to the end within the probe's timeout, else tcg (once)."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg"
    try:
        run(qemu.accel_probe("kvm"))
    except CommandFailed:
        return "tcg"
    return "kvm"


class QemuDriver(ComputeDriver):
    hypervisor_type = "QEMU"
    can_suspend = True

    def __init__(self, root: Path, image_cache: Path, accel: str, soft_reboot_s: float) -> None:
        self.root = root
        self.image_cache = image_cache
        self._accel = accel  # auto | kvm | tcg
        self.soft_reboot_s = soft_reboot_s
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any, state_dir: Path) -> QemuDriver:
        compute = state_dir / "compute"
        return cls(
            root=compute / "instances",
            image_cache=Path(getattr(settings, "image_cache_dir", None) or compute / "images"),
            accel=getattr(settings, "qemu_accel", "tcg"),  # see ComputeSettings.qemu_accel
            soft_reboot_s=float(getattr(settings, "soft_reboot_timeout_s", 60.0)),
        )

    def host_resources(self) -> HostResources:
        self.root.mkdir(parents=True, exist_ok=True)
        return HostResources(
            vcpus=os.cpu_count() or 1,
            memory_mb=os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1 << 20),
            disk_gb=shutil.disk_usage(self.root).total // GIB,
        )

    # -- life cycle ---------------------------------------------------------------------------

    def spawn(self, spec: GuestSpec) -> None:
        if not valid_id(spec.server_id):
            raise GuestError(f"Invalid server id {spec.server_id!r}.")
        with self._lock(spec.server_id):
            files = self._files(spec.server_id)
            if files.running() is not None:
                return
            if files.load_spec() is not None and files.disk.exists():
                self._boot(files, spec)  # a retried spawn: the disk is already made
                return
            try:
                self._create(files, spec)
                self._boot(files, spec)
            except BaseException:
                self._remove(files, spec)
                raise

    def destroy(self, server_id: str) -> None:
        if not valid_id(server_id):
            return
        with self._lock(server_id):
            files = self._files(server_id)
            if files.dir.exists():
                self._remove(files, files.load_spec())

    def power_on(self, spec: GuestSpec) -> None:
        with self._lock(spec.server_id):
            files = self._known(spec.server_id)
            if files.running() is None:
                self._boot(files, spec)

    def power_off(self, server_id: str, timeout_s: float) -> None:
        with self._lock(server_id):
            files = self._known(server_id)
            process = files.running()
            if process is None:
                return
            if not self._powerdown(files, process, timeout_s):
                self._quit(files, process)

    def reboot(self, server_id: str, hard: bool) -> None:
        with self._lock(server_id):
            files = self._known(server_id)
            process, spec = files.running(), self._spec(files)
            if process is None:
                if not hard:
                    raise GuestError("Cannot soft-reboot a guest that is not running.")
                self._boot(files, spec)
            elif hard or not self._powerdown(files, process, self.soft_reboot_s):
                self._qmp(files, "system_reset")
                self._qmp(files, "cont")
            else:
                self._boot(files, spec)

    def pause(self, server_id: str) -> None:
        with self._lock(server_id):
            self._qmp(self._running(server_id), "stop")

    def unpause(self, server_id: str) -> None:
        with self._lock(server_id):
            self._qmp(self._running(server_id), "cont")

    def suspend(self, server_id: str) -> None:
        with self._lock(server_id):
            files = self._known(server_id)
            process = files.running()
            if process is None:
                if files.saved_state.exists():
                    return
                raise GuestError("Cannot suspend a guest that is not running.")
            self._save(files)
            self._quit(files, process)

    def resume(self, spec: GuestSpec) -> None:
        with self._lock(spec.server_id):
            files = self._known(spec.server_id)
            if files.running() is not None:
                return
            if not files.saved_state.exists():
                raise GuestError("The guest has no saved state to resume from.")
            self._boot(files, spec)

    # -- inspection ---------------------------------------------------------------------------

    def info(self, server_id: str) -> GuestInfo:
        if not valid_id(server_id):
            return GuestInfo(PowerState.NOSTATE)
        files = self._files(server_id)
        if not files.spec_file.exists():
            return GuestInfo(PowerState.NOSTATE)
        process = files.running()
        if process is None:
            saved = files.saved_state.exists()
            return GuestInfo(PowerState.SUSPENDED if saved else PowerState.SHUTDOWN)
        try:
            status = self._qmp(files, "query-status")["status"]
        except GuestError:
            return GuestInfo(PowerState.NOSTATE, process.pid)
        return GuestInfo(STATUSES.get(status, PowerState.PAUSED), process.pid)

    def guests(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "spec.json").exists())

    def console_log(self, server_id: str, lines: int | None = None) -> str:
        return console_tail(self._known(server_id).console_log, lines)

    # -- the steps ----------------------------------------------------------------------------

    def _create(self, files: InstanceFiles, spec: GuestSpec) -> None:
        """Check the image and the names, then make the overlay, config drive and spec file."""
        check_vifs(spec)
        if len(str(files.qmp_socket)) > MAX_SOCKET_PATH:
            raise GuestError(f"Instance directory path too long for a socket: {files.dir}")
        base = spec.image
        if base.kernel_path is None and base.disk_format in ("aki", "ari"):
            raise GuestError("A kernel or ramdisk image alone cannot boot.")
        facts = images.inspect(base.path, base.disk_format, self.image_cache)
        files.dir.mkdir(parents=True, exist_ok=True)
        size = max(spec.disk_gb * GIB, int(facts.get("virtual-size", 0)))
        fmt = images.QEMU_FORMATS[base.disk_format]
        self._run(qemu_img.create_overlay(base.path, files.disk, size, fmt), "create disk")
        if spec.config_drive is not None:
            shutil.copyfile(spec.config_drive, files.config_drive)
        files.save_spec(spec)

    def _boot(self, files: InstanceFiles, spec: GuestSpec) -> None:
        """Start QEMU (restoring the saved state when there is one) and record its process."""
        files.save_spec(spec)
        for vif in spec.vifs:
            self._ensure_tap(vif.devname, vif.bridge, vif.mtu, vif.netns)
        for stale in (files.pidfile, files.qmp_socket, files.console_socket):
            stale.unlink(missing_ok=True)
        incoming = files.saved_state if files.saved_state.exists() else None
        machine = self._machine(files, spec, incoming)
        self._run(qemu.start(machine, _netns(spec)), "start QEMU")
        pid = read_pid(files.pidfile)
        started = start_time(pid) if pid else None
        if pid is None or started is None:
            raise GuestError(f"QEMU started but is gone; see {files.console_log}")
        files.save_process(Process(pid, started))
        if incoming is not None:
            self._await_restore(files)
            incoming.unlink()

    def _machine(
        self, files: InstanceFiles, spec: GuestSpec, incoming: Path | None
    ) -> qemu.Machine:
        image = spec.image
        accel = probe_accel() if self._accel == "auto" else self._accel
        return qemu.Machine(
            name=spec.server_id, accel=accel, memory_mb=spec.memory_mb, vcpus=spec.vcpus,
            disk=files.disk, qmp_socket=files.qmp_socket, console_socket=files.console_socket,
            console_log=files.console_log, pidfile=files.pidfile,
            kernel=image.kernel_path, ramdisk=image.ramdisk_path, append=image.command_line,
            nics=tuple(qemu.Nic(vif.devname, vif.mac_address) for vif in spec.vifs),
            cdrom=files.config_drive if files.config_drive.exists() else None, incoming=incoming,
        )  # fmt: skip

    def _await_restore(self, files: InstanceFiles) -> None:
        """Wait until the incoming state is loaded, then let the guest run."""
        deadline = time.monotonic() + SAVE_TIMEOUT_S
        while self._qmp(files, "query-status")["status"] == "inmigrate":
            if time.monotonic() > deadline:
                raise GuestError("Restoring the saved guest state timed out.")
            time.sleep(0.2)
        self._qmp(files, "cont")

    def _save(self, files: InstanceFiles) -> None:
        """Migrate the guest's state into a file through a descriptor handed over QMP."""
        partial = files.saved_state.with_suffix(".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with self._session(files) as qmp:
                qmp.execute("getfd", {"fdname": "savestate"}, fds=(fd,))
                qmp.execute("migrate", {"uri": "fd:savestate"})
                _until(lambda: _migrated(qmp), SAVE_TIMEOUT_S, "Saving the guest state")
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        finally:
            os.close(fd)
        os.replace(partial, files.saved_state)

    def _powerdown(self, files: InstanceFiles, process: Process, timeout_s: float) -> bool:
        """Press the ACPI power button; True if the guest went down within timeout_s."""
        try:
            self._qmp(files, "system_powerdown")
        except GuestError:
            return False
        return wait_exit(process, timeout_s)

    def _quit(self, files: InstanceFiles, process: Process) -> None:
        """Stop QEMU at once: `quit`, then SIGKILL if it is still there."""
        with contextlib.suppress(GuestError):  # the socket may already be gone with the process
            self._qmp(files, "quit")
        if not wait_exit(process, EXIT_WAIT_S):
            _kill(process)

    def _remove(self, files: InstanceFiles, spec: GuestSpec | None) -> None:
        """Everything the driver made for this server: process, taps, files."""
        process = files.running()
        if process is not None:
            _kill(process)
        for vif in spec.vifs if spec is not None else ():
            with contextlib.suppress(CommandFailed):  # never created, or already gone
                run(iproute.link_delete(vif.devname, vif.netns))
        shutil.rmtree(files.dir, ignore_errors=True)

    def _ensure_tap(self, name: str, bridge: str, mtu: int, netns: str) -> None:
        try:
            run(iproute.link_show(name, netns))
        except CommandFailed:
            self._run(iproute.tap_add(name, netns), f"create tap {name}")
        self._run(iproute.link_up_on_bridge(name, bridge, mtu, netns), f"attach tap {name}")

    # -- helpers ------------------------------------------------------------------------------

    def _files(self, server_id: str) -> InstanceFiles:
        if not valid_id(server_id):
            raise GuestNotFound(server_id)
        return InstanceFiles(self.root / server_id)

    def _known(self, server_id: str) -> InstanceFiles:
        files = self._files(server_id)
        if not files.spec_file.exists():
            raise GuestNotFound(server_id)
        return files

    def _running(self, server_id: str) -> InstanceFiles:
        files = self._known(server_id)
        if files.running() is None:
            raise GuestError("The guest is not running.")
        return files

    def _spec(self, files: InstanceFiles) -> GuestSpec:
        spec = files.load_spec()
        if spec is None:
            raise GuestError(f"The guest's spec file is unreadable: {files.spec_file}")
        return spec

    def _session(self, files: InstanceFiles) -> _Session:
        return _Session(files.qmp_socket)

    def _qmp(self, files: InstanceFiles, command: str) -> Any:
        with self._session(files) as qmp:
            return qmp.execute(command)

    def _run(self, command: Any, what: str) -> str:
        try:
            return run(command)
        except CommandFailed as exc:
            raise GuestError(f"Could not {what}: {exc}") from exc

    def _lock(self, server_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(server_id, threading.Lock())


class _Session(QMPClient):
    """A QMP session whose failures are GuestErrors, the driver's one error for the host."""

    def __enter__(self) -> _Session:
        try:
            self.connect()
        except QMPError as exc:
            raise GuestError(f"QEMU is not answering: {exc}") from exc
        return self

    def execute(
        self, command: str, arguments: dict[str, Any] | None = None, fds: tuple[int, ...] = ()
    ) -> Any:
        try:
            return super().execute(command, arguments, fds)
        except QMPError as exc:
            raise GuestError(f"QEMU refused {command}: {exc}") from exc


def _netns(spec: GuestSpec) -> str:
    return spec.vifs[0].netns if spec.vifs else ""


def _migrated(qmp: QMPClient) -> bool:
    status = qmp.execute("query-migrate").get("status")
    if status in ("failed", "cancelled"):
        raise GuestError(f"Saving the guest state {status}.")
    return status == "completed"


def _until(done: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise GuestError(f"{what} timed out after {timeout_s:.0f} s.")
        time.sleep(0.2)


def _kill(process: Process) -> None:
    if start_time(process.pid) == process.start_time:
        try:
            os.kill(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
    if not wait_exit(process, EXIT_WAIT_S):
        raise GuestError(f"QEMU process {process.pid} did not exit after SIGKILL.")
