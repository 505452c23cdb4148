"""Image format inspection: does an upload's content match its disk_format, and is it safe
for a hypervisor to open?

Pure code over the first `HEAD_BYTES` of the data. A format with metadata is recognised by its
signature (qcow2 `QFI\\xfb` at 0, VMDK `KDMV` at 0, VHD `conectix` at 0, VHDX `vhdxfile` at 0,
VDI's magic at 0x40, ISO 9660 `CD001` at 0x8001). Refused, with the reason:

- content that does not carry the signature its disk_format promises;
- raw (and ami/ari/aki, which are raw to a hypervisor) that carries another format's
  signature: a hypervisor told "raw" might still be made to read it as that format;
- a qcow2 that names a backing file, or says its data is in an external file (incompatible
  feature bit 2): either would make the hypervisor open a file on the host;
- a VMDK that is not one self-contained sparse file (createType monolithicSparse or
  streamOptimized, SPARSE extents only, no parent), and a differencing VHD.

ploop and any format this module does not know are accepted unchecked, and so is empty data.
"""

from __future__ import annotations

import re
import struct
from collections.abc import AsyncIterator

from onestack.image.errors import InvalidImageFormat

HEAD_BYTES = 1 << 20
SECTOR = 512
QCOW2_MAGIC = b"QFI\xfb"
QCOW2_DATA_FILE = 1 << 2
VMDK_MAGIC = b"KDMV"
VMDK_TYPES = ("monolithicSparse", "streamOptimized")
VDI_MAGIC = 0xBEDA107F
VHD_DIFFERENCING = 4
RAW_LIKE = ("raw", "ami", "ari", "aki")


# The data does not match its disk_format, or is not safe to use (a 400).
FormatRefused = InvalidImageFormat


def detect(head: bytes) -> str | None:
    """The format whose signature `head` carries (None: none known, raw to a hypervisor)."""
    signatures = {
        "qcow2": head[:4] == QCOW2_MAGIC,
        "vmdk": head[:4] == VMDK_MAGIC,
        "vhd": head[:8] == b"conectix",
        "vhdx": head[:8] == b"vhdxfile",
        "vdi": len(head) >= 0x44 and struct.unpack_from("<I", head, 0x40)[0] == VDI_MAGIC,
        "iso": head[0x8001:0x8006] == b"CD001",
    }
    found = [name for name, matches in signatures.items() if matches]
    return found[0] if found else None


def check(disk_format: str | None, head: bytes) -> None:
    """Refuse `head` (the data's first bytes, or all of it) for `disk_format`."""
    # Empty data is nothing a hypervisor can be misled by (and what a CLI sends when it
    # creates an image without data and its standard input is not a terminal).
    if not head or disk_format is None or disk_format not in (*RAW_LIKE, *CHECKS):
        return
    found = detect(head)
    if disk_format in RAW_LIKE:
        # An ISO is plain bytes to a hypervisor: raw may hold one.
        if found not in (None, "iso"):
            raise FormatRefused(f"The data is a {found} image, not {disk_format}.")
        return
    if found != disk_format:
        raise FormatRefused(f"The data is not a {disk_format} image.")
    CHECKS[disk_format](head)


def _qcow2(head: bytes) -> None:
    if len(head) < 72:
        raise FormatRefused("The qcow2 header is truncated.")
    version, backing_offset = struct.unpack_from(">IQ", head, 4)
    if version not in (2, 3):
        raise FormatRefused(f"qcow2 version {version} is not supported.")
    if backing_offset != 0:
        raise FormatRefused("A qcow2 image with a backing file is not allowed.")
    if version == 3:
        if len(head) < 80:
            raise FormatRefused("The qcow2 header is truncated.")
        (incompatible,) = struct.unpack_from(">Q", head, 72)
        if incompatible & QCOW2_DATA_FILE:
            raise FormatRefused("A qcow2 image with an external data file is not allowed.")


def _vmdk(head: bytes) -> None:
    if len(head) < 512:
        raise FormatRefused("The VMDK header is truncated.")
    version, _flags, _capacity, _grain = struct.unpack_from("<IIQQ", head, 4)
    offset, size = struct.unpack_from("<QQ", head, 28)
    if version not in (1, 2, 3):
        raise FormatRefused(f"VMDK version {version} is not supported.")
    start, end = offset * SECTOR, (offset + size) * SECTOR
    if offset == 0 or size == 0 or end > len(head):
        raise FormatRefused("The VMDK has no embedded descriptor within the first MiB.")
    descriptor = head[start:end].split(b"\0", 1)[0].decode("ascii", errors="replace")
    _vmdk_descriptor(descriptor)


def _vmdk_descriptor(text: str) -> None:
    create_type = re.search(r'^\s*createType\s*=\s*"?([A-Za-z]+)"?', text, re.MULTILINE)
    if create_type is None or create_type.group(1) not in VMDK_TYPES:
        raise FormatRefused(f"A VMDK must be one of {', '.join(VMDK_TYPES)}.")
    parent = re.search(r'^\s*parentCID\s*=\s*"?([0-9a-fA-F]+)"?', text, re.MULTILINE)
    if parent is not None and parent.group(1).lower() != "ffffffff":
        raise FormatRefused("A VMDK with a parent disk is not allowed.")
    if re.search(r"^\s*parentFileNameHint\s*=", text, re.MULTILINE):
        raise FormatRefused("A VMDK with a parent disk is not allowed.")
    extents = re.findall(r"^\s*(?:RW|RDONLY|NOACCESS)\s+\d+\s+(\w+)", text, re.MULTILINE)
    if any(kind != "SPARSE" for kind in extents):
        raise FormatRefused("A VMDK may only have SPARSE extents in the file itself.")


def _vhd(head: bytes) -> None:
    if len(head) < 64:
        raise FormatRefused("The VHD footer is truncated.")
    (disk_type,) = struct.unpack_from(">I", head, 60)
    if disk_type == VHD_DIFFERENCING:
        raise FormatRefused("A differencing VHD (with a parent disk) is not allowed.")


def _nothing_more(head: bytes) -> None:
    """The signature is all this format is checked for."""


CHECKS = {
    "qcow2": _qcow2,
    "vmdk": _vmdk,
    "vhd": _vhd,
    "vhdx": _nothing_more,
    "vdi": _nothing_more,
    "iso": _nothing_more,
}


async def inspected(body: AsyncIterator[bytes], disk_format: str | None) -> AsyncIterator[bytes]:
    """`body` passed through, checked (FormatRefused) once its first `HEAD_BYTES` are in, or
    at its end when shorter; nothing is yielded past the head before it passed."""
    head = bytearray()
    checked = False
    async for chunk in body:
        if not checked:
            head += chunk
            if len(head) < HEAD_BYTES:
                continue
            check(disk_format, bytes(head))
            checked = True
            chunk, head = bytes(head), bytearray()
        yield chunk
    if not checked:
        check(disk_format, bytes(head))
        if head:
            yield bytes(head)
