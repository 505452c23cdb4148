"""Registers the built guest images as public images, through the image service's manager.

Runs as `onestack images register` (which `onestack up` starts in the background): build or
confirm the images, then make sure each one is an active public image owned by the admin
project. An image already registered with the same content (its sha256 is kept in the
`onestack_guest_sha256` property) is reused, so a restart registers nothing twice; a rebuilt
image is registered anew and links (kernel_id, ramdisk_id) point at the new kernel and ramdisk.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from onestack.common.context import RequestContext
from onestack.guest.build import GuestImage, GuestImages
from onestack.identity.manager import IdentityManager
from onestack.image.manager import Caller, ImageManager, ListQuery

CHUNK_BYTES = 1 << 20
CONTENT_PROPERTY = "onestack_guest_sha256"

Progress = Callable[[str], None]


def admin_caller(identity: IdentityManager) -> Caller:
    """The bootstrap admin on the bootstrap admin project: the owner of the cloud's own images."""
    admin = identity.cloud_admin()
    ctx = RequestContext(
        user_id=admin.user_id,
        user_domain_id=admin.user_domain_id,
        roles=frozenset({"admin", "member", "reader"}),
        project_id=admin.project_id,
        project_domain_id=admin.project_domain_id,
        is_admin_project=True,
    )
    return Caller(ctx=ctx, is_admin=True)


def publish(
    images: GuestImages, manager: ImageManager, caller: Caller, progress: Progress
) -> dict[str, str]:
    """Register every guest image (kernel and ramdisk first); returns role -> image id."""
    ids: dict[str, str] = {}
    for image in images.all():  # kernel and ramdisk come first: the disks link to them
        links = {prop: ids[role] for prop, role in image.links.items()}
        ids[image.role] = _ensure(image, links, manager, caller, progress)
    return ids


def _ensure(
    image: GuestImage,
    links: dict[str, str],
    manager: ImageManager,
    caller: Caller,
    progress: Progress,
) -> str:
    existing = _registered(image, links, manager, caller)
    if existing is not None:
        progress(f"image {image.name} is registered ({existing})")
        return existing
    attributes = {
        "name": image.name,
        "disk_format": image.disk_format,
        "container_format": image.container_format,
        "visibility": "public",
        "min_ram": image.min_ram_mb,
        "min_disk": image.min_disk_gb,
        **image.properties,
        **links,
        CONTENT_PROPERTY: image.sha256,
    }
    record = manager.images.create(caller, attributes)
    progress(f"uploading {image.name} ({image.size_bytes / 2**20:.1f} MiB)")
    asyncio.run(manager.data.upload(caller, record.image_id, _chunks(image.path), image.size_bytes))
    progress(f"image {image.name} registered ({record.image_id})")
    return record.image_id


def _registered(
    image: GuestImage, links: dict[str, str], manager: ImageManager, caller: Caller
) -> str | None:
    wanted = {CONTENT_PROPERTY: image.sha256, **links}
    query = ListQuery(equals={"name": [image.name]}, properties=wanted, limit=1000)
    for found in manager.images.list(caller, query):
        if found.status == "active" and found.owner == caller.project_id:
            return found.image_id
    return None


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            yield chunk
