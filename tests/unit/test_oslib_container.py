"""The container command lines and cgroup files, built as data: given these facts, expect these
argv and these writes (a temporary directory stands in for /sys/fs/cgroup)."""

from __future__ import annotations

from pathlib import Path

from onestack.oslib import cgroup, container, iproute


def _launch(tmp_path: Path) -> container.Launch:
    return container.Launch(
        lower=tmp_path / "img", upper=tmp_path / "up", work=tmp_path / "work",
        root=tmp_path / "root", hostname="ct1", netns="onestack-srv",
        cgroup_procs=(tmp_path / "memory.procs", tmp_path / "pids.procs"),
        console_log=tmp_path / "console.log", pidfile=tmp_path / "launcher.pid",
        init=("/sbin/onestack-init", "container"),
    )  # fmt: skip


def test_the_container_starts_detached_in_its_cgroups_and_namespaces(tmp_path: Path) -> None:
    argv = container.start(_launch(tmp_path)).argv

    assert argv[:2] == ("setsid", "--fork")  # double fork: never the caller's child
    separator = argv.index("--")
    assert argv[separator - 2 : separator] == (
        str(tmp_path / "memory.procs"), str(tmp_path / "pids.procs"),
    )  # fmt: skip
    enter = argv[separator + 1 :]
    assert enter[:2] == ("nsenter", "--net=/run/netns/onestack-srv")
    unshare = enter[2 : enter.index("sh")]
    assert {"--pid", "--mount", "--uts", "--ipc", "--fork", "--kill-child"} <= set(unshare)
    assert unshare[unshare.index("--propagation") + 1] == "private"
    assert enter[-2:] == ("/sbin/onestack-init", "container")
    assert str(tmp_path / "console.log") in argv and "ct1" in enter


def test_the_root_is_an_overlay_entered_with_pivot_root_not_chroot(tmp_path: Path) -> None:
    script = " ".join(container.start(_launch(tmp_path)).argv)

    assert "mount -t overlay" in script and "pivot_root . .oldroot" in script
    assert "umount -l /.oldroot" in script
    assert "chroot" not in script


def test_only_the_init_itself_counts_as_started(tmp_path: Path) -> None:
    argv = container.start(_launch(tmp_path)).argv
    init = ("/sbin/onestack-init", "container")
    enter = list(argv[argv.index("unshare") :])
    after_pivot = ["/bin/sh", "-c", enter[enter.index("ct1") + 1], "sh", *init]

    assert container.runs_init(["/bin/sh", *init], init)  # a script under its interpreter
    assert container.runs_init(list(init), init)
    assert not container.runs_init(list(argv), init)
    assert not container.runs_init(enter[enter.index("sh") :], init)
    assert not container.runs_init(after_pivot, init)


def test_unpack_keeps_owners_and_modes() -> None:
    argv = container.unpack(Path("/c/img.tar.gz"), Path("/c/.unpack-x")).argv

    assert argv[:5] == ("tar", "-x", "-f", "/c/img.tar.gz", "-C")
    assert {"--numeric-owner", "--same-owner", "--same-permissions"} <= set(argv)


def test_veth_peer_is_created_inside_the_container_namespace() -> None:
    argv = iproute.veth_add("vct1", "eth0", "onestack-srv", "dataplane").argv

    assert argv == ("ip", "-n", "dataplane", "link", "add", "dev", "vct1", "type", "veth",
                    "peer", "name", "eth0", "netns", "onestack-srv")  # fmt: skip
    reset = iproute.link_reset("eth0", "fa:16:3e:00:00:01", 1450, "onestack-srv").argv
    assert reset[-5:] == ("down", "address", "fa:16:3e:00:00:01", "mtu", "1450")


def _fake_cgroupfs(root: Path, freezer: bool = True) -> None:
    for controller in ("memory", "pids", "cpu", "devices") + (("freezer",) if freezer else ()):
        (root / controller).mkdir(parents=True)
        (root / controller / "cgroup.procs").write_text("")


def test_group_limits_come_from_the_flavor(tmp_path: Path) -> None:
    _fake_cgroupfs(tmp_path)
    group = cgroup.Group("onestack-srv", root=tmp_path)

    group.create(cgroup.Limits(memory_bytes=96 << 20, pids=512, cpus=2))

    def read(controller: str, key: str) -> str:
        return (tmp_path / controller / "onestack-srv" / key).read_text().strip()

    assert read("memory", "memory.limit_in_bytes") == str(96 << 20)
    assert read("pids", "pids.max") == "512"
    assert read("cpu", "cpu.cfs_quota_us") == str(2 * int(read("cpu", "cpu.cfs_period_us")))
    assert tmp_path / "freezer" / "onestack-srv" / "cgroup.procs" in group.procs_files()


def test_group_may_open_no_block_device(tmp_path: Path) -> None:
    _fake_cgroupfs(tmp_path)
    group = cgroup.Group("onestack-srv", root=tmp_path)

    group.create(cgroup.Limits(memory_bytes=1 << 20, pids=8, cpus=1))

    assert tmp_path / "devices" / "onestack-srv" / "cgroup.procs" in group.procs_files()
    assert (tmp_path / "devices" / "onestack-srv" / "devices.deny").read_text() == "a\n"
    rules = [rule for rule in cgroup.DEVICES_ALLOWED if rule.startswith("b")]
    assert rules == ["b *:* m"]  # make the node, never read or write it


def test_group_without_a_freezer_controller_is_paused_by_signals(tmp_path: Path) -> None:
    _fake_cgroupfs(tmp_path, freezer=False)
    group = cgroup.Group("onestack-srv", root=tmp_path)

    assert not group.has_freezer
    assert group.controllers == ("memory", "pids", "cpu", "devices")
    assert group.frozen() is False  # no task: nothing is stopped
