"""The other services compute calls, as compute sees them (docs: /work/notes/interfaces.md):
the image service (what a server boots), the network service (its ports) and placement (where
it fits). Each is a Protocol over the other service's public manager, with plain dicts, so the
call can become a REST call when services split.

When a cloud runs without the network service or without placement, the stand-ins here keep
compute working: `NoNetwork` serves only `"none"` (and `"auto"` with nothing to allocate), and
`NoPlacement` offers every registered node without accounting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.errors import BadRequest
from onestack.compute.models import ComputeNode


@dataclass(frozen=True)
class BootSource:
    """What compute needs to know of an image to boot it."""

    image_id: str
    status: str
    disk_format: str
    container_format: str
    min_ram_mb: int
    min_disk_gb: int
    properties: dict[str, str] = field(default_factory=dict)


class ImageLookup(Protocol):
    def __call__(self, ctx: RequestContext, image_id: str) -> BootSource | None:
        """The image as the caller sees it; None when it does not exist for them."""
        ...


class ImageFiles(Protocol):
    def fetch(self, ctx: RequestContext, image_id: str, dest: Path) -> BootSource:
        """Write the image's data to `dest` (as the caller may download it); its facts."""
        ...


class NetworkPeer(Protocol):
    def validate_requests(
        self, ctx: RequestContext | None, requests: Any, project_id: str
    ) -> None: ...

    def allocate_for_server(
        self,
        ctx: RequestContext | None,
        server_id: str,
        project_id: str,
        host: str,
        requests: Any,
        security_groups: list[str],
    ) -> list[dict[str, Any]]: ...

    def deallocate_for_server(self, server_id: str) -> None: ...

    def plug_vifs(self, server_id: str, timeout_s: float) -> list[dict[str, Any]]: ...

    def addresses_for(
        self, server_ids: list[str]
    ) -> dict[str, dict[str, list[dict[str, Any]]]]: ...

    def ports_of(self, server_id: str) -> list[dict[str, Any]]: ...


class PlacementPeer(Protocol):
    def ensure_provider(self, uuid: str, name: str, inventories: dict[str, dict]) -> None: ...

    def candidates(self, resources: dict[str, int]) -> list[str]: ...

    def claim(
        self,
        consumer_id: str,
        provider_uuid: str,
        resources: dict[str, int],
        project_id: str,
        user_id: str,
    ) -> bool: ...

    def release(self, consumer_id: str) -> None: ...


class NoNetwork:
    """A cloud without the network service: servers have no ports."""

    def validate_requests(self, ctx: RequestContext | None, requests: Any, project_id: str) -> None:
        if requests not in ("none", "auto"):
            raise BadRequest("This cloud runs no network service: use networks 'none'.")

    def allocate_for_server(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        return []

    def deallocate_for_server(self, server_id: str) -> None:
        return None

    def plug_vifs(self, server_id: str, timeout_s: float) -> list[dict[str, Any]]:
        return []

    def addresses_for(self, server_ids: list[str]) -> dict[str, dict[str, list[dict[str, Any]]]]:
        return {}

    def ports_of(self, server_id: str) -> list[dict[str, Any]]:
        return []


class NoPlacement:
    """A cloud without placement: every registered node is a candidate, claims always fit."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def ensure_provider(self, uuid: str, name: str, inventories: dict[str, dict]) -> None:
        return None

    def candidates(self, resources: dict[str, int]) -> list[str]:
        with self.db.reader() as session:
            return list(session.scalars(select(ComputeNode.uuid).order_by(ComputeNode.node_id)))

    def claim(
        self,
        consumer_id: str,
        provider_uuid: str,
        resources: dict[str, int],
        project_id: str,
        user_id: str,
    ) -> bool:
        return True

    def release(self, consumer_id: str) -> None:
        return None


class GlanceImages:
    """`ImageLookup` over the image service's public manager, as the caller sees images."""

    def __init__(self, images: Any) -> None:
        self.images = images

    def __call__(self, ctx: RequestContext, image_id: str) -> BootSource | None:
        from onestack.image.errors import ImageNotFound
        from onestack.image.manager import Caller

        try:
            image = self.images.images.get(Caller(ctx, False), image_id)
        except ImageNotFound:
            return None
        return BootSource(
            image_id=image.image_id,
            status=image.status,
            disk_format=image.disk_format or "",
            container_format=image.container_format or "",
            min_ram_mb=image.min_ram or 0,
            min_disk_gb=image.min_disk or 0,
            properties={p.name: p.value for p in image.properties},
        )

    def fetch(self, ctx: RequestContext, image_id: str, dest: Path) -> BootSource:
        """The image's data written to `dest`, read through the image service's download (the
        caller must be allowed to download it); LookupError when it is gone or has no data."""
        from onestack.image.manager import Caller

        source = self(ctx, image_id)
        if source is None:
            raise LookupError(f"Image {image_id} could not be found.")
        data = self.images.data.download(Caller(ctx, False), image_id, None)
        if data.chunks is None:
            raise LookupError(f"Image {image_id} has no data.")
        with dest.open("wb") as out:
            for chunk in data.chunks:
                out.write(chunk)
        return source
