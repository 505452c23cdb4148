"""The pure format inspector (image/manager/formats.py) over crafted headers."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator

import pytest

from onestack.image.errors import InvalidImageFormat
from onestack.image.manager import formats


def qcow2(version: int = 3, backing: int = 0, incompatible: int = 0) -> bytes:
    header = bytearray(512)
    struct.pack_into(">4sIQ", header, 0, b"QFI\xfb", version, backing)
    struct.pack_into(">Q", header, 72, incompatible)
    return bytes(header)


def vmdk(descriptor: str) -> bytes:
    head = bytearray(4096)
    struct.pack_into("<4sIIQQQQ", head, 0, b"KDMV", 1, 0, 2048, 128, 1, 4)
    text = descriptor.encode()
    head[512 : 512 + len(text)] = text
    return bytes(head)


SPARSE = 'createType="monolithicSparse"\nparentCID=ffffffff\nRW 2048 SPARSE "disk.vmdk"\n'


def iso() -> bytes:
    data = bytearray(0x9000)
    data[0x8001:0x8006] = b"CD001"
    return bytes(data)


@pytest.mark.parametrize(
    ("disk_format", "data"),
    [
        ("qcow2", qcow2(2)),
        ("qcow2", qcow2(3, incompatible=1)),  # dirty bit: harmless
        ("vmdk", vmdk(SPARSE)),
        ("vmdk", vmdk(SPARSE.replace("monolithicSparse", "streamOptimized"))),
        ("vhd", b"conectix" + bytes(120)),
        ("vhdx", b"vhdxfile" + bytes(100)),
        ("iso", iso()),
        ("raw", b"anything at all"),
        ("raw", iso()),  # an ISO is plain bytes to a hypervisor
        ("ami", b""),
        ("ploop", b"not checked"),
        ("qcow2", b""),  # empty data misleads no hypervisor
        (None, qcow2(backing=8)),  # no disk_format yet: nothing to compare against
    ],
)
def test_matching_and_safe_data_passes(disk_format: str | None, data: bytes) -> None:
    formats.check(disk_format, data)


@pytest.mark.parametrize(
    ("disk_format", "data", "reason"),
    [
        ("qcow2", b"x" * 1000, "not a qcow2"),
        ("qcow2", qcow2(backing=0x200), "backing file"),
        ("qcow2", qcow2(incompatible=4), "external data file"),
        ("qcow2", qcow2(version=9), "version 9"),
        ("qcow2", qcow2()[:40], "truncated"),
        ("raw", qcow2(), "qcow2 image, not raw"),
        ("aki", b"conectix" + bytes(100), "vhd image"),
        ("vmdk", vmdk(SPARSE.replace("monolithicSparse", "monolithicFlat")), "must be one of"),
        ("vmdk", vmdk(SPARSE + 'RW 10 FLAT "/etc/passwd" 0\n'), "SPARSE extents"),
        ("vmdk", vmdk(SPARSE.replace("ffffffff", "12345678")), "parent"),
        ("vmdk", b"# Disk DescriptorFile\n" + SPARSE.encode(), "not a vmdk"),
        ("vhd", b"conectix" + bytes(52) + struct.pack(">I", 4), "differencing"),
        ("iso", b"x" * 0x9000, "not a iso"),
        ("vdi", b"x" * 100, "not a vdi"),
    ],
)
def test_mismatched_or_unsafe_data_is_refused(disk_format: str, data: bytes, reason: str) -> None:
    with pytest.raises(InvalidImageFormat, match=reason):
        formats.check(disk_format, data)


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def _collect(body: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in body])


@pytest.mark.parametrize("chunk", [1, 4096, 1 << 20, 3 << 20])
def test_the_stream_passes_through_unchanged(chunk: int) -> None:
    data = qcow2() + b"y" * (3 << 20)
    assert asyncio.run(_collect(formats.inspected(_chunks(data, chunk), "qcow2"))) == data


def test_the_stream_is_refused_before_anything_past_the_head() -> None:
    seen: list[bytes] = []

    async def consume() -> None:
        data = qcow2(backing=0x200) + b"y" * (3 << 20)
        async for chunk in formats.inspected(_chunks(data, 4096), "qcow2"):
            seen.append(chunk)

    with pytest.raises(InvalidImageFormat):
        asyncio.run(consume())
    assert seen == []
