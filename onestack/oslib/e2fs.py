"""Command builders for e2fsprogs: a reproducible ext4 image from a directory, no mount needed.

`mke2fs -d` copies the tree; it takes atime and ctime from the source files, which a build
cannot fix on disk, so `pin_times` rewrites every inode's times afterwards with debugfs.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from onestack.oslib.process import Command


def mkfs_ext4(
    image: Path, source_dir: Path, size_mb: int, label: str, fs_uuid: str, epoch: int
) -> Command:
    """Make `image` (a new file) an ext4 filesystem holding `source_dir`, byte-for-byte stable."""
    extended = ",".join(
        (f"hash_seed={fs_uuid}", "lazy_itable_init=0", "lazy_journal_init=0", "root_owner=0:0")
    )
    argv = ("mke2fs", "-q", "-F", "-t", "ext4", "-L", label, "-U", fs_uuid, "-E", extended,
            "-d", str(source_dir), str(image), f"{size_mb}M")  # fmt: skip
    return Command(argv, env={"E2FSPROGS_FAKE_TIME": str(epoch)})


def pin_times(image: Path, paths: Iterable[str], epoch: int) -> Command:
    """Set atime, ctime, mtime and crtime of every listed path in `image` to `epoch`."""
    lines = [
        f"set_inode_field {path} {field} @{epoch}"
        for path in paths
        for field in ("atime", "ctime", "mtime", "crtime")
    ]
    script = ("\n".join(lines) + "\n").encode()
    return Command(
        ("debugfs", "-w", "-f", "-", str(image)),
        env={"E2FSPROGS_FAKE_TIME": str(epoch)},
        stdin=script,
    )
