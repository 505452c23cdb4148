"""What the image managers share: their base and dependencies (on `common.manager`), the
caller, visibility, the clock and Glance's notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.manager import Deps, Manager
from onestack.common.ownership import Ownership
from onestack.image import errors
from onestack.image.manager.quota import ImageQuotas
from onestack.image.manager.stores import StoreSet
from onestack.image.models import Image, ImageMember
from onestack.settings import ImageSettings


@dataclass(frozen=True)
class ImageDeps(Deps):
    """What every image manager is built over."""

    settings: ImageSettings
    stores: StoreSet
    quotas: ImageQuotas
    # This process as the owner of the uploads, stages and imports it runs.
    ownership: Ownership


class ImageBase(Manager[ImageDeps]):
    """Base of the image resource managers."""

    def __init__(self, deps: ImageDeps) -> None:
        super().__init__(deps)
        self.settings = deps.settings
        self.stores = deps.stores
        self.quotas = deps.quotas
        self.ownership = deps.ownership

    def notify(self, caller: Caller | None, event: str, image: Image, **extra: Any) -> None:
        """image.<event> after the commit, with the initiator (and `extra` payload fields)."""
        body = payload(image)
        body.update(extra)
        body["initiator"] = caller.ctx.initiator() if caller else None
        self.notifier.info(f"image.{event}", body)


@dataclass(frozen=True)
class Caller:
    """Who asks: their context, and whether policy makes them an image administrator."""

    ctx: RequestContext
    is_admin: bool = False

    @property
    def project_id(self) -> str | None:
        return self.ctx.project_id


def owns(caller: Caller, image: Image) -> bool:
    return image.owner is not None and image.owner == caller.project_id


def can_see(session: Session, caller: Caller, image: Image) -> bool:
    """Glance's visibility: admins see all; others their own, public and community images,
    and shared images their project is a member of (whatever the member's status)."""
    if caller.is_admin or image.visibility in ("public", "community") or owns(caller, image):
        return True
    if image.visibility != "shared" or caller.project_id is None:
        return False
    return session.get(ImageMember, (image.image_id, caller.project_id)) is not None


def get_visible(session: Session, caller: Caller, image_id: str) -> Image:
    """The image if the caller may see it; ImageNotFound otherwise (never 403: no leaks)."""
    image = session.get(Image, image_id)
    if image is None or not can_see(session, caller, image):
        raise errors.ImageNotFound(image_id)
    return image


def now() -> datetime:
    """UTC now, naive, as every timestamp column holds it."""
    return datetime.now(UTC).replace(tzinfo=None)


def payload(image: Image) -> dict[str, Any]:
    """The notification payload for an image (Glance's image.* payload fields)."""
    return {
        "id": image.image_id,
        "name": image.name,
        "status": image.status,
        "visibility": image.visibility,
        "owner": image.owner,
        "protected": image.protected,
        "size": image.size,
        "checksum": image.checksum,
        "disk_format": image.disk_format,
        "container_format": image.container_format,
        "min_disk": image.min_disk,
        "min_ram": image.min_ram,
        "tags": [t.tag for t in image.tags],
        "properties": {p.name: p.value for p in image.properties},
        "created_at": image.created_at.isoformat(),
        "updated_at": image.updated_at.isoformat(),
    }
