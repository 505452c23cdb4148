"""Staging (PUT /v2/images/{id}/stage): image data parked outside every store until imported.

The image moves queued -> uploading atomically; the body streams into the staging store
(hashed on the way, as uploads are, though only its size is kept); on any failure the staged
data goes away and the image is queued again. `image_stage_total` is claimed against the
Content-Length before anything is written and checked again once the size is known. A stage
is work owned by this process (`image.stage`); a dead owner's goes back to queued (`put_back`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio.to_thread
from sqlalchemy import update

from onestack.common.errors import OneStackError
from onestack.common.ownership import Work, WorkInProgress, work_id
from onestack.image import errors
from onestack.image.manager.base import Caller, ImageBase, ImageDeps, get_visible, now
from onestack.image.manager.data import DataManager
from onestack.image.models import Image

STAGE = "image.stage"


class StagingManager(ImageBase):
    def __init__(self, deps: ImageDeps, data: DataManager) -> None:
        super().__init__(deps)
        self.data = data

    async def stage(
        self,
        caller: Caller,
        image_id: str,
        body: AsyncIterator[bytes],
        expected_bytes: int | None = None,
        declared_size: int | None = None,
    ) -> None:
        """Stage `body` for `image_id`; it ends uploading with the data staged, or queued.

        `declared_size` (X-OpenStack-Image-Size) must match what arrives (400 otherwise).
        """
        owner = self._start_staging(caller, image_id, expected_bytes)
        writer = self.stores.staging.writer(image_id, self.ownership.owner_id)
        try:
            size, _, _ = await self.data._stream(body, writer)
            if declared_size is not None and size != declared_size:
                raise errors.InvalidParameter(
                    f"The staged data is {size} bytes, not the {declared_size} bytes the "
                    "X-OpenStack-Image-Size header announced."
                )
            location = await anyio.to_thread.run_sync(writer.commit)
        except BaseException:
            writer.abort()
            self._unstage(image_id, None)
            raise
        self._staged(image_id, location, size)
        try:
            self.quotas.recheck_stage(owner)
        except OneStackError:
            self._unstage(image_id, location)
            raise

    def _start_staging(
        self, caller: Caller, image_id: str, expected_bytes: int | None
    ) -> str | None:
        with self.writing() as session:
            image = get_visible(session, caller, image_id)
            self.quotas.claim_stage(image.owner, expected_bytes)
            moved = session.execute(
                update(Image)
                .where(Image.image_id == image_id, Image.status == "queued")
                .values(status="uploading", updated_at=now())
            ).rowcount
            if moved != 1:
                raise errors.InvalidImageStatusTransition(image.status, "uploading")
            try:
                self.ownership.claim(session, STAGE, image_id)
            except WorkInProgress as exc:
                raise errors.InvalidImageStatusTransition(image.status, "uploading") from exc
            return image.owner

    def _staged(self, image_id: str, location: str, size: int) -> None:
        with self.writing() as session:
            self.ownership.release(work_id(STAGE, image_id), session)
            image = session.get(Image, image_id)
            if image is not None and image.status == "uploading":
                image.stage_location = location
                image.size = size
                image.updated_at = now()
                return
        # Deleted while it was staging: its data must not outlive it.
        self.stores.staging.delete(location)
        raise errors.ImageNotFound(image_id)

    def _unstage(self, image_id: str, location: str | None) -> None:
        """Back to queued without staged data (after a failed or refused stage)."""
        with self.writing() as session:
            self.ownership.release(work_id(STAGE, image_id), session)
            session.execute(
                update(Image)
                .where(Image.image_id == image_id, Image.status == "uploading")
                .values(status="queued", stage_location=None, size=None, updated_at=now())
            )
        if location is not None:
            self.stores.staging.delete(location)

    def put_back(self, work: Work) -> None:
        """A stage whose process died before the data was staged: back to queued."""
        with self.writing() as session:
            session.execute(
                update(Image)
                .where(
                    Image.image_id == work.resource_id,
                    Image.status == "uploading",
                    Image.stage_location.is_(None),
                )
                .values(status="queued", size=None, updated_at=now())
            )
