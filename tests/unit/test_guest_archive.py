"""Reproducibility helpers of the guest build: the same tree gives the same bytes."""

import gzip
import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from onestack.guest import archive, rootfs
from onestack.guest.build import _current, inputs_digest

EPOCH = 1735689600


def _make_tree(root: Path, order: list[str]) -> Path:
    root.mkdir()
    for name in order:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"contents of {name}\n")
    (root / "bin").mkdir(exist_ok=True)
    (root / "bin/sh").symlink_to("/bin/busybox")
    rootfs.pin_tree_times(root, EPOCH)
    return root


def _newc(root: Path) -> bytes:
    out = io.BytesIO()
    archive.write_newc(archive.tree_entries(root), out, EPOCH)
    return out.getvalue()


def test_tree_entries_are_sorted_with_directories_first(tmp_path: Path) -> None:
    root = _make_tree(tmp_path / "t", ["etc/b", "etc/a", "init"])

    paths = [entry.path for entry in archive.tree_entries(root)]

    assert paths == ["bin", "bin/sh", "etc", "etc/a", "etc/b", "init"]


def test_newc_does_not_depend_on_creation_order_or_inode_numbers(tmp_path: Path) -> None:
    first = _make_tree(tmp_path / "one", ["etc/a", "etc/b", "init"])
    second = _make_tree(tmp_path / "two", ["init", "etc/b", "etc/a"])

    assert _newc(first) == _newc(second)


def test_newc_records_are_four_byte_aligned_and_end_with_the_trailer(tmp_path: Path) -> None:
    data = _newc(_make_tree(tmp_path / "t", ["init"]))

    assert data.startswith(b"070701")
    assert len(data) % 4 == 0
    assert b"TRAILER!!!\0" in data[-128:]
    first_mtime = int(data[6 + 5 * 8 : 6 + 6 * 8], 16)
    assert first_mtime == EPOCH


def test_gzip_has_no_name_and_no_timestamp() -> None:
    out = io.BytesIO()
    with archive.gzip_writer(out) as z:
        z.write(b"hello")

    data = out.getvalue()
    assert data[3] & 0x08 == 0  # FNAME flag
    assert data[4:8] == b"\0\0\0\0"  # MTIME
    assert gzip.decompress(data) == b"hello"


def test_tar_members_are_roots_and_dated_epoch(tmp_path: Path) -> None:
    root = _make_tree(tmp_path / "t", ["etc/a"])
    out = io.BytesIO()

    archive.write_tar(archive.tree_entries(root), out, EPOCH)

    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == [".", "./bin", "./bin/sh", "./etc", "./etc/a"]
    assert {(m.uid, m.gid, m.mtime) for m in members} == {(0, 0, EPOCH)}
    assert members[2].issym() and members[2].linkname == "/bin/busybox"


def test_atomic_output_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "initrd.gz"
    target.write_text("old")

    with pytest.raises(RuntimeError), archive.atomic_output(target) as partial:
        partial.write_text("half")
        raise RuntimeError("disk full")

    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["initrd.gz"]


def test_atomic_output_replaces_with_a_new_inode(tmp_path: Path) -> None:
    target = tmp_path / "initrd.gz"
    target.write_text("old")
    before = target.stat().st_ino
    kept_open = target.open()

    with archive.atomic_output(target) as partial:
        partial.write_text("new")

    assert target.read_text() == "new"
    assert target.stat().st_ino != before
    assert kept_open.read() == "old"  # a VM that has it mapped keeps its bytes
    kept_open.close()


def test_newest_kernel_with_modules_is_chosen(tmp_path: Path) -> None:
    boot, modules = tmp_path / "boot", tmp_path / "modules"
    for version, has_modules in (("6.1.0-9-amd64", True), ("6.1.0-56-amd64", True),
                                 ("6.1.0-60-amd64", False)):  # fmt: skip
        (boot / f"vmlinuz-{version}").parent.mkdir(exist_ok=True)
        (boot / f"vmlinuz-{version}").write_bytes(b"k")
        if has_modules:
            (modules / version).mkdir(parents=True)
            (modules / version / "modules.dep").write_text("")

    assert rootfs.find_kernel(boot, modules) == "6.1.0-56-amd64"


def test_no_kernel_names_the_package_to_install(tmp_path: Path) -> None:
    with pytest.raises(rootfs.MissingInput, match="linux-image-amd64"):
        rootfs.find_kernel(tmp_path, tmp_path)


def _inputs(tmp_path: Path) -> rootfs.HostInputs:
    kernel = tmp_path / "vmlinuz"
    kernel.write_bytes(b"kernel")
    return rootfs.HostInputs("6.1.0-56-amd64", kernel, (), kernel, ("bin/sh",), {}, ())


def test_inputs_digest_follows_the_epoch_and_the_files(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path)
    first = inputs_digest(inputs, EPOCH)

    assert inputs_digest(inputs, EPOCH) == first
    assert inputs_digest(inputs, EPOCH + 1) != first
    inputs.kernel.write_bytes(b"another kernel")
    assert inputs_digest(inputs, EPOCH) != first


def test_manifest_for_other_inputs_is_not_current(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"inputs": "old", "images": []}')

    assert _current(tmp_path, "new") is None


def test_staged_tree_has_the_init_scripts_and_modes(tmp_path: Path) -> None:
    tree = tmp_path / "root"
    tree.mkdir()
    inputs = _inputs(tmp_path)

    rootfs.stage(tree, inputs, EPOCH)

    assert stat.S_IMODE((tree / "init").stat().st_mode) == 0o755
    assert (tree / "sbin/onestack-init").read_bytes().startswith(b"#!/bin/sh")
    assert stat.S_IMODE((tree / "root").stat().st_mode) == 0o700
    assert (tree / "bin/sh").is_symlink()
    assert {p.lstat().st_mtime for p in tree.rglob("*")} == {EPOCH}


def test_static_and_dynamic_programs_are_told_apart(tmp_path: Path) -> None:
    def elf(program_types: list[int]) -> Path:
        header = bytearray(64)
        header[:5] = b"\x7fELF\x02"
        header[32:40] = (64).to_bytes(8, "little")
        header[54:56] = (56).to_bytes(2, "little")
        header[56:58] = len(program_types).to_bytes(2, "little")
        table = b"".join(t.to_bytes(4, "little") + bytes(52) for t in program_types)
        path = tmp_path / f"prog{len(program_types)}"
        path.write_bytes(bytes(header) + table)
        return path

    assert rootfs.is_dynamic(elf([6, 3, 1])) is True  # PHDR, INTERP, LOAD
    assert rootfs.is_dynamic(elf([1, 1])) is False
