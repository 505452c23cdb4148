"""Image data over HTTP: PUT /v2/images/{id}/file streams in, GET streams out (with Range).

The upload body is handed to the manager as it arrives, chunk by chunk; a client that goes
away mid-body is a 400 for the log (nobody reads it) and leaves the image queued.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from onestack.image import errors
from onestack.image.api.common import enforce_on_image, manager, media_type

OCTET_STREAM = "application/octet-stream"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


async def upload(request: Request) -> Response:
    who, image = enforce_on_image(request, "upload_image")
    if media_type(request) != OCTET_STREAM:
        raise errors.UnsupportedMediaType(media_type(request), OCTET_STREAM)
    try:
        expected = _content_length(request)
        store_id = request.headers.get("x-image-meta-store")
        await manager(request).data.upload(
            who, image.image_id, _body(request), expected, store_id=store_id
        )
    except ClientDisconnect as exc:
        raise errors.UploadInterrupted() from exc
    return Response(status_code=204)


def _content_length(request: Request) -> int | None:
    raw = request.headers.get("content-length", "")
    return int(raw) if raw.isdigit() else None


async def _body(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        yield chunk


async def download(request: Request) -> Response:
    who, image = enforce_on_image(request, "download_image")
    wanted = _range(request.headers.get("range"))
    client = request.client.host if request.client else None
    data = manager(request).data.download(who, image.image_id, wanted, client)
    if data.chunks is None:
        return Response(status_code=204)
    headers = {"Content-Length": str(data.end - data.start)}
    size = data.image.size or 0
    if wanted is None:
        headers["Content-MD5"] = data.image.checksum or ""
        status = 200
    else:
        headers["Content-Range"] = f"bytes {data.start}-{data.end - 1}/{size}"
        status = 206
    return DataResponse(data.chunks, status_code=status, headers=headers)


class DataResponse(StreamingResponse):
    """Streams image chunks and closes them when the response ends, however it ends.

    A client that goes away leaves the chunk generator suspended; closing it here (rather than
    whenever the garbage collector gets to it) releases the store's file and sends image.send
    at once. Starlette reads each chunk in a thread that a cancel waits for, so no chunk is
    being read when this closes."""

    def __init__(self, chunks: Iterator[bytes], status_code: int, headers: dict[str, str]):
        super().__init__(chunks, status_code=status_code, headers=headers, media_type=OCTET_STREAM)
        self.chunks = chunks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            close = getattr(self.chunks, "close", None)
            if close is not None:
                close()


def _range(header: str | None) -> tuple[int, int | None] | None:
    """(first, last) from `Range: bytes=first-last`; (-N, None) for the last N bytes.

    A header we cannot honour (several ranges, another unit) is ignored, as HTTP allows:
    the whole image is sent.
    """
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None or match.group(0) == "bytes=-":
        return None
    first, last = match.groups()
    if not first:
        return -int(last), None
    return int(first), int(last) if last else None


routes = [
    Route("/v2/images/{image_id}/file", upload, methods=["PUT"]),
    Route("/v2/images/{image_id}/file", download, methods=["GET"]),
]
