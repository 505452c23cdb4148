"""The QEMU driver's per-server files: the spec survives a round trip through JSON, and a guest
is alive only when both its pid and that process's start time match."""

from __future__ import annotations

import os
from pathlib import Path

from onestack.compute.drivers import BootImage, GuestSpec, Vif
from onestack.compute.drivers.qemu_files import InstanceFiles, Process, start_time


def test_the_spec_reads_back_equal(tmp_path: Path) -> None:
    spec = GuestSpec(
        server_id="s1", name="vm", hostname="vm", vcpus=2, memory_mb=256, disk_gb=1,
        image=BootImage("i", tmp_path / "base.qcow2", "qcow2", "bare",
                        kernel_path=tmp_path / "k", command_line="root=/dev/vda",
                        properties={"os_distro": "onestack"}),
        vifs=(Vif("p1", "fa:16:3e:00:00:01", "n1", "tapp1", "br1", "ns1", 1450, ("10.0.0.5",)),),
        config_drive=tmp_path / "cd.iso",
    )  # fmt: skip
    files = InstanceFiles(tmp_path)

    files.save_spec(spec)

    assert files.load_spec() == spec


def test_an_unreadable_spec_is_none(tmp_path: Path) -> None:
    files = InstanceFiles(tmp_path)
    files.spec_file.write_text("{not json")

    assert files.load_spec() is None


def test_a_live_process_with_its_own_start_time_is_running(tmp_path: Path) -> None:
    files = InstanceFiles(tmp_path)
    me = Process(os.getpid(), start_time(os.getpid()) or -1)

    files.save_process(me)

    assert files.running() == me


def test_a_reused_pid_is_not_the_guest(tmp_path: Path) -> None:
    files = InstanceFiles(tmp_path)
    files.save_process(Process(os.getpid(), (start_time(os.getpid()) or 0) + 1))

    assert files.running() is None


def test_no_process_file_means_not_running(tmp_path: Path) -> None:
    assert InstanceFiles(tmp_path).running() is None
    assert start_time(2**22 + 1) is None  # above pid_max's ceiling: never a process
