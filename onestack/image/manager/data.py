"""Image data: streamed uploads into the store with their hashes, and ranged reads back.

An upload moves the image queued -> saving (atomically, so two uploads cannot race), streams
the body into a store writer while computing size, md5 and the configured secure hash, then
commits the data and marks the image active. Any failure before that, including the client
going away mid-body, aborts the write (no partial data) and puts the image back to queued.
The upload is work owned by this process (`common.ownership`, kind `image.upload`): if the
process dies, whoever reaps it puts the image back to queued (`put_back`) and removes the
partial data that carries this process's owner id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import anyio.to_thread
from sqlalchemy import update

from onestack.common.bus import Notifier
from onestack.common.ownership import Work, WorkInProgress, work_id
from onestack.common.quota import Overage, OverQuota
from onestack.image import errors
from onestack.image.drivers import DataNotFound, StoreWriter
from onestack.image.manager import formats
from onestack.image.manager.base import Caller, ImageBase, get_visible, now
from onestack.image.manager.pipeline import HashingWriter
from onestack.image.manager.quota import MIB
from onestack.image.models import Image, ImageLocation

UPLOAD = "image.upload"


@dataclass(frozen=True)
class ImageData:
    """What a download returns: the image and its bytes in [start, end), or no data yet."""

    image: Image
    chunks: Iterator[bytes] | None
    start: int = 0
    end: int = 0


class DataManager(ImageBase):
    async def upload(
        self,
        caller: Caller,
        image_id: str,
        body: AsyncIterator[bytes],
        expected_bytes: int | None = None,
        store_id: str | None = None,
    ) -> Image:
        """Store `body` as the image's data; the image ends active, or queued on any failure.

        `expected_bytes` (the Content-Length, when sent) is claimed against the owner's
        image_size_total quota before anything is written. The data goes to `store_id`
        (X-Image-Meta-Store; UnknownStore when not configured), else the default store.
        """
        store_id = store_id or self.stores.default_id
        store = self.stores.find(store_id)
        if store is None:
            raise errors.UnknownStore(store_id)
        image = self._start_saving(caller, image_id, expected_bytes)
        self.notify(caller, "prepare", image, backend=store_id)
        writer = store.writer(image_id, self.ownership.owner_id)
        try:
            if expected_bytes is None:
                body = self._within_quota(body, image.owner)
            body = self.inspecting(body, image.disk_format)
            size, md5, secure = await self._stream(body, writer)
            # Committing may fsync a large file: off the event loop.
            location = await anyio.to_thread.run_sync(writer.commit)
        except BaseException:
            writer.abort()
            self._set_queued(image_id)
            raise
        return self._activate(caller, image_id, store_id, location, size, md5, secure)

    def inspecting(
        self, body: AsyncIterator[bytes], disk_format: str | None
    ) -> AsyncIterator[bytes]:
        """`body`, refused (InvalidImageFormat) if it does not match `disk_format` or is
        unsafe, when `[image] format_enforcement` is on (`formats.py`)."""
        if not self.settings.format_enforcement:
            return body
        return formats.inspected(body, disk_format)

    def download(
        self,
        caller: Caller,
        image_id: str,
        byte_range: tuple[int, int | None] | None,
        destination_ip: str | None = None,
    ) -> ImageData:
        """The image's data (or the range [first, last] of it); chunks None when it has none.

        Once the chunks are consumed (or dropped, when the client goes away) image.send
        reports the bytes that went out."""
        with self.db.reader() as session:
            image = get_visible(session, caller, image_id)
        if image.status == "deactivated" and not caller.is_admin:
            raise errors.ImageDeactivated()
        if (
            not image.locations
            or image.size is None
            or image.status not in ("active", "deactivated")
        ):
            return ImageData(image, None)
        start, end = _bounds(byte_range, image.size)
        chunks = self._read_any(image, start, end)
        sent = SendReport(self.notifier, caller, image, destination_ip)
        return ImageData(image, sent.count(chunks), start, end)

    def _read_any(self, image: Image, start: int, end: int) -> Iterator[bytes]:
        """The data from the first store that has it (a store may have been unconfigured)."""
        for row in image.locations:
            store = self.stores.find(row.store_id)
            if store is None:
                continue
            try:
                return store.read(row.location, start, end)
            except DataNotFound:
                continue
        raise errors.ImageNotFound(image.image_id)

    def put_back(self, work: Work) -> None:
        """An upload whose process died: the image goes back to queued (its partial data goes
        with its owner, `discard_partial`)."""
        with self.writing() as session:
            session.execute(
                update(Image)
                .where(Image.image_id == work.resource_id, Image.status == "saving")
                .values(status="queued", updated_at=now())
            )

    def discard_partial(self, owner_id: str) -> None:
        """The partial data of a process that is gone, in every store."""
        for store in self.stores.all():
            store.discard_partial(owner_id)

    # -- steps ---------------------------------------------------------------------------

    def _start_saving(
        self, caller: Caller, image_id: str, expected_bytes: int | None = None
    ) -> Image:
        """queued -> saving; returns the image."""
        with self.writing() as session:
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
            try:
                self.ownership.claim(session, UPLOAD, image_id)
            except WorkInProgress as exc:
                raise errors.InvalidImageStatusTransition(image.status, "saving") from exc
            return image

    async def _within_quota(
        self, body: AsyncIterator[bytes], owner: str | None
    ) -> AsyncIterator[bytes]:
        """The body, cut off with OverQuota once it passes the owner's image_size_total."""
        standing = self.quotas.size_standing(owner)
        if standing is None:
            async for chunk in body:
                yield chunk
            return
        limit, used = standing
        headroom, received = (limit - used) * MIB, 0
        async for chunk in body:
            received += len(chunk)
            if received > headroom:
                wanted = -(-received // MIB)
                raise OverQuota(owner or "", [Overage("image_size_total", limit, used, wanted)])
            yield chunk

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
            await pipeline.close()
        return size, md5, secure

    def _set_queued(self, image_id: str) -> None:
        with self.writing() as session:
            session.execute(
                update(Image)
                .where(Image.image_id == image_id, Image.status == "saving")
                .values(status="queued", updated_at=now())
            )
            self.ownership.release(work_id(UPLOAD, image_id), session)

    def _activate(
        self,
        caller: Caller,
        image_id: str,
        store_id: str,
        location: str,
        size: int,
        md5: str,
        secure: str,
    ) -> Image:
        with self.writing() as session:
            self.ownership.release(work_id(UPLOAD, image_id), session)
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
                image.locations = [
                    ImageLocation(store_id=store_id, location=location, created_at=now())
                ]
                image.updated_at = now()
        if gone:  # deleted while it was uploading: its data must not outlive it
            self.stores[store_id].delete(location)
            raise errors.ImageNotFound(image_id)
        self.notify(caller, "upload", image)
        self.notify(caller, "activate", image)
        return image


class SendReport:
    """image.send for one download: bytes sent, who received them (Glance's payload)."""

    def __init__(
        self, notifier: Notifier, caller: Caller, image: Image, destination_ip: str | None
    ) -> None:
        self.notifier = notifier
        self.payload = {
            "image_id": image.image_id,
            "owner_id": image.owner,
            "receiver_tenant_id": caller.project_id,
            "receiver_user_id": caller.ctx.user_id,
            "destination_ip": destination_ip,
            "bytes_sent": 0,
        }

    def count(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        """Pass the chunks through, counting what was handed to the HTTP server (as Glance
        does: the chunk in flight when the client left counts)."""
        sent, complete = 0, False
        try:
            for chunk in chunks:
                sent += len(chunk)
                yield chunk
            complete = True
        finally:
            self.payload["bytes_sent"] = sent
            send = self.notifier.info if complete else self.notifier.error
            send("image.send", self.payload)


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
