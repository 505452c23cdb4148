"""Builds onestack's guest images and keeps them current: `ensure_images(out_dir, progress)`.

Outputs, from one staged tree: a kernel + gzip'd initramfs pair (aki/ari), an ext4 disk as raw
and qcow2 (booted with that kernel and root=/dev/vda), and a rootfs tarball for containers.
The same inputs give byte-identical files; a manifest records the inputs' digest, so a second
call with nothing changed does no work. Every file is written new and renamed into place.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

from onestack.guest import archive, rootfs
from onestack.oslib import e2fs, qemu_img
from onestack.oslib.process import Command, CommandFailed, run

# Bump when the build's logic changes, so existing images are rebuilt.
BUILD_FORMAT = 1
# The images' timestamps: 2025-01-01T00:00:00Z unless SOURCE_DATE_EPOCH says otherwise.
DEFAULT_EPOCH = 1735689600
DISK_SIZE_MB = 64
FS_LABEL = "cloudroot"
FS_UUID = "0e57ac4b-6f75-4d5e-9a1b-2c0de51ab1e5"
MANIFEST = "manifest.json"
PREFIX = "onestack-guest"
COMMAND_LINE = "console=ttyS0 root=/dev/vda"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class GuestImage:
    """One built file and how it should be registered in the image service."""

    role: str  # kernel, ramdisk, disk_qcow2, disk_raw, rootfs_tar
    name: str  # suggested image name
    path: Path
    size_bytes: int
    sha256: str
    disk_format: str
    container_format: str
    min_ram_mb: int = 0
    min_disk_gb: int = 0
    properties: dict[str, str] = field(default_factory=dict)
    # Image properties that hold the id of another of these images once it is registered,
    # e.g. {"kernel_id": "kernel", "ramdisk_id": "ramdisk"}.
    links: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GuestImages:
    kernel_version: str
    kernel: GuestImage
    ramdisk: GuestImage
    disk_qcow2: GuestImage
    disk_raw: GuestImage
    rootfs_tar: GuestImage
    built: bool  # False when the images were already up to date

    def all(self) -> list[GuestImage]:
        return [self.kernel, self.ramdisk, self.disk_qcow2, self.disk_raw, self.rootfs_tar]


def ensure_images(
    out_dir: Path, progress: Progress = lambda message: None, epoch: int | None = None
) -> GuestImages:
    """Build the guest images into `out_dir` unless they are already current; safe to race."""
    epoch = source_date_epoch() if epoch is None else epoch
    out_dir.mkdir(parents=True, exist_ok=True)
    with _locked(out_dir / ".lock"):
        inputs = rootfs.find_inputs()
        digest = inputs_digest(inputs, epoch)
        current = _current(out_dir, digest)
        if current is not None:
            progress(f"guest images in {out_dir} are up to date")
            return current
        try:
            images = _build(out_dir, inputs, epoch, progress)
        except CommandFailed as exc:
            raise rootfs.BuildFailed(str(exc)) from exc
        manifest = {"inputs": digest, "kernel_version": inputs.kernel_version,
                    "images": [_image_record(image) for image in images.all()]}  # fmt: skip
        with archive.atomic_output(out_dir / MANIFEST) as partial:
            partial.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        progress(f"guest images ready in {out_dir}")
        return images


def source_date_epoch() -> int:
    return int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH))


def inputs_digest(inputs: rootfs.HostInputs, epoch: int) -> str:
    """What the images' bytes depend on: the host files, our scripts, the epoch, the format."""
    digest = hashlib.sha256(f"{BUILD_FORMAT}:{epoch}:{inputs.kernel_version}\n".encode())
    for path in inputs.files():
        digest.update(f"{path}\n".encode())
        digest.update(_file_sha256(path).encode())
    digest.update("\n".join(inputs.applets).encode())
    for source, target, mode in rootfs.SCRIPTS:
        digest.update(f"{source}:{target}:{mode:o}\n".encode() + rootfs.script_text(source))
    digest.update(json.dumps(rootfs.ETC, sort_keys=True).encode())
    return digest.hexdigest()


def _build(out_dir: Path, inputs: rootfs.HostInputs, epoch: int, progress: Progress) -> GuestImages:
    steps = 6
    with tempfile.TemporaryDirectory(prefix=".build-", dir=out_dir) as scratch:
        tree = Path(scratch) / "root"
        tree.mkdir()
        progress(f"[1/{steps}] staging the root tree: kernel {inputs.kernel_version}, "
                 f"{len(inputs.modules)} modules, busybox, dropbear")  # fmt: skip
        rootfs.stage(tree, inputs, epoch)
        entries = archive.tree_entries(tree)
        kernel = out_dir / f"{PREFIX}-vmlinuz"
        progress(f"[2/{steps}] kernel {kernel.name}")
        with archive.atomic_output(kernel) as partial:
            shutil.copyfile(inputs.kernel, partial)
        ramdisk = out_dir / f"{PREFIX}-initrd.gz"
        progress(f"[3/{steps}] initramfs {ramdisk.name} ({len(entries)} entries)")
        _write_gzipped(ramdisk, lambda out: archive.write_newc(entries, out, epoch))
        rootfs_tar = out_dir / f"{PREFIX}-rootfs.tar.gz"
        progress(f"[4/{steps}] container root {rootfs_tar.name}")
        _write_gzipped(rootfs_tar, lambda out: archive.write_tar(entries, out, epoch))
        disk_raw = out_dir / f"{PREFIX}.raw"
        progress(f"[5/{steps}] ext4 disk {disk_raw.name} ({DISK_SIZE_MB} MiB)")
        with archive.atomic_output(disk_raw) as partial:
            run(_as_root(e2fs.mkfs_ext4(partial, tree, DISK_SIZE_MB, FS_LABEL, FS_UUID, epoch)))
            paths = ["/", "/lost+found", *(f"/{entry.path}" for entry in entries)]
            run(e2fs.pin_times(partial, paths, epoch))
        disk_qcow2 = out_dir / f"{PREFIX}.qcow2"
        progress(f"[6/{steps}] qcow2 disk {disk_qcow2.name}")
        with archive.atomic_output(disk_qcow2) as partial:
            run(qemu_img.convert(disk_raw, partial, "raw", "qcow2"))
    return GuestImages(
        kernel_version=inputs.kernel_version,
        kernel=_describe("kernel", kernel),
        ramdisk=_describe("ramdisk", ramdisk),
        disk_qcow2=_describe("disk_qcow2", disk_qcow2),
        disk_raw=_describe("disk_raw", disk_raw),
        rootfs_tar=_describe("rootfs_tar", rootfs_tar),
        built=True,
    )


def _write_gzipped(target: Path, write: Callable[[BinaryIO], None]) -> None:
    with (
        archive.atomic_output(target) as partial,
        partial.open("wb") as raw_out,
        archive.gzip_writer(raw_out) as out,
    ):
        write(out)


def _as_root(command: Command) -> Command:
    """mke2fs copies owners from the tree: without root, fakeroot makes them root's."""
    if os.geteuid() == 0:
        return command
    return Command(("fakeroot", *command.argv), command.env, command.stdin)


_DISK_PROPERTIES = {
    "os_distro": "onestack",
    "os_type": "linux",
    "hw_disk_bus": "virtio",
    "hw_vif_model": "virtio",
    "os_command_line": COMMAND_LINE,
    # The compute scheduler boots an image that names a hypervisor type only on such a host.
    "hypervisor_type": "qemu",
}
_DISK_LINKS = {"kernel_id": "kernel", "ramdisk_id": "ramdisk"}
_ROOTFS_PROPERTIES = {
    "os_distro": "onestack",
    "os_type": "linux",
    "onestack_rootfs": "tar.gz",
    "onestack_init": "/sbin/onestack-init container",
    "hypervisor_type": "container",
}
# role -> (name, disk_format, container_format, min_ram_mb, min_disk_gb, properties, links)
_REGISTRATION: dict[str, tuple[str, str, str, int, int, dict[str, str], dict[str, str]]] = {
    "kernel": (f"{PREFIX}-kernel", "aki", "aki", 0, 0, {}, {}),
    "ramdisk": (f"{PREFIX}-ramdisk", "ari", "ari", 0, 0, {}, {}),
    "disk_qcow2": (PREFIX, "qcow2", "bare", 128, 1, _DISK_PROPERTIES, _DISK_LINKS),
    "disk_raw": (f"{PREFIX}-raw", "raw", "bare", 128, 1, _DISK_PROPERTIES, _DISK_LINKS),
    "rootfs_tar": (f"{PREFIX}-rootfs", "raw", "compressed", 32, 1, _ROOTFS_PROPERTIES, {}),
}


def _describe(role: str, path: Path, size_bytes: int = -1, sha256: str = "") -> GuestImage:
    """The image at `path` with its registration; size and checksum read unless given."""
    name, disk_format, container_format, min_ram, min_disk, properties, links = _REGISTRATION[role]
    return GuestImage(
        role=role,
        name=name,
        path=path,
        size_bytes=size_bytes if size_bytes >= 0 else path.stat().st_size,
        sha256=sha256 or _file_sha256(path),
        disk_format=disk_format,
        container_format=container_format,
        min_ram_mb=min_ram,
        min_disk_gb=min_disk,
        properties=dict(properties),
        links=dict(links),
    )


def _image_record(image: GuestImage) -> dict[str, object]:
    record = asdict(image)
    record["path"] = image.path.name
    return record


def _current(out_dir: Path, digest: str) -> GuestImages | None:
    """The images the manifest describes, if it was written for `digest` and they are intact."""
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("inputs") != digest:
        return None
    images = {}
    for record in manifest["images"]:
        path = out_dir / record["path"]
        if not path.is_file() or path.stat().st_size != record["size_bytes"]:
            return None
        # The registration comes from this code, not the manifest: it may have changed.
        images[record["role"]] = _describe(
            record["role"], path, record["size_bytes"], record["sha256"]
        )
    return GuestImages(kernel_version=manifest["kernel_version"], built=False, **images)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def _locked(lock_file: Path) -> Iterator[None]:
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
