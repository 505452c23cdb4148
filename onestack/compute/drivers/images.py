"""Only safe images boot: what `qemu-img info` says of a file must match the image's disk_format,
and a qcow2 may point at no other file (backing file, external data file) unless that file is in
the agent's own cache. `judge` is pure (facts in, GuestError out); `inspect` runs qemu-img."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from onestack.compute.drivers.base import GuestError
from onestack.oslib import qemu_img
from onestack.oslib.process import CommandFailed, run

# disk_format (Glance's names) -> the format qemu-img reports for such a file.
QEMU_FORMATS = {
    "qcow2": "qcow2",
    "raw": "raw",
    "ami": "raw",
    "iso": "raw",
    "vmdk": "vmdk",
    "vdi": "vdi",
    "vhd": "vpc",
    "vhdx": "vhdx",
}


def inspect(path: Path, disk_format: str, trusted_dir: Path | None = None) -> dict[str, Any]:
    """The facts of the file at `path` once judged safe to boot as `disk_format`."""
    try:
        facts = json.loads(run(qemu_img.info(path)))
    except (CommandFailed, ValueError) as exc:
        raise GuestError(f"Image {path.name} could not be inspected: {exc}") from exc
    judge(facts, disk_format, trusted_dir)
    return facts


def judge(facts: dict[str, Any], disk_format: str, trusted_dir: Path | None = None) -> None:
    """Raise GuestError when the file these facts describe must not boot."""
    expected = QEMU_FORMATS.get(disk_format)
    if expected is None:
        raise GuestError(f"Image disk_format {disk_format!r} cannot boot on this host.")
    found = facts.get("format")
    if found != expected:
        raise GuestError(
            f"Image content is {found!r} but its disk_format is {disk_format!r}; refusing to boot."
        )
    for what, target in _references(facts):
        if not _inside(target, trusted_dir):
            raise GuestError(f"Image has a {what} ({target}); refusing to boot it.")


def _references(facts: dict[str, Any]) -> list[tuple[str, str]]:
    """Every other file this image would make QEMU open."""
    found = []
    backing = facts.get("full-backing-filename") or facts.get("backing-filename")
    if backing:
        found.append(("backing file", str(backing)))
    specific = facts.get("format-specific") or {}
    data_file = (specific.get("data") or {}).get("data-file")
    if data_file:
        found.append(("external data file", str(data_file)))
    return found


def _inside(target: str, trusted_dir: Path | None) -> bool:
    if trusted_dir is None or "://" in target or ":" in target.split("/", 1)[0]:
        return False  # protocol names (nbd:, http://, json:) are never our cache
    resolved = Path(target).resolve()
    return resolved.is_relative_to(trusted_dir.resolve())
