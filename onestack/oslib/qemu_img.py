"""Command builders for `qemu-img` (package qemu-utils)."""

from __future__ import annotations

from pathlib import Path

from onestack.oslib.process import Command


def convert(source: Path, target: Path, source_format: str, target_format: str) -> Command:
    """Copy an image into another format; qcow2 output carries no timestamps."""
    return Command(
        ("qemu-img", "convert", "-q", "-f", source_format, "-O", target_format,
         str(source), str(target))
    )  # fmt: skip


def create_overlay(
    backing: Path, target: Path, size_bytes: int | None = None, backing_format: str = "qcow2"
) -> Command:
    """A copy-on-write qcow2 on top of `backing` (an absolute path, of `backing_format`)."""
    argv = ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(backing.absolute()),
            "-F", backing_format, str(target)]  # fmt: skip
    if size_bytes is not None:
        argv.append(str(size_bytes))
    return Command(tuple(argv))


def info(image: Path) -> Command:
    """Image facts as JSON (format, virtual-size, backing file, data file). The format is
    probed, never given, and the backing chain is not opened: safe on untrusted files."""
    return Command(("qemu-img", "info", "--output=json", str(image)))
