"""Writing one stream into several stores at once (`TeeWriter`), and reading a store's
blocking chunks from the event loop (`aiter_chunks`); what an import copies data with."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence

import anyio.to_thread

from onestack.image.drivers import StoreWriter


class ImportFailed(Exception):
    """The import cannot complete; the message goes into the task."""


async def aiter_chunks(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """A store's blocking reads, one chunk per worker-thread hop."""
    while True:
        chunk = await anyio.to_thread.run_sync(next, chunks, None)
        if chunk is None:
            return
        yield chunk


class TeeWriter(StoreWriter):
    """One stream written to several stores; a failing store is dropped (and remembered)
    unless every store must succeed, and the write fails once no store is left."""

    def __init__(self, writers: dict[str, StoreWriter], must_succeed: bool) -> None:
        self._writers = dict(writers)
        self._must_succeed = must_succeed
        self._errors: dict[str, str] = {}
        self._committed: dict[str, str] = {}

    def write(self, chunk: bytes) -> None:
        for store_id, writer in list(self._writers.items()):
            try:
                writer.write(chunk)
            except OSError as exc:
                self._drop(store_id, exc)
        self._check()

    def add(self, store_id: str, writer: StoreWriter) -> None:
        self._writers[store_id] = writer

    @property
    def committed(self) -> dict[str, str]:
        return dict(self._committed)

    def commit(self) -> str:
        raise NotImplementedError("a tee commits to several locations: use commit_all()")

    def commit_all(self) -> dict[str, str]:
        """Commit every live write; returns {store_id: location} of those that made it."""
        for store_id, writer in list(self._writers.items()):
            try:
                self._committed[store_id] = writer.commit()
            except OSError as exc:
                self._drop(store_id, exc)
            self._writers.pop(store_id, None)
        return dict(self._committed)

    def abort(self) -> None:
        for writer in self._writers.values():
            writer.abort()
        self._writers.clear()

    def reason(self, failed: Sequence[str]) -> str:
        return "; ".join(f"{s}: {self._errors.get(s, 'not written')}" for s in failed)

    def _drop(self, store_id: str, exc: OSError) -> None:
        self._writers.pop(store_id).abort()
        self._errors[store_id] = str(exc)
        if self._must_succeed:
            self.abort()
            raise ImportFailed(f"Writing to store {store_id} failed: {exc}") from exc

    def _check(self) -> None:
        if not self._writers:
            raise ImportFailed(f"No store could be written: {self.reason(list(self._errors))}")
