"""Command builders for containers: unpacking a rootfs tarball (GNU tar) and starting a
container's init detached (util-linux setsid, nsenter, unshare, pivot_root).

The start command double-forks (`setsid --fork`) so the container is never the caller's child.
The detached shell sends its output to the console log, joins the cgroups (nsenter does not,
so it must happen before), writes its pid, then becomes `nsenter` into the container's named
network namespace and `unshare` of new pid, mount, uts and ipc namespaces. The unshare child,
pid 1 inside, mounts the overlay root (private to its mount namespace: the host never sees it),
sets the hostname, pivot_roots into it, detaches the old root and execs the image's init."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from onestack.oslib.process import Command

# $1 log, $2 pidfile, then cgroup.procs files up to "--", then the command to exec.
_DETACHED = (
    'exec </dev/null >>"$1" 2>&1; pidfile=$2; shift 2\n'
    'while [ "$1" != -- ]; do echo $$ >"$1" || exit 1; shift; done; shift\n'
    'echo $$ >"$pidfile"; exec "$@"'
)
# $1 lower, $2 upper, $3 work, $4 merged root, $5 hostname, $6 what runs after pivot_root,
# then the init's argv. Runs as pid 1 of the new pid namespace with the host's tools.
_ENTER_ROOT = (
    "set -e\n"
    'mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$4"\n'
    'hostname "$5"; cd "$4"; mkdir -p .oldroot; pivot_root . .oldroot\n'
    'after=$6; shift 6; exec /bin/sh -c "$after" sh "$@"'
)
# Inside the new root, with the image's own shell: forget the host's tree, become the init
# (never with the host's tree still reachable).
_AFTER_PIVOT = 'umount -l /.oldroot && rmdir /.oldroot && exec "$@"'


@dataclass(frozen=True)
class Launch:
    """Everything one start of a container needs; all paths absolute, on the host."""

    lower: Path  # the unpacked image (read-only cache)
    upper: Path  # the container's own changes
    work: Path  # overlayfs's scratch directory, on the same filesystem as upper
    root: Path  # an empty directory the overlay is mounted on (inside the mount ns only)
    hostname: str
    netns: str  # a named network namespace (`ip netns`), already made
    cgroup_procs: tuple[Path, ...]
    console_log: Path
    pidfile: Path
    init: tuple[str, ...]


def start(launch: Launch) -> Command:
    """Start the container detached; returns once the detached shell has its output redirected."""
    enter = (
        "nsenter", f"--net=/run/netns/{launch.netns}",
        "unshare", "--pid", "--mount", "--uts", "--ipc", "--fork", "--kill-child",
        "--propagation", "private",
        "sh", "-c", _ENTER_ROOT, "sh",
        str(launch.lower), str(launch.upper), str(launch.work), str(launch.root),
        launch.hostname, _AFTER_PIVOT, *launch.init,
    )  # fmt: skip
    procs = tuple(str(path) for path in launch.cgroup_procs)
    return Command(
        ("setsid", "--fork", "sh", "-c", _DETACHED, "sh", str(launch.console_log),
         str(launch.pidfile), *procs, "--", *enter)
    )  # fmt: skip


def runs_init(cmdline: list[str], init: tuple[str, ...]) -> bool:
    """True when a process's argv (/proc/<pid>/cmdline) is the image's init itself (possibly
    under its #! interpreter), not one of the launch steps that come before it."""
    steps = (_DETACHED, _ENTER_ROOT, _AFTER_PIVOT)
    return tuple(cmdline[-len(init) :]) == init and not any(step in cmdline for step in steps)


def unpack(tarball: Path, dest: Path) -> Command:
    """Unpack a (possibly compressed) root tarball into the existing directory `dest`, keeping
    owners, modes and device nodes as recorded."""
    return Command(
        ("tar", "-x", "-f", str(tarball), "-C", str(dest), "--numeric-owner",
         "--same-permissions", "--same-owner")
    )  # fmt: skip
