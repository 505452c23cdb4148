"""What the host tests of compute drivers share: a test-owned network namespace with a bridge
and a dnsmasq that gives the guest's MAC a fixed address (no router, so a guest reads its
config drive, or no metadata at all), and polling with a deadline. The fixtures built on it are
in conftest.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

GUEST_MAC = "fa:16:3e:78:00:05"
GUEST_IP = "10.78.0.5"
BRIDGE_IP = "10.78.0.1"
BRIDGE = "br0"


@dataclass
class Lab:
    netns: str
    dir: Path
    state_dir: Path
    dnsmasq: subprocess.Popen[bytes]

    def links(self) -> list[str]:
        out = subprocess.run(["ip", "-n", self.netns, "-o", "link"], capture_output=True, text=True)
        return sorted(line.split(":")[1].strip().split("@")[0] for line in out.stdout.splitlines())

    def ping(self, count: int = 1) -> bool:
        argv = ["ip", "netns", "exec", self.netns, "busybox", "ping", "-c", str(count), "-W", "2"]
        return subprocess.run([*argv, GUEST_IP], capture_output=True).returncode == 0


@contextmanager
def make_lab(run_dir: Path, prefix: str) -> Iterator[Lab]:
    """The namespace `<prefix>-<pid>` with the bridge and its dnsmasq; all removed after."""
    # Short: QEMU's unix sockets live in the instance directory (108-byte limit).
    state_dir = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    netns = f"{prefix}-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    try:
        for args in (
            ["link", "set", "lo", "up"],
            ["link", "add", BRIDGE, "type", "bridge"],
            ["addr", "add", f"{BRIDGE_IP}/24", "dev", BRIDGE],
            ["link", "set", BRIDGE, "up"],
        ):
            subprocess.run(["ip", "-n", netns, *args], check=True)
        dnsmasq = subprocess.Popen(_dnsmasq_argv(netns, run_dir), stdin=subprocess.DEVNULL)
        yield Lab(netns, run_dir, state_dir, dnsmasq)
    finally:
        if "dnsmasq" in locals():
            dnsmasq.kill()
            dnsmasq.wait()
        subprocess.run(["ip", "netns", "del", netns], check=False)
        shutil.rmtree(state_dir, ignore_errors=True)


def _dnsmasq_argv(netns: str, run_dir: Path) -> list[str]:
    return [
        "ip", "netns", "exec", netns, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
        "--user=root", "--group=root", f"--pid-file={run_dir / 'dnsmasq.pid'}",
        f"--interface={BRIDGE}", "--bind-interfaces", "--except-interface=lo", "--port=0",
        "--dhcp-authoritative", "--no-ping", "--dhcp-range=10.78.0.10,10.78.0.100,255.255.255.0,1h",
        # No router: the guest then has no route to a metadata service and reads the drive.
        "--dhcp-option=3", f"--dhcp-host={GUEST_MAC},{GUEST_IP},dhcpname",
        f"--dhcp-leasefile={run_dir / 'leases'}", f"--log-facility={run_dir / 'dnsmasq.log'}",
    ]  # fmt: skip


def wait_until(check: Callable[[], bool], what: str | Callable[[], str], deadline_s: float) -> None:
    """Poll `check` until true; fail the test with `what` after deadline_s."""
    deadline = time.monotonic() + deadline_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {deadline_s} s: {what if isinstance(what, str) else what()}")
        time.sleep(0.3)
