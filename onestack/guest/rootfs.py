"""The guest's root tree, staged from the build host's Debian packages: the kernel's modules
(linux-image), busybox (busybox-static), dropbear (dropbear-bin) and our own init scripts.

`find_inputs` reads the host (through oslib); `stage` writes the tree. Nothing is downloaded.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from onestack.oslib import busybox, kmod, ldd
from onestack.oslib.process import CommandFailed, run

# Loaded in this order at boot (each with its dependencies first): disks, network, ext4, the
# config drive (ISO 9660 or VFAT, on a virtio or IDE/SATA CD), entropy and the power button.
MODULES = (
    "virtio_pci", "virtio_blk", "virtio_net", "virtio_scsi", "virtio_rng", "ext4",
    "ata_piix", "sr_mod", "sd_mod", "isofs", "vfat", "nls_cp437", "nls_ascii", "nls_utf8",
    "button", "evdev",
)  # fmt: skip
PROGRAMS = {
    "usr/sbin/dropbear": "/usr/sbin/dropbear",
    "usr/bin/dropbearkey": "/usr/bin/dropbearkey",
}
BUSYBOX = Path("/bin/busybox")
DIRECTORIES = (
    "bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "run", "mnt", "newroot",
    "root", "etc/dropbear", "etc/acpi/PWRF", "lib/modules", "usr/share/udhcpc", "var/log",
)  # fmt: skip
# (package file, place in the guest, mode)
SCRIPTS = (
    ("init", "init", 0o755),
    ("onestack-init", "sbin/onestack-init", 0o755),
    ("udhcpc.script", "usr/share/udhcpc/default.script", 0o755),
    ("power-button", "etc/acpi/PWRF/00000080", 0o755),
    ("profile", "etc/profile", 0o644),
)
ETC = {
    "etc/passwd": ("root:x:0:0:root:/root:/bin/sh\n", 0o644),
    "etc/group": ("root:x:0:\n", 0o644),
    "etc/shadow": ("root:*:19000:0:99999:7:::\n", 0o600),
    "etc/shells": ("/bin/sh\n/bin/ash\n", 0o644),
    "etc/hostname": ("onestack\n", 0o644),
    "etc/hosts": ("127.0.0.1 localhost\n", 0o644),
    "etc/os-release": ('NAME="onestack guest"\nID=onestack\nPRETTY_NAME="onestack guest"\n', 0o644),
}


class BuildFailed(Exception):
    """The guest images could not be built; the message says why."""


class MissingInput(BuildFailed):
    """Something the build takes from the host is not installed; the message names the package."""


@dataclass(frozen=True)
class HostInputs:
    """Every host file the guest is made of; their bytes decide the images' bytes."""

    kernel_version: str
    kernel: Path
    modules: tuple[Path, ...]  # load order
    busybox: Path
    applets: tuple[str, ...]  # e.g. "sbin/acpid"
    programs: dict[str, Path]  # guest path -> host file
    libraries: tuple[Path, ...]  # what the programs link, kept at the same paths

    def files(self) -> list[Path]:
        return [self.kernel, *self.modules, self.busybox, *self.programs.values(), *self.libraries]


def find_kernel(boot: Path = Path("/boot"), modules_root: Path = Path("/lib/modules")) -> str:
    """The newest Debian kernel that has both a vmlinuz and its modules installed."""
    versions = [
        image.name.removeprefix("vmlinuz-")
        for image in boot.glob("vmlinuz-*")
        if (modules_root / image.name.removeprefix("vmlinuz-") / "modules.dep").exists()
    ]
    if not versions:
        raise MissingInput("no kernel in /boot with modules: apt-get install linux-image-amd64")
    return max(versions, key=version_key)


def version_key(version: str) -> tuple[int, ...]:
    """`6.1.0-56-amd64` -> (6, 1, 0, 56, 64): numeric parts compared as numbers."""
    return tuple(int(part) for part in re.findall(r"\d+", version))


def find_inputs() -> HostInputs:
    kernel_version = find_kernel()
    for path, package in ((BUSYBOX, "busybox-static"), *_program_packages()):
        if not Path(path).exists():
            raise MissingInput(f"{path} is missing: apt-get install {package}")
    if is_dynamic(BUSYBOX):
        raise MissingInput(f"{BUSYBOX} is dynamically linked: apt-get install busybox-static")
    try:
        modules = _module_files(kernel_version)
        applets = tuple(run(busybox.list_applets(BUSYBOX)).split())
        libraries = tuple(
            dict.fromkeys(
                Path(library)
                for program in PROGRAMS.values()
                for library in ldd.parse_ldd(run(ldd.ldd(Path(program))))
            )
        )
    except CommandFailed as exc:
        raise MissingInput(f"{exc} (apt-get install kmod busybox-static)") from exc
    return HostInputs(
        kernel_version=kernel_version,
        kernel=Path(f"/boot/vmlinuz-{kernel_version}"),
        modules=modules,
        busybox=BUSYBOX,
        applets=applets,
        programs={guest: Path(host) for guest, host in PROGRAMS.items()},
        libraries=libraries,
    )


def is_dynamic(program: Path) -> bool:
    """Whether an ELF executable names a program interpreter (PT_INTERP), i.e. needs ld.so."""
    with program.open("rb") as f:
        header = f.read(64)
        if header[:4] != b"\x7fELF" or header[4] != 2:  # 64-bit ELF only
            raise MissingInput(f"{program} is not a 64-bit ELF program")
        table = int.from_bytes(header[32:40], "little")
        entry_size = int.from_bytes(header[54:56], "little")
        count = int.from_bytes(header[56:58], "little")
        f.seek(table)
        entries = f.read(entry_size * count)
    pt_interp = 3
    return any(
        int.from_bytes(entries[i * entry_size : i * entry_size + 4], "little") == pt_interp
        for i in range(count)
    )


def _program_packages() -> list[tuple[str, str]]:
    return [(host, "dropbear-bin") for host in PROGRAMS.values()]


def _module_files(kernel_version: str) -> tuple[Path, ...]:
    ordered: dict[Path, None] = {}
    for module in MODULES:
        output = run(kmod.show_depends(kernel_version, module))
        ordered.update(dict.fromkeys(Path(path) for path in kmod.parse_show_depends(output)))
    return tuple(ordered)


def script_text(name: str) -> bytes:
    """One of the guest scripts shipped in this package (files/)."""
    return (resources.files("onestack.guest") / "files" / name).read_bytes()


def stage(tree: Path, inputs: HostInputs, epoch: int) -> None:
    """Write the guest's root tree into the empty directory `tree`, every time set to `epoch`."""
    for directory in DIRECTORIES:
        (tree / directory).mkdir(parents=True, exist_ok=True)
    _copy(inputs.busybox, tree / "bin/busybox", 0o755)
    for applet in inputs.applets:
        link = tree / applet
        if not link.exists() and applet != "bin/busybox":
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to("/bin/busybox")
    names = []
    for module in inputs.modules:
        _copy(module, tree / "lib/modules" / module.name, 0o644)
        names.append(module.name)
    _write(tree / "etc/modules.list", "".join(f"{name}\n" for name in names).encode(), 0o644)
    for guest_path, host_path in inputs.programs.items():
        _copy(host_path, tree / guest_path, 0o755)
    for library in inputs.libraries:
        _copy(library, tree / library.relative_to("/"), 0o755)
    for source, target, mode in SCRIPTS:
        _write(tree / target, script_text(source), mode)
    for target, (text, mode) in ETC.items():
        _write(tree / target, text.encode(), mode)
    release = f"kernel {inputs.kernel_version}\n".encode()
    _write(tree / "etc/onestack-guest", release, 0o644)
    for directory in [tree, *(path for path in tree.rglob("*") if path.is_dir())]:
        if not directory.is_symlink():
            directory.chmod(0o755)  # not the builder's umask
    (tree / "root").chmod(0o700)
    (tree / "tmp").chmod(0o1777)
    pin_tree_times(tree, epoch)


def pin_tree_times(tree: Path, epoch: int) -> None:
    for path in [tree, *tree.rglob("*")]:
        os.utime(path, (epoch, epoch), follow_symlinks=False)


def _copy(source: Path, target: Path, mode: int) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)  # follows symlinks: the guest gets the real file
    target.chmod(mode)


def _write(target: Path, data: bytes, mode: int) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    target.chmod(mode)
