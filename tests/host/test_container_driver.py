"""The container compute driver alone, on the real guest rootfs (root): one container on a veth
on a bridge in a test-owned namespace, where dnsmasq gives it an address, taken through every
power action; then destroy, which must leave no process, mount, veth, namespace, cgroup or file
behind (counted before and after)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from onestack.compute.drivers import (
    BootImage,
    ComputeDriver,
    GuestError,
    GuestSpec,
    PowerState,
    Vif,
    make_driver,
)
from onestack.guest import GuestImages
from tests.host.lab import GUEST_IP, GUEST_MAC, Lab
from tests.host.lab import wait_until as lab_wait_until

NEEDED = ("dnsmasq", "busybox", "nsenter", "unshare", "setsid", "pivot_root", "tar")
MISSING = [tool for tool in NEEDED if shutil.which(tool) is None]
CGROUPS = Path("/sys/fs/cgroup")
pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="host test: needs root (namespaces, cgroups)"),
    pytest.mark.skipif(
        not (CGROUPS / "memory" / "cgroup.procs").exists(), reason="host test: no cgroup v1"
    ),
    pytest.mark.skipif(bool(MISSING), reason=f"host test: not installed: {MISSING}"),
]

LAB_PREFIX = "osk"
SERVER_ID = "6e2f3a41-9b5c-4d7e-8f10-b2c3d4e5f607"
PORT_ID = "8b9c0d1e-2f3a-4b4c-9d5e-6f7a8b9c0d1e"
DEVNAME = f"vct{PORT_ID[:11]}"
READY_S = 15  # the guest is ready in well under a second; leave room for loaded cores
READY = "onestack-guest: ready: hostname"


def make_spec(images: GuestImages, lab: Lab, server_id: str = SERVER_ID) -> GuestSpec:
    rootfs = images.rootfs_tar
    image = BootImage(
        image_id="img-rootfs", path=rootfs.path, disk_format=rootfs.disk_format,
        container_format=rootfs.container_format, properties=dict(rootfs.properties),
    )  # fmt: skip
    vif = Vif(
        port_id=PORT_ID, mac_address=GUEST_MAC, network_id="net-1", devname=DEVNAME,
        bridge="br0", netns=lab.netns, mtu=1450, fixed_ips=(GUEST_IP,),
    )  # fmt: skip
    return GuestSpec(
        server_id=server_id, name="ct1", hostname="ct1", vcpus=1, memory_mb=96, disk_gb=1,
        image=image, vifs=(vif,),
    )  # fmt: skip


def new_driver(lab: Lab) -> ComputeDriver:
    return make_driver("container", SimpleNamespace(soft_reboot_timeout_s=10.0), lab.state_dir)


def wait_until(check: Callable[[], bool], what: str | Callable[[], str]) -> None:
    lab_wait_until(check, what, READY_S)


@dataclass(frozen=True)
class HostView:
    """What the host shows that one container could leave behind. Only what names the server
    is counted: other engineers' tests make namespaces and mounts on this machine meanwhile."""

    processes: frozenset[int]
    mounts: tuple[str, ...]
    netns: tuple[str, ...]
    cgroups: tuple[str, ...]
    links: tuple[str, ...]

    @classmethod
    def now(cls, lab: Lab, server_id: str = SERVER_ID) -> HostView:
        names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
        return cls(
            processes=frozenset(container_pids(server_id)),
            mounts=tuple(line for line in mounts if server_id in line),
            netns=tuple(line.split()[0] for line in names.splitlines() if server_id in line),
            cgroups=tuple(sorted(str(p) for p in CGROUPS.glob(f"*/onestack-{server_id}"))),
            links=tuple(lab.links()),
        )


def container_pids(server_id: str = SERVER_ID) -> set[int]:
    """Every process on the host in one of the server's cgroups."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if f"onestack-{server_id}" in (entry / "cgroup").read_text():
                    found.add(int(entry.name))
            except OSError:
                continue
    return found


def inside(pid: int, script: str, join_cgroups: bool = True) -> str:
    """Run a shell in every namespace and the root of the container whose init is `pid`, and
    (nsenter does not) in its cgroups, as anything the container runs is."""
    procs = [str(p) for p in CGROUPS.glob(f"*/onestack-{SERVER_ID}/cgroup.procs")]
    join = 'for f in "$@"; do echo $$ >"$f"; done; ' if join_cgroups else ""
    enter = f"exec nsenter -t {pid} -m -u -i -n -p -r -w /bin/sh -c '{script}'"
    argv = ["sh", "-c", join + enter, "sh", *procs]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


@dataclass
class Running:
    driver: ComputeDriver
    spec: GuestSpec
    before: HostView

    def readies(self) -> int:
        return self.driver.console_log(SERVER_ID).count(READY)

    def wait_ready(self, count: int) -> None:
        tail = lambda: f"banner #{count}:\n{self.driver.console_log(SERVER_ID, 30)}"  # noqa: E731
        wait_until(lambda: self.readies() >= count, tail)

    def state(self) -> PowerState:
        return self.driver.info(SERVER_ID).power_state

    def pid(self) -> int:
        pid = self.driver.info(SERVER_ID).pid
        assert pid is not None
        return pid


@pytest.fixture(scope="module")
def ct(guest_images: GuestImages, lab: Lab) -> Iterator[Running]:
    before = HostView.now(lab)
    driver = new_driver(lab)
    driver.spawn(make_spec(guest_images, lab))
    try:
        yield Running(driver, make_spec(guest_images, lab), before)
    finally:
        driver.destroy(SERVER_ID)


def test_spawned_container_boots_and_gets_its_address_within_seconds(ct: Running) -> None:
    ct.wait_ready(1)

    log = ct.driver.console_log(SERVER_ID)
    assert f"onestack-guest: address eth0 {GUEST_IP}/24 mtu 1450" in log
    assert "ready: hostname dhcpname" in log  # the guest's init takes DHCP's name over ours
    assert (ct.state(), ct.driver.guests()) == (PowerState.RUNNING, [SERVER_ID])
    assert ct.driver.console_log(SERVER_ID, 1).count("\n") <= 1


def test_ssh_answers_on_the_guest_address(ct: Running, lab: Lab) -> None:
    ct.wait_ready(1)

    assert ssh_banner(lab).startswith("SSH-2.0-dropbear")


def ssh_banner(lab: Lab) -> str:
    """The first line the guest's port 22 sends, read from the lab namespace."""
    argv = ["ip", "netns", "exec", lab.netns, "timeout", "5", "busybox", "nc", "-w", "3",
            GUEST_IP, "22"]  # fmt: skip
    out = subprocess.run(argv, input=b"", capture_output=True).stdout  # binary after line 1
    return out.decode(errors="replace").splitlines()[0] if out else ""


def test_the_container_runs_in_its_own_namespaces_on_its_overlay(ct: Running, lab: Lab) -> None:
    pid = ct.pid()

    for kind in ("pid", "mnt", "uts", "ipc", "net"):
        assert os.readlink(f"/proc/{pid}/ns/{kind}") != os.readlink(f"/proc/self/ns/{kind}")
    root = [line for line in inside(pid, "cat /proc/self/mountinfo").splitlines()
            if line.split()[4] == "/"]  # fmt: skip
    assert [line.split(" - ")[1].split()[0] for line in root] == ["overlay"]
    assert inside(pid, "cat /proc/1/cmdline").split("\0")[:2] == ["/bin/sh", "/sbin/onestack-init"]
    assert inside(pid, "cat /sys/class/net/eth0/address").strip() == GUEST_MAC
    sealed = f"[ ! -e /.oldroot ] && [ ! -e {lab.state_dir} ] && echo sealed"
    assert inside(pid, sealed).strip() == "sealed"  # the host's tree is out of reach
    host_mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    assert [m for m in host_mounts if SERVER_ID in m and "overlay" in m] == []  # ns-private
    assert _parent(_parent(pid)) != os.getpid()  # detached: not a child of ours


def test_the_container_may_make_but_not_open_a_block_device(ct: Running) -> None:
    script = "mknod /tmp/loop b 7 0 2>/dev/null; dd if=/tmp/loop of=/dev/null count=1"

    inside(ct.pid(), script, join_cgroups=False)  # the host's own cgroup may open it
    with pytest.raises(subprocess.CalledProcessError) as refused:
        inside(ct.pid(), script)

    assert "Operation not permitted" in refused.value.stderr


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def test_flavor_limits_are_in_the_cgroup_with_every_process(ct: Running) -> None:
    group = f"onestack-{SERVER_ID}"

    def read(controller: str, key: str) -> str:
        return (CGROUPS / controller / group / key).read_text().strip()

    assert int(read("memory", "memory.limit_in_bytes")) == 96 << 20
    assert int(read("cpu", "cpu.cfs_quota_us")) == int(read("cpu", "cpu.cfs_period_us"))
    assert int(read("pids", "pids.max")) > 0
    in_group = {int(p) for p in read("memory", "cgroup.procs").split()}
    assert ct.pid() in in_group
    assert in_group == container_pids()
    assert len(in_group) >= 3  # launcher, init, udhcpc/dropbear/sleep


def test_spawn_again_does_not_start_a_second_container(ct: Running) -> None:
    pid = ct.pid()

    ct.driver.spawn(ct.spec)

    assert ct.pid() == pid


def test_pause_freezes_the_container_and_unpause_lets_it_run(ct: Running, lab: Lab) -> None:
    ct.wait_ready(1)
    assert lab.ping(2)

    ct.driver.pause(SERVER_ID)
    assert ct.state() is PowerState.PAUSED
    assert not lab.ping()

    ct.driver.unpause(SERVER_ID)
    assert ct.state() is PowerState.RUNNING
    assert lab.ping(2)


def test_suspend_is_refused_with_a_message(ct: Running) -> None:
    assert not ct.driver.can_suspend
    with pytest.raises(GuestError, match="cannot be suspended"):
        ct.driver.suspend(SERVER_ID)
    assert ct.state() is PowerState.RUNNING


def test_a_new_driver_instance_and_process_find_the_running_container(
    ct: Running, lab: Lab
) -> None:
    before = ct.driver.info(SERVER_ID)

    again = new_driver(lab)

    assert again.guests() == [SERVER_ID]
    assert again.info(SERVER_ID) == before
    assert _info_from_another_process(lab) == f"{SERVER_ID} RUNNING {before.pid}"


def _info_from_another_process(lab: Lab) -> str:
    """What a driver in a fresh interpreter (a restarted agent) sees."""
    code = (
        "import sys; from pathlib import Path; from types import SimpleNamespace\n"
        "from onestack.compute.drivers import make_driver\n"
        "d = make_driver('container', SimpleNamespace(), Path(sys.argv[1]))\n"
        "for g in d.guests(): i = d.info(g); print(g, i.power_state.name, i.pid)\n"
    )
    argv = [sys.executable, "-c", code, str(lab.state_dir)]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()


def test_stop_ends_every_process_and_start_boots_the_same_overlay(ct: Running, lab: Lab) -> None:
    ct.wait_ready(1)
    pid = ct.pid()
    inside(pid, "echo kept >/root/marker")

    ct.driver.power_off(SERVER_ID, timeout_s=10)

    assert ct.state() is PowerState.SHUTDOWN
    assert container_pids() == set()
    assert "onestack-guest: stopping" in ct.driver.console_log(SERVER_ID)  # SIGTERM was handled
    ct.driver.power_on(ct.spec)
    assert ct.state() is PowerState.RUNNING
    ct.wait_ready(2)
    wait_until(lambda: lab.ping(1), "ping after start")
    assert inside(ct.pid(), "cat /root/marker").strip() == "kept"


def test_soft_and_hard_reboot_start_the_init_again(ct: Running, lab: Lab) -> None:
    ct.wait_ready(2)
    first = ct.pid()

    ct.driver.reboot(SERVER_ID, hard=False)
    ct.wait_ready(3)
    second = ct.pid()
    ct.driver.reboot(SERVER_ID, hard=True)
    ct.wait_ready(4)

    assert len({first, second, ct.pid()}) == 3
    assert ct.driver.console_log(SERVER_ID).count("onestack-guest: stopping") == 2  # soft only
    wait_until(lambda: lab.ping(1), "ping after hard reboot")


def test_destroy_leaves_no_process_mount_veth_namespace_cgroup_or_file(
    ct: Running, lab: Lab
) -> None:
    assert DEVNAME in lab.links()
    running = HostView.now(lab)
    assert running.processes and running.netns and running.cgroups and running.mounts

    ct.driver.destroy(SERVER_ID)

    assert HostView.now(lab) == ct.before
    assert list((lab.state_dir / "compute" / "containers").iterdir()) == []
    assert ct.driver.info(SERVER_ID).power_state is PowerState.NOSTATE
    assert ct.driver.guests() == []


def _tarball(path: Path, files: dict[str, int]) -> Path:
    """A root tarball holding one-line files at the given paths with the given modes."""
    with tarfile.open(path, "w") as tar:
        for name, mode in files.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size, info.mode = 3, mode
            tar.addfile(info, io.BytesIO(b"x\n\n"))
    return path


@pytest.mark.parametrize(
    ("content", "refused"),
    [
        ({"etc/hostname": 0o644}, "no init /sbin/onestack-init"),
        # The init is there but the image has no shell to become it: it dies while starting.
        ({"sbin/onestack-init": 0o755}, "The container did not start"),
    ],
    ids=["no-init", "no-shell"],
)
def test_an_image_that_cannot_start_is_refused_and_leaves_nothing(
    guest_images: GuestImages, lab: Lab, tmp_path: Path, content: dict[str, int], refused: str
) -> None:
    tarball = _tarball(tmp_path / "broken.tar", content)
    spec = make_spec(guest_images, lab, server_id="0e5c1a3d-0000-4000-8000-0000000000ee")
    spec = replace(spec, image=replace(spec.image, image_id=f"img-{tmp_path.name}", path=tarball))
    before = HostView.now(lab, spec.server_id)
    driver = new_driver(lab)

    with pytest.raises(GuestError, match=refused):
        driver.spawn(spec)

    assert HostView.now(lab, spec.server_id) == before
    assert driver.guests() == []
    assert not (lab.state_dir / "compute" / "containers" / spec.server_id).exists()
