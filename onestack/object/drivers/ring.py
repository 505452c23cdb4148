"""The object store over onestack's own storage nodes: each key goes to the primaries the
ring names for its partition, over HTTP.

A write is sent to every primary and succeeds on a quorum (more than half of them); when it
falls short, the copies that were written are deleted again and the write fails. A read tries
the primaries in turn and takes the first that answers with the data. A delete goes to every
primary; a copy left on a node that was down is unreachable (its key is in no row) until the
replicator of a later slice removes it. Handoff devices are not used yet.
"""

from __future__ import annotations

import http.client
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import urlsplit

from onestack.object import ring as rings
from onestack.object.drivers.base import CHUNK, DataNotFound, ObjectStore, StoreDown
from onestack.object.paths import address_file, ring_file

if TYPE_CHECKING:
    from onestack.settings import ObjectSettings

log = logging.getLogger("onestack.object.ring")
CONNECT_TIMEOUT_S = 5.0


class NodeGone(Exception):
    """A node did not answer (down, or not started)."""


class RingStore(ObjectStore):
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._ring: tuple[float, rings.Ring] | None = None

    @classmethod
    def from_settings(cls, settings: ObjectSettings, state_dir: Path) -> RingStore:
        return cls(state_dir)

    def ring(self) -> rings.Ring:
        """The ring file as it is now (re-read when `onestack object ring` changed it)."""
        path = ring_file(self.state_dir)
        mtime = path.stat().st_mtime
        if self._ring is None or self._ring[0] != mtime:
            self._ring = (mtime, rings.load(path))
        return self._ring[1]

    def put(self, key: str, source: BinaryIO, size: int) -> None:
        primaries = self.ring().primaries(key)
        written = [d for d in primaries if self._put_one(d, key, source, size)]
        if len(written) < len(primaries) // 2 + 1:
            for device in written:
                self._delete_one(device, key)
            raise StoreDown(f"{len(written)} of {len(primaries)} replicas written")

    def _put_one(self, device: rings.Device, key: str, source: BinaryIO, size: int) -> bool:
        source.seek(0)
        headers = {"Content-Length": str(size)}
        try:
            status, _ = self._request(device, "PUT", key, body=source, headers=headers)
        except NodeGone as exc:
            log.warning("object write to %s/%s failed: %s", device.node, device.name, exc)
            return False
        return status == 201

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        headers = {"Range": f"bytes={start}-{'' if end is None else end - 1}"}
        missing = 0
        primaries = self.ring().primaries(key)
        for device in primaries:
            try:
                status, response = self._request(device, "GET", key, headers=headers, keep=True)
            except NodeGone as exc:
                log.warning("object read from %s/%s failed: %s", device.node, device.name, exc)
                continue
            if status in (200, 206):
                return _stream(response)
            _close(response)
            missing += status == 404
        if missing == len(primaries):
            raise DataNotFound(key)
        raise StoreDown(f"no replica of {key} could be read")

    def delete(self, key: str) -> None:
        for device in self.ring().primaries(key):
            self._delete_one(device, key)

    def _delete_one(self, device: rings.Device, key: str) -> None:
        try:
            self._request(device, "DELETE", key)
        except NodeGone as exc:
            log.warning("object delete on %s/%s failed: %s", device.node, device.name, exc)

    def _request(
        self,
        device: rings.Device,
        method: str,
        key: str,
        body: BinaryIO | None = None,
        headers: dict[str, str] | None = None,
        keep: bool = False,
    ) -> tuple[int, http.client.HTTPResponse]:
        part = self.ring().partition(key)
        path = f"/{device.name}/{part}/{key}"
        conn = self._connect(device.node)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            response.connection = conn  # type: ignore[attr-defined]  # closed with the response
            if not keep:
                response.read()
                conn.close()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise NodeGone(f"{device.node}: {exc}") from exc
        return response.status, response

    def _connect(self, node: str) -> http.client.HTTPConnection:
        try:
            record = json.loads(address_file(self.state_dir, node).read_text())
        except (OSError, ValueError) as exc:
            raise NodeGone(f"{node} is not running") from exc
        url = urlsplit(record["url"])
        return http.client.HTTPConnection(url.hostname or "", url.port, timeout=CONNECT_TIMEOUT_S)


def _stream(response: http.client.HTTPResponse) -> Iterator[bytes]:
    try:
        while chunk := response.read(CHUNK):
            yield chunk
    finally:
        _close(response)


def _close(response: http.client.HTTPResponse) -> None:
    response.close()
    connection = getattr(response, "connection", None)
    if connection is not None:
        connection.close()
