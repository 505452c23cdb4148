"""The compute agent's image cache: each image a server boots (and its kernel_id / ramdisk_id
images) fetched once from the image service into `[compute] image_cache_dir`, as
`<dir>/<image_id>`: written to a temporary name and renamed, so a half-fetched file is never
booted, under a per-image lock so concurrent builds fetch it once. The drivers check what they
boot (`drivers/images.py`); the cache only moves bytes."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from onestack.common.context import RequestContext
from onestack.compute.drivers import BootImage, GuestError
from onestack.compute.manager.peers import ImageFiles


class ImageCache:
    def __init__(self, directory: Path, images: ImageFiles) -> None:
        self.directory = directory
        self.images = images
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def boot_image(self, ctx: RequestContext, image: dict[str, Any]) -> BootImage:
        """`image` (the build's image facts) with its file, kernel and ramdisk cached."""
        props = dict(image.get("properties", {}))
        kernel, ramdisk = props.get("kernel_id"), props.get("ramdisk_id")
        return BootImage(
            image_id=image["image_id"],
            path=self.ensure(ctx, image["image_id"]),
            disk_format=image.get("disk_format", ""),
            container_format=image.get("container_format", ""),
            kernel_path=self.ensure(ctx, kernel) if kernel else None,
            ramdisk_path=self.ensure(ctx, ramdisk) if ramdisk else None,
            command_line=props.get("os_command_line", ""),
            properties=props,
        )

    def ensure(self, ctx: RequestContext, image_id: str) -> Path:
        """The cached file of `image_id`, fetched when missing."""
        if not image_id or "/" in image_id or image_id.startswith("."):
            raise GuestError(f"Invalid image id {image_id!r}.")
        path = self.directory / image_id
        with self._lock(image_id):
            if path.is_file():
                return path
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, partial = tempfile.mkstemp(prefix=".fetch-", dir=self.directory)
            os.close(handle)
            try:
                self.images.fetch(ctx, image_id, Path(partial))
                os.replace(partial, path)
            except LookupError as exc:
                raise GuestError(str(exc)) from exc
            finally:
                Path(partial).unlink(missing_ok=True)
        return path

    def _lock(self, image_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(image_id, threading.Lock())
