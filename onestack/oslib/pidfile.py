"""Daemons of ours found by their pid files: alive only when the pid's command line still
carries our marker (a recycled pid is never signalled), and stopped by signal."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def find(pid_file: Path, marker: str) -> int | None:
    """The pid in `pid_file` when that process runs and its command line contains `marker`."""
    try:
        pid = int(pid_file.read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return None
    return pid if marker.encode() in cmdline.replace(b"\0", b" ") else None


def signal_pid(pid: int, signum: int = signal.SIGTERM) -> None:
    """Send `signum`; a process already gone is not an error."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def stop(pid_file: Path, marker: str) -> None:
    """SIGKILL the daemon of `pid_file` (if it is still ours) and remove the file."""
    pid = find(pid_file, marker)
    if pid is not None:
        signal_pid(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)


def reload(pid_file: Path, marker: str) -> bool:
    """SIGHUP the daemon; False when it does not run."""
    pid = find(pid_file, marker)
    if pid is None:
        return False
    signal_pid(pid, signal.SIGHUP)
    return True
