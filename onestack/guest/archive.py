"""Reproducible archives of a staged tree: newc cpio (initramfs) and tar, gzip without a name
or timestamp, and atomic outputs (a new file renamed into place, never a rewrite).

Entries are sorted by path, owned by root, and dated `epoch`; nothing from the build host's
clock, inode numbers or user ids reaches the bytes.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

GZIP_LEVEL = 9


@dataclass(frozen=True)
class Entry:
    """One path of a tree as it goes into an archive (`path` is relative, without "./")."""

    path: str
    mode: int  # full st_mode: type and permission bits
    data: bytes  # file contents, or the target of a symlink; empty for a directory


def tree_entries(root: Path) -> list[Entry]:
    """Every path under `root`, sorted, directories before what they contain."""
    entries = []
    for path in sorted(root.rglob("*"), key=lambda p: p.relative_to(root).as_posix()):
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            data = os.readlink(path).encode()
        elif stat.S_ISREG(info.st_mode):
            data = path.read_bytes()
        elif stat.S_ISDIR(info.st_mode):
            data = b""
        else:
            raise ValueError(f"{path}: only files, directories and symlinks go in an image")
        entries.append(Entry(path.relative_to(root).as_posix(), info.st_mode, data))
    return entries


def write_newc(entries: list[Entry], out: BinaryIO, epoch: int) -> None:
    """The kernel's initramfs format (cpio "newc"), inode numbers counted from 1."""
    for number, entry in enumerate(entries, start=1):
        nlink = 2 if stat.S_ISDIR(entry.mode) else 1
        _newc_record(out, entry.path, entry.mode, entry.data, number, nlink, epoch)
    _newc_record(out, "TRAILER!!!", 0, b"", 0, 1, 0)


def _newc_record(
    out: BinaryIO, name: str, mode: int, data: bytes, ino: int, nlink: int, mtime: int
) -> None:
    encoded = name.encode() + b"\0"
    fields = (ino, mode, 0, 0, nlink, mtime, len(data), 0, 0, 0, 0, len(encoded), 0)
    header = b"070701" + b"".join(b"%08X" % value for value in fields)
    out.write(header + encoded + _pad(len(header) + len(encoded)))
    out.write(data + _pad(len(data)))


def _pad(length: int) -> bytes:
    return b"\0" * (-length % 4)


def write_tar(entries: list[Entry], out: BinaryIO, epoch: int) -> None:
    """A POSIX ustar/GNU tar of the entries with "./" paths, as a container root expects."""
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as archive:
        archive.addfile(_tar_info(".", stat.S_IFDIR | 0o755, b"", epoch))
        for entry in entries:
            info = _tar_info("./" + entry.path, entry.mode, entry.data, epoch)
            body = io.BytesIO(entry.data) if info.isreg() else None
            archive.addfile(info, body)


def _tar_info(name: str, mode: int, data: bytes, epoch: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode = stat.S_IMODE(mode)
    info.mtime = epoch
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    if stat.S_ISDIR(mode):
        info.type = tarfile.DIRTYPE
    elif stat.S_ISLNK(mode):
        info.type = tarfile.SYMTYPE
        info.linkname = data.decode()
    else:
        info.size = len(data)
    return info


@contextlib.contextmanager
def gzip_writer(out: BinaryIO) -> Iterator[BinaryIO]:
    """gzip with no file name and a zero timestamp in its header (like `gzip -n`)."""
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=GZIP_LEVEL) as z:
        yield z  # type: ignore[misc]


@contextlib.contextmanager
def atomic_output(target: Path) -> Iterator[Path]:
    """A temporary path next to `target`, renamed over it only when the block succeeds.

    Readers (a VM that mmaps its kernel and initrd) keep the old file; it is never rewritten.
    """
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    try:
        yield partial
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
