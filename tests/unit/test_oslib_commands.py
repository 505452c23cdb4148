"""The OS command builders, checked as data: given these arguments, expect these commands."""

from pathlib import Path

from onestack.oslib import busybox, e2fs, kmod, ldd, qemu_img
from onestack.oslib.process import _with_sbin

UUID = "0e57ac4b-6f75-4d5e-9a1b-2c0de51ab1e5"


def test_qemu_img_convert_names_both_formats() -> None:
    command = qemu_img.convert(Path("a.raw"), Path("b.qcow2"), "raw", "qcow2")

    assert command.argv == ("qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2",
                            "a.raw", "b.qcow2")  # fmt: skip


def test_qemu_img_overlay_points_at_an_absolute_backing_file(tmp_path: Path) -> None:
    command = qemu_img.create_overlay(Path("base.qcow2"), tmp_path / "inst.qcow2", 1 << 30)

    backing = command.argv[command.argv.index("-b") + 1]
    assert Path(backing).is_absolute()
    assert command.argv[-1] == str(1 << 30)
    assert command.argv[command.argv.index("-F") + 1] == "qcow2"


def test_mkfs_ext4_fixes_uuid_hash_seed_and_clock() -> None:
    command = e2fs.mkfs_ext4(Path("d.raw"), Path("tree"), 64, "cloudroot", UUID, 1735689600)

    argv = command.argv
    assert argv[argv.index("-U") + 1] == UUID
    assert f"hash_seed={UUID}" in argv[argv.index("-E") + 1].split(",")
    assert argv[argv.index("-d") + 1] == "tree"
    assert argv[-2:] == ("d.raw", "64M")
    assert command.env == {"E2FSPROGS_FAKE_TIME": "1735689600"}


def test_pin_times_sets_every_time_of_every_path() -> None:
    command = e2fs.pin_times(Path("d.raw"), ["/", "/bin"], 7)

    assert command.argv == ("debugfs", "-w", "-f", "-", "d.raw")
    assert command.stdin is not None
    lines = command.stdin.decode().splitlines()
    assert len(lines) == 8
    assert "set_inode_field /bin ctime @7" in lines
    assert "set_inode_field / crtime @7" in lines


def test_modprobe_show_depends_is_parsed_in_load_order() -> None:
    output = (
        "insmod /lib/modules/k/kernel/fs/jbd2/jbd2.ko \n"
        "builtin crc16\n"
        "insmod /lib/modules/k/kernel/fs/ext4/ext4.ko \n"
    )

    assert kmod.show_depends("6.1.0-56-amd64", "ext4").argv == (
        "modprobe", "-S", "6.1.0-56-amd64", "--show-depends", "ext4")  # fmt: skip
    assert kmod.parse_show_depends(output) == [
        "/lib/modules/k/kernel/fs/jbd2/jbd2.ko",
        "/lib/modules/k/kernel/fs/ext4/ext4.ko",
    ]


def test_ldd_output_gives_libraries_and_the_loader() -> None:
    output = (
        "\tlinux-vdso.so.1 (0x00007ffc)\n"
        "\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007f05)\n"
        "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f05)\n"
        "\t/lib64/ld-linux-x86-64.so.2 (0x00007f05)\n"
    )

    assert ldd.parse_ldd(output) == [
        "/lib/x86_64-linux-gnu/libz.so.1",
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib64/ld-linux-x86-64.so.2",
    ]


def test_busybox_lists_applets_with_paths() -> None:
    assert busybox.list_applets(Path("/bin/busybox")).argv == ("/bin/busybox", "--list-full")


def test_sbin_is_added_to_a_users_path() -> None:
    assert _with_sbin("/usr/bin:/bin") == "/usr/bin:/bin:/usr/sbin:/sbin"
    assert _with_sbin("/usr/sbin:/usr/bin") == "/usr/sbin:/usr/bin:/sbin"
