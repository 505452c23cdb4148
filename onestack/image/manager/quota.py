"""Per-project image quotas over unified limits (Glance's resource names).

    image_count_total       images a project owns
    image_count_uploading   uploads, stages and imports in progress at once
    image_size_total        MiB of image data a project stores (once per store holding it)
    image_stage_total       MiB of data a project has staged or is importing/copying

Limits come from identity through `common.quota.Quotas`; usage is counted here from image's
own tables. Without a limit source (or for images without an owner) nothing is enforced.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import exists, func, select

from onestack.common.db import Database
from onestack.common.quota import Quotas
from onestack.image.models import Image, ImageLocation, ImageProperty

SERVICE = "image"
MIB = 1 << 20
IN_PROGRESS = ("saving", "uploading", "importing")
STAGING = ("uploading", "importing")
IMPORTING_TO = "os_glance_importing_to_stores"
# What /v2/info/usage reports, in Glance's order.
RESOURCES = ["image_size_total", "image_count_total", "image_stage_total", "image_count_uploading"]


def _mib(size_bytes: int | None) -> int:
    return -(-(size_bytes or 0) // MIB)


class ImageQuotas:
    def __init__(self, db: Database, quotas: Quotas | None) -> None:
        self.db = db
        self.quotas = quotas

    def claim_image(self, owner: str | None) -> None:
        """Before creating an image for `owner` (OverQuota, 413, when over)."""
        self._enforce(owner, {"image_count_total": 1})

    def recheck_images(self, owner: str | None) -> None:
        """After creating one: concurrent creates may have passed the limit together."""
        self._enforce(owner, {"image_count_total": 0})

    def claim_upload(self, owner: str | None, expected_bytes: int | None) -> None:
        """Before an upload of `expected_bytes` (when the client said) starts."""
        deltas = {"image_count_uploading": 1, "image_size_total": _mib(expected_bytes)}
        self._enforce(owner, deltas)

    def size_standing(self, owner: str | None) -> tuple[int, int] | None:
        """(limit, usage) in MiB of the owner's image_size_total, None when unlimited: caps
        uploads whose size the client did not say."""
        if self.quotas is None or owner is None:
            return None
        return self.quotas.standing(owner, SERVICE, "image_size_total", self.usage)

    def report(self, project_id: str) -> dict[str, dict[str, int]]:
        """Limit and usage of every image resource for the project (-1: unlimited)."""
        if self.quotas is None:
            limits = dict.fromkeys(RESOURCES, -1)
        else:
            limits = self.quotas.limits(project_id, SERVICE, RESOURCES)
        used = self.usage(project_id, RESOURCES)
        return {name: {"limit": limits[name], "usage": used.get(name, 0)} for name in RESOURCES}

    def claim_stage(self, owner: str | None, expected_bytes: int | None) -> None:
        """Before staging `expected_bytes` (when the client said)."""
        deltas = {"image_count_uploading": 1, "image_stage_total": _mib(expected_bytes)}
        self._enforce(owner, deltas)

    def recheck_stage(self, owner: str | None) -> None:
        """After staging: a body without a length (or concurrent stages) may be over."""
        self._enforce(owner, {"image_stage_total": 0})

    def claim_import(self, owner: str | None, stored_bytes: int, staged_bytes: int) -> None:
        """Before an import writes `stored_bytes` into stores (one copy per store), using
        `staged_bytes` of staging space (a copy-image stages the data it copies)."""
        deltas = {"image_size_total": _mib(stored_bytes)}
        if staged_bytes:
            deltas.update(image_stage_total=_mib(staged_bytes), image_count_uploading=1)
        self._enforce(owner, deltas)

    def usage(self, project_id: str, names: list[str]) -> dict[str, int]:
        owned = Image.owner == project_id
        copying = exists().where(
            ImageProperty.image_id == Image.image_id,
            ImageProperty.name == IMPORTING_TO,
            ImageProperty.value != "",
        )
        counts = {
            "image_count_total": select(func.count()).where(owned),
            "image_count_uploading": select(func.count()).where(
                owned, Image.status.in_(IN_PROGRESS) | copying
            ),
            "image_size_total": select(func.coalesce(func.sum(Image.size), 0))
            .join(ImageLocation, ImageLocation.image_id == Image.image_id)
            .where(owned),
            "image_stage_total": select(func.coalesce(func.sum(Image.size), 0)).where(
                owned, Image.status.in_(STAGING) | copying
            ),
        }
        with self.db.reader() as session:
            used = {
                name: int(session.scalar(counts[name]) or 0) for name in names if name in counts
            }
        for name in ("image_size_total", "image_stage_total"):
            if name in used:
                used[name] = _mib(used[name])
        return used

    def _enforce(self, owner: str | None, deltas: Mapping[str, int]) -> None:
        if self.quotas is None or owner is None:
            return
        self.quotas.enforce(owner, SERVICE, deltas, self.usage)
