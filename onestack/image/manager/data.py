"""Image data: streamed uploads into the store with their hashes, and ranged reads back.

An upload moves the image queued -> saving (atomically, so two uploads cannot race), streams
the body into a store writer while computing size, md5 and the configured secure hash, then
commits the data and marks the image active. Any failure before that, including the client
going away mid-body, aborts the write (no partial data) and puts the image back to queued.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import anyio.to_thread
from sqlalchemy import update

from onestack.common.bus import Notifier
from onestack.common.db import Database
from onestack.image import errors
from onestack.image.drivers import DataNotFound, ImageStore, StoreWriter
from onestack.image.manager.base import Caller, get_visible, notify, now
from onestack.image.manager.pipeline import HashingWriter
from onestack.image.manager.quota import ImageQuotas
from onestack.image.models import Image
from onestack.settings import ImageSettings


@dataclass(frozen=True)
class ImageData:
    """What a download returns: the image and its bytes in [start, end), or no data yet."""

    image: Image
    chunks: Iterator[bytes] | None
    start: int = 0
    end: int = 0


class DataManager:
    def __init__(
        self,
        db: Database,
        store: ImageStore,
        settings: ImageSettings,
        notifier: Notifier,
        quotas: ImageQuotas,
    ) -> None:
        self.db = db
        self.quotas = quotas
        self.store = store
        self.settings = settings
        self.notifier = notifier

    async def upload(
        self,
        caller: Caller,
        image_id: str,
        body: AsyncIterator[bytes],
        expected_bytes: int | None = None,
    ) -> Image:
        """Store `body` as the image's data; the image ends active, or queued on any failure.

        `expected_bytes` (the Content-Length, when sent) is claimed against the owner's
        image_size_total quota before anything is written.
        """
        self._start_saving(caller, image_id, expected_bytes)
        writer = self.store.writer(image_id)
        try:
            size, md5, secure = await self._stream(body, writer)
            # Committing may fsync a large file: off the event loop.
            location = await anyio.to_thread.run_sync(writer.commit)
        except BaseException:
            writer.abort()
            self._set_queued(image_id)
            raise
        return self._activate(caller, image_id, location, size, md5, secure)

    def download(
        self, caller: Caller, image_id: str, byte_range: tuple[int, int | None] | None
    ) -> ImageData:
        """The image's data (or the range [first, last] of it); chunks None when it has none."""
        with self.db.reader() as session:
            image = get_visible(session, caller, image_id)
        if image.status == "deactivated" and not caller.is_admin:
            raise errors.ImageDeactivated()
        if (
            image.location is None
            or image.size is None
            or image.status not in ("active", "deactivated")
        ):
            return ImageData(image, None)
        start, end = _bounds(byte_range, image.size)
        try:
            chunks = self.store.read(image.location, start, end)
        except DataNotFound as exc:
            raise errors.ImageNotFound(image_id) from exc
        return ImageData(image, chunks, start, end)

    def recover(self) -> None:
        """At start: uploads a crash interrupted go back to queued, partial data goes away."""
        self.store.discard_partial()
        with self.db.transaction() as session:
            session.execute(update(Image).where(Image.status == "saving").values(status="queued"))

    # -- steps ---------------------------------------------------------------------------

    def _start_saving(
        self, caller: Caller, image_id: str, expected_bytes: int | None = None
    ) -> None:
        with self.db.transaction() as session:
            image = get_visible(session, caller, image_id)
            if image.disk_format is None or image.container_format is None:
                raise errors.InvalidParameter(
                    "Properties disk_format, container_format must be set prior to saving data."
                )
            self.quotas.claim_upload(image.owner, expected_bytes)
            moved = session.execute(
                update(Image)
                .where(Image.image_id == image_id, Image.status == "queued")
                .values(status="saving", updated_at=now())
            ).rowcount
            if moved != 1:
                raise errors.InvalidImageStatusTransition(image.status, "saving")

    async def _stream(
        self, body: AsyncIterator[bytes], writer: StoreWriter
    ) -> tuple[int, str, str]:
        """Hash and write the body as it arrives; returns its size, md5 and secure hash."""
        pipeline = HashingWriter(writer, self.settings.hash_algo)
        size = 0
        try:
            async for chunk in body:
                size += len(chunk)
                if size > self.settings.image_size_cap_bytes:
                    raise errors.ImageTooLarge()
                await pipeline.add(chunk)
            md5, secure = await pipeline.finish()
        finally:
            pipeline.close()
        return size, md5, secure

    def _set_queued(self, image_id: str) -> None:
        with self.db.transaction() as session:
            session.execute(
                update(Image)
                .where(Image.image_id == image_id, Image.status == "saving")
                .values(status="queued", updated_at=now())
            )

    def _activate(
        self, caller: Caller, image_id: str, location: str, size: int, md5: str, secure: str
    ) -> Image:
        with self.db.transaction() as session:
            image = session.get(Image, image_id)
            if image is None or image.status != "saving":
                gone = True
            else:
                gone = False
                image.status = "active"
                image.size = size
                image.checksum = md5
                image.os_hash_algo = self.settings.hash_algo
                image.os_hash_value = secure
                image.store = self.store.store_id
                image.location = location
                image.updated_at = now()
        if gone:  # deleted while it was uploading: its data must not outlive it
            self.store.delete(location)
            raise errors.ImageNotFound(image_id)
        notify(self.notifier, caller, "upload", image)
        notify(self.notifier, caller, "activate", image)
        return image


def _bounds(byte_range: tuple[int, int | None] | None, size: int) -> tuple[int, int]:
    """[start, end) for a Range of (first, last) bytes; a suffix range has first < 0."""
    if byte_range is None:
        return 0, size
    first, last = byte_range
    if first < 0:  # bytes=-N: the last N bytes
        if size == 0 or first == 0:
            raise errors.RangeNotSatisfiable(size)
        return max(0, size + first), size
    if first >= size or (last is not None and last < first):
        raise errors.RangeNotSatisfiable(size)
    end = size if last is None else min(last + 1, size)
    return first, end
