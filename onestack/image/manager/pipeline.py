"""The upload pipeline: received bytes hashed (md5 and the secure hash) and written to a store.

Chunks are gathered, uncopied, into batches; each batch goes to two threads of the upload's own,
md5 in one, the secure hash and the store write in the other, while the event loop receives the
next batches. hashlib and file writes release the GIL on large buffers, so receiving, both hashes
and the write run on separate cores. It knows nothing of images, quotas or HTTP.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from onestack.image.drivers import StoreWriter

# Bytes per thread hop, and batches queued or in work before receiving waits: the two stages
# run at their own pace, and an upload holds at most (IN_FLIGHT + 2) * BATCH_BYTES.
BATCH_BYTES = 4 << 20
IN_FLIGHT = 3


class HashingWriter:
    """Feeds a StoreWriter from the event loop; `finish()` returns (md5, secure hash) hex."""

    def __init__(self, writer: StoreWriter, hash_algo: str) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._secure = hashlib.new(hash_algo)
        self._writer = writer
        # One thread per stage: a stage's batches run in the order they were received.
        self._md5_thread = ThreadPoolExecutor(1, thread_name_prefix="image-md5")
        self._write_thread = ThreadPoolExecutor(1, thread_name_prefix="image-write")
        self._batch: list[bytes] = []
        self._batch_bytes = 0
        self._in_flight: deque[asyncio.Future[Any]] = deque()

    async def add(self, chunk: bytes) -> None:
        """Take `chunk`; waits only while IN_FLIGHT batches are ahead of it."""
        self._batch.append(chunk)
        self._batch_bytes += len(chunk)
        if self._batch_bytes >= BATCH_BYTES:
            self._submit()
            if len(self._in_flight) > IN_FLIGHT:
                await self._in_flight.popleft()

    async def finish(self) -> tuple[str, str]:
        """Hash and write what is left; a failure of any batch raises here."""
        self._submit()
        while self._in_flight:
            await self._in_flight.popleft()
        return self._md5.hexdigest(), self._secure.hexdigest()

    async def close(self) -> None:
        """Drop queued batches and wait for the running ones (the caller may abort the writer
        next: no write may still be running then). Safe to call more than once."""
        for thread in (self._md5_thread, self._write_thread):
            # A running batch takes up to a 4 MiB hash and write: wait for it off the loop.
            await asyncio.to_thread(thread.shutdown, wait=True, cancel_futures=True)

    def _submit(self) -> None:
        if not self._batch:
            return
        loop = asyncio.get_running_loop()
        batch, self._batch, self._batch_bytes = self._batch, [], 0
        both = asyncio.gather(
            loop.run_in_executor(self._md5_thread, _md5, batch, self._md5),
            loop.run_in_executor(self._write_thread, _write, batch, self._secure, self._writer),
        )
        # A batch behind a failure is dropped, its own outcome is moot: never log it as lost.
        both.add_done_callback(_retrieve)
        self._in_flight.append(both)


def _retrieve(batch: asyncio.Future[Any]) -> None:
    if not batch.cancelled():
        batch.exception()


def _md5(chunks: list[bytes], md5: Any) -> None:
    for chunk in chunks:
        md5.update(chunk)


def _write(chunks: list[bytes], secure: Any, writer: StoreWriter) -> None:
    # Chunk by chunk: each is still in this core's cache when the store copies it.
    for chunk in chunks:
        secure.update(chunk)
        writer.write(chunk)
