"""The container compute driver: a rootfs image unpacked once into a read-only cache, an
overlayfs root per server, the image's init as pid 1 of new pid, mount, uts, ipc and net
namespaces after pivot_root, cgroup v1 limits from the flavor, a veth pair per vif (host end on
the vif's bridge, guest end eth0.. in the container's named network namespace).

Files live in `<state_dir>/compute/containers/<server_id>/` (`InstanceFiles` plus the overlay's
upper, work and mount point); the console log is the init's stdout and stderr. The container is
never our child (`oslib.container.start` double-forks); its init's pid and start time are
recorded, so a new driver instance finds it. Host names: cgroup and network namespace are both
`onestack-<server_id>`. Suspend is not offered (no checkpointing): `can_suspend = False`."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
import time
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
)
from onestack.compute.drivers.qemu_files import (
    InstanceFiles,
    Process,
    check_vifs,
    console_tail,
    read_pid,
    start_time,
    valid_id,
    wait_exit,
)
from onestack.oslib import cgroup, container, iproute
from onestack.oslib.process import CommandFailed, run

PREFIX = "onestack"
DEFAULT_INIT = "/sbin/onestack-init container"
PIDS_MAX = 1024  # flavors say nothing of processes: enough for a guest, not for a fork bomb
START_TIMEOUT_S = 10.0
EXIT_WAIT_S = 10.0
GIB = 1 << 30


class ContainerFiles(InstanceFiles):
    """A container's paths: the shared instance files plus its overlay directories."""

    @property
    def upper(self) -> Path:
        return self.dir / "upper"

    @property
    def work(self) -> Path:
        return self.dir / "work"

    @property
    def mountpoint(self) -> Path:
        """Where the overlay is mounted, inside the container's mount namespace only."""
        return self.dir / "root"

    @property
    def pidfile(self) -> Path:
        """The pid of the detached launcher (the `unshare` whose child is the init)."""
        return self.dir / "launcher.pid"


class ContainerDriver(ComputeDriver):
    hypervisor_type = "container"
    can_suspend = False

    def __init__(self, root: Path, rootfs_cache: Path, soft_reboot_s: float) -> None:
        self.root = root
        self.rootfs_cache = rootfs_cache
        self.soft_reboot_s = soft_reboot_s
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any, state_dir: Path) -> ContainerDriver:
        compute = state_dir / "compute"
        return cls(
            root=compute / "containers",
            rootfs_cache=compute / "rootfs",
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
            if files.load_spec() is not None and files.upper.is_dir():
                self._boot(files, spec)  # a retried spawn: the overlay is already made
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
            if files.dir.exists() or _group(server_id).exists():
                self._remove(files, files.load_spec())

    def power_on(self, spec: GuestSpec) -> None:
        with self._lock(spec.server_id):
            files = self._known(spec.server_id)
            if files.running() is None:
                self._boot(files, spec)

    def power_off(self, server_id: str, timeout_s: float) -> None:
        with self._lock(server_id):
            self._stop(self._known(server_id), timeout_s)

    def reboot(self, server_id: str, hard: bool) -> None:
        with self._lock(server_id):
            files = self._known(server_id)
            spec = self._spec(files)
            if files.running() is None and not hard:
                raise GuestError("Cannot soft-reboot a guest that is not running.")
            self._stop(files, 0.0 if hard else self.soft_reboot_s)
            self._boot(files, spec)

    def pause(self, server_id: str) -> None:
        """Freeze every process, and take the host ends of the veths down: the kernel would
        otherwise keep answering ARP and ping for a frozen container, unlike a paused VM."""
        with self._lock(server_id):
            files = self._running(server_id)
            group = _group(server_id)
            if not group.freeze():
                group.thaw()
                raise GuestError("The container's processes could not all be frozen.")
            for vif in self._spec(files).vifs:
                self._run(iproute.link_down(vif.devname, vif.netns), f"pause veth {vif.devname}")

    def unpause(self, server_id: str) -> None:
        with self._lock(server_id):
            files = self._running(server_id)
            for vif in self._spec(files).vifs:
                command = iproute.link_up_on_bridge(vif.devname, vif.bridge, vif.mtu, vif.netns)
                self._run(command, f"unpause veth {vif.devname}")
            _group(server_id).thaw()

    def suspend(self, server_id: str) -> None:
        self._known(server_id)
        raise GuestError("Containers cannot be suspended on this host (no checkpointing).")

    def resume(self, spec: GuestSpec) -> None:
        self._known(spec.server_id)
        raise GuestError("Containers cannot be suspended or resumed on this host.")

    # -- inspection ---------------------------------------------------------------------------

    def info(self, server_id: str) -> GuestInfo:
        if not valid_id(server_id):
            return GuestInfo(PowerState.NOSTATE)
        files = self._files(server_id)
        if not files.spec_file.exists():
            return GuestInfo(PowerState.NOSTATE)
        process = files.running()
        if process is None:
            return GuestInfo(PowerState.SHUTDOWN)
        paused = _group(server_id).frozen()
        return GuestInfo(PowerState.PAUSED if paused else PowerState.RUNNING, process.pid)

    def guests(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "spec.json").exists())

    def console_log(self, server_id: str, lines: int | None = None) -> str:
        return console_tail(self._known(server_id).console_log, lines)

    # -- the steps ----------------------------------------------------------------------------

    def _create(self, files: ContainerFiles, spec: GuestSpec) -> None:
        """Check names and image, then make the overlay directories and the spec file."""
        check_vifs(spec)
        lower = self._rootfs(spec.image)
        init = _init(spec.image)
        if not os.path.lexists(lower / init[0].lstrip("/")):
            raise GuestError(f"The image has no init {init[0]}.")
        for directory in (files.upper, files.work, files.mountpoint):
            directory.mkdir(parents=True, exist_ok=True)
        files.save_spec(spec)

    def _rootfs(self, image: BootImage) -> Path:
        """The image unpacked, once: into a temporary directory renamed into place. A directory
        at the image's path is taken as already unpacked."""
        if image.path.is_dir():
            return image.path
        if not valid_id(image.image_id):
            raise GuestError(f"Invalid image id {image.image_id!r}.")
        unpacked = self.rootfs_cache / image.image_id
        if unpacked.is_dir():
            return unpacked
        self.rootfs_cache.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=".unpack-", dir=self.rootfs_cache))
        try:
            partial.chmod(0o755)
            self._run(container.unpack(image.path, partial), "unpack the image")
            os.rename(partial, unpacked)
        except OSError:
            if not unpacked.is_dir():  # not a lost race with another unpack of the same image
                raise
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        return unpacked

    def _boot(self, files: ContainerFiles, spec: GuestSpec) -> None:
        """Set up cgroup and network, start the init detached and record its process."""
        files.save_spec(spec)
        group = _group(spec.server_id)
        try:
            group.create(cgroup.Limits(spec.memory_mb << 20, PIDS_MAX, spec.vcpus))
        except OSError as exc:
            raise GuestError(f"Could not set up the container's cgroup: {exc}") from exc
        self._plug(spec)
        files.pidfile.unlink(missing_ok=True)
        launch = container.Launch(
            lower=self._rootfs(spec.image), upper=files.upper, work=files.work,
            root=files.mountpoint, hostname=spec.hostname or "onestack",
            netns=_netns(spec.server_id), cgroup_procs=group.procs_files(),
            console_log=files.console_log, pidfile=files.pidfile, init=_init(spec.image),
        )  # fmt: skip
        self._run(container.start(launch), "start the container")
        pid = self._await_init(files, group, launch.init)
        started = start_time(pid)
        if started is None:
            raise GuestError(f"The container's init exited at once; see {files.console_log}")
        files.save_process(Process(pid, started))

    def _plug(self, spec: GuestSpec) -> None:
        """The container's namespace, and per vif a veth: host end on the bridge, eth<n> inside."""
        netns = _netns(spec.server_id)
        if not Path("/run/netns", netns).exists():
            self._run(iproute.netns_add(netns), "create the network namespace")
        for index, vif in enumerate(spec.vifs):
            inside = f"eth{index}"
            try:
                run(iproute.link_show(vif.devname, vif.netns))
            except CommandFailed:
                command = iproute.veth_add(vif.devname, inside, netns, vif.netns)
                self._run(command, f"create veth {vif.devname}")
            self._run(iproute.link_reset(inside, vif.mac_address, vif.mtu, netns), "set up eth")
            self._run(iproute.addr_flush(inside, netns), "reset eth")
            command = iproute.link_up_on_bridge(vif.devname, vif.bridge, vif.mtu, vif.netns)
            self._run(command, f"attach veth {vif.devname}")

    def _await_init(self, files: ContainerFiles, group: cgroup.Group, init: tuple[str, ...]) -> int:
        """The init's host pid, once it runs inside its own root; GuestError if it died first
        (no image shell, an init that cannot be executed, an overlay that would not mount)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            launcher = read_pid(files.pidfile)
            if launcher is not None:
                child = _child_of(launcher, group.pids())
                if child is not None and _pivoted(child) and _runs(child, init):
                    return child
                if start_time(launcher) is None:
                    break
            time.sleep(0.02)
        group.kill_all(EXIT_WAIT_S)
        tail = console_tail(files.console_log, 5).strip()
        raise GuestError(f"The container did not start: {tail or 'no output'}")

    def _stop(self, files: ContainerFiles, timeout_s: float) -> None:
        """SIGTERM to the init (which it handles once booted), then kill the whole cgroup."""
        group = _group(files.dir.name)
        process = files.running()
        if process is not None and timeout_s > 0:
            group.thaw()  # a frozen init cannot act on its signal
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
            wait_exit(process, timeout_s)
        if not group.kill_all(EXIT_WAIT_S):
            raise GuestError(f"Processes of the container survived SIGKILL: {group.pids()}")

    def _remove(self, files: ContainerFiles, spec: GuestSpec | None) -> None:
        """Everything the driver made for this server: processes, veths, namespace, cgroup,
        files. The overlay mount lived in the container's mount namespace and died with it."""
        group = _group(files.dir.name)
        if not group.kill_all(EXIT_WAIT_S):
            raise GuestError(f"Processes of the container survived SIGKILL: {group.pids()}")
        for vif in spec.vifs if spec is not None else ():
            with contextlib.suppress(CommandFailed):  # never created, or already gone
                run(iproute.link_delete(vif.devname, vif.netns))
        if Path("/run/netns", _netns(files.dir.name)).exists():
            self._run(iproute.netns_delete(_netns(files.dir.name)), "delete the namespace")
        try:
            group.remove()
        except OSError as exc:
            raise GuestError(f"Could not remove the container's cgroup: {exc}") from exc
        shutil.rmtree(files.dir, ignore_errors=True)

    # -- helpers ------------------------------------------------------------------------------

    def _files(self, server_id: str) -> ContainerFiles:
        if not valid_id(server_id):
            raise GuestNotFound(server_id)
        return ContainerFiles(self.root / server_id)

    def _known(self, server_id: str) -> ContainerFiles:
        files = self._files(server_id)
        if not files.spec_file.exists():
            raise GuestNotFound(server_id)
        return files

    def _running(self, server_id: str) -> ContainerFiles:
        files = self._known(server_id)
        if files.running() is None:
            raise GuestError("The guest is not running.")
        return files

    def _spec(self, files: ContainerFiles) -> GuestSpec:
        spec = files.load_spec()
        if spec is None:
            raise GuestError(f"The guest's spec file is unreadable: {files.spec_file}")
        return spec

    def _run(self, command: Any, what: str) -> str:
        try:
            return run(command)
        except CommandFailed as exc:
            raise GuestError(f"Could not {what}: {exc}") from exc

    def _lock(self, server_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(server_id, threading.Lock())


def _group(server_id: str) -> cgroup.Group:
    return cgroup.Group(f"{PREFIX}-{server_id}")


def _netns(server_id: str) -> str:
    return f"{PREFIX}-{server_id}"


def _init(image: BootImage) -> tuple[str, ...]:
    """The image's init command (property `onestack_init`), an absolute path plus arguments."""
    argv = tuple(str(image.properties.get("onestack_init") or DEFAULT_INIT).split())
    if not argv or not argv[0].startswith("/"):
        raise GuestError(f"The image's init must be an absolute path: {argv!r}")
    return argv


def _child_of(parent: int, candidates: set[int]) -> int | None:
    for pid in candidates:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == parent:
            return pid
    return None


def _runs(pid: int, init: tuple[str, ...]) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return container.runs_init(cmdline.rstrip("\0").split("\0"), init)


def _pivoted(pid: int) -> bool:
    """True once the process's root is the overlay (pivot_root done), as its mountinfo says."""
    try:
        lines = Path(f"/proc/{pid}/mountinfo").read_text().splitlines()
    except OSError:
        return False
    for line in lines:
        fields, _, fs = line.partition(" - ")
        if fields.split()[4] == "/" and fs.split()[0] == "overlay":
            return True
    return False
