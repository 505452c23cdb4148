"""Objects: PUT (body read whole, MD5 checked against ETag, then stored), GET/HEAD (ranges,
conditions), POST (metadata), DELETE, COPY and PUT with X-Copy-From."""

from __future__ import annotations

import hashlib
import mimetypes
import secrets
import tempfile
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from onestack.object import errors
from onestack.object.api import conditions
from onestack.object.api.acl import account_for
from onestack.object.api.common import (
    MAX_FILE_SIZE,
    call,
    check_metadata,
    checked_names,
    last_modified,
    metadata_changes,
    metadata_headers,
    storage,
    timestamp,
)
from onestack.object.manager import NewObject
from onestack.object.models import StoredObject

SPOOL_BYTES = 8 << 20
OCTET = "application/octet-stream"


async def obj(request: Request) -> Response:
    checked_names(request)
    if not request.path_params["object"]:
        raise errors.ObjectNotFound()
    return await _HANDLERS[request.method](request)


def _names(request: Request) -> tuple[str, str]:
    return request.path_params["container"], request.path_params["object"]


async def _put(request: Request) -> Response:
    container, name = _names(request)
    account = await account_for(request, container, write=True)
    if request.headers.get("x-copy-from"):
        source = _split(request.headers["x-copy-from"])
        return await _copy(request, account, source, (container, name))
    size = _declared_size(request)
    exclusive = request.headers.get("if-none-match", "").strip() == "*"
    if exclusive and await _find(request, account, container, name) is not None:
        raise errors.PreconditionFailed()
    with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as spool:
        got, etag = await _spool(request, spool, size)
        new = NewObject(got, etag, _content_type(request, name), _object_meta(request))
        row = await call(storage(request).objects.put, account, container, name, spool, new)
    return Response(
        status_code=201,
        headers={"ETag": row.etag, "Last-Modified": last_modified(row.last_modified)},
    )


def _declared_size(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    chunked = "chunked" in request.headers.get("transfer-encoding", "").lower()
    if raw is None and not chunked:
        raise errors.LengthRequired()
    if raw is not None and (not raw.isdigit()):
        raise errors.ObjectBadRequest("Invalid Content-Length")
    if raw is not None and int(raw) > MAX_FILE_SIZE:
        raise errors.RequestTooLarge()
    return None if raw is None else int(raw)


async def _spool(request: Request, spool: BinaryIO, size: int | None) -> tuple[int, str]:
    """Read the body into `spool`; its size and MD5, once checked against the ETag sent."""
    digest, got = hashlib.md5(usedforsecurity=False), 0
    async for chunk in request.stream():
        got += len(chunk)
        if got > MAX_FILE_SIZE:
            raise errors.RequestTooLarge()
        digest.update(chunk)
        spool.write(chunk)
    if size is not None and got != size:
        raise errors.ObjectBadRequest("The body was shorter than its Content-Length.")
    etag = digest.hexdigest()
    sent = request.headers.get("etag")
    if sent is not None and sent.strip().strip('"').lower() != etag:
        raise errors.EtagMismatch()
    spool.seek(0)
    return got, etag


def _content_type(request: Request, name: str, fallback: str = OCTET) -> str:
    given = request.headers.get("content-type", "").strip()
    detect = request.headers.get("x-detect-content-type", "").lower() == "true"
    if given and not detect:
        return given[:256]
    return mimetypes.guess_type(name)[0] or fallback


def _object_meta(request: Request) -> dict[str, str]:
    return {k: v for k, v in metadata_changes(request, "object").items() if v}


async def _find(request: Request, account: str, container: str, name: str) -> StoredObject | None:
    try:
        return await call(storage(request).objects.head, account, container, name)
    except errors.ObjectNotFound:
        return None


async def _get(request: Request) -> Response:
    container, name = _names(request)
    account = await account_for(request, container, write=False)
    row = await call(storage(request).objects.head, account, container, name)
    headers = _headers(row)
    try:
        conditions.check(request, row)
    except conditions.NotModified:
        return Response(
            status_code=304, headers={"ETag": row.etag, "Last-Modified": headers["Last-Modified"]}
        )
    if request.method == "HEAD":
        return Response(status_code=200, headers={**headers, "Content-Length": str(row.size)})
    wanted = conditions.ranges(request.headers.get("range"), row.size)
    objects = storage(request).objects
    if wanted is None:
        chunks = await call(objects.read, row)
        return StreamingResponse(chunks, headers={**headers, "Content-Length": str(row.size)})
    if len(wanted) == 1:
        start, end = wanted[0]
        chunks = await call(objects.read, row, start, end)
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{row.size}"
        headers["Content-Length"] = str(end - start)
        return StreamingResponse(chunks, status_code=206, headers=headers)
    return await _multipart(request, row, wanted, headers)


async def _multipart(
    request: Request, row: StoredObject, wanted: list[tuple[int, int]], headers: dict[str, str]
) -> Response:
    """Several ranges as one multipart/byteranges body."""
    boundary = secrets.token_hex(16)
    heads = [
        f"--{boundary}\r\nContent-Type: {row.content_type}\r\n"
        f"Content-Range: bytes {start}-{end - 1}/{row.size}\r\n\r\n".encode()
        for start, end in wanted
    ]
    tail = f"--{boundary}--".encode()
    length = sum(len(h) + (e - s) + 2 for h, (s, e) in zip(heads, wanted, strict=True)) + len(tail)
    parts = [await call(storage(request).objects.read, row, s, e) for s, e in wanted]

    def body() -> Iterator[bytes]:
        for head, chunks in zip(heads, parts, strict=True):
            yield head
            yield from chunks
            yield b"\r\n"
        yield tail

    headers["Content-Type"] = f"multipart/byteranges;boundary={boundary}"
    headers["Content-Length"] = str(length)
    return StreamingResponse(body(), status_code=206, headers=headers)


def _headers(row: StoredObject) -> dict[str, str]:
    return {
        "Content-Type": row.content_type,
        "ETag": row.etag,
        "Last-Modified": last_modified(row.last_modified),
        "X-Timestamp": timestamp(row.last_modified),
        "Accept-Ranges": "bytes",
        **metadata_headers(row.metadata_, "Object"),
    }


async def _post(request: Request) -> Response:
    container, name = _names(request)
    account = await account_for(request, container, write=True)
    meta = _object_meta(request)
    content_type = request.headers.get("content-type")
    await call(storage(request).objects.post, account, container, name, meta, content_type)
    return Response(status_code=202)


async def _delete(request: Request) -> Response:
    container, name = _names(request)
    account = await account_for(request, container, write=True)
    await call(storage(request).objects.delete, account, container, name)
    return Response(status_code=204)


async def _copy_verb(request: Request) -> Response:
    account = await account_for(request, _names(request)[0], write=False)
    destination = request.headers.get("destination")
    if not destination:
        raise errors.PreconditionFailed("You must specify a destination header")
    return await _copy(request, account, _names(request), _split(destination))


async def _copy(
    request: Request, account: str, source: tuple[str, str], target: tuple[str, str]
) -> Response:
    await account_for(request, source[0], write=False)
    await account_for(request, target[0], write=True)
    objects = storage(request).objects
    src = await call(objects.head, account, *source)
    fresh = request.headers.get("x-fresh-metadata", "").lower() == "true"
    meta = {**({} if fresh else src.metadata_), **_object_meta(request)}
    check_metadata(meta)
    content_type = request.headers.get("content-type") or src.content_type
    new = NewObject(src.size, src.etag, content_type, meta)
    row = await call(objects.copy, src, account, *target, new)
    return Response(
        status_code=201,
        headers={
            "ETag": row.etag,
            "Last-Modified": last_modified(row.last_modified),
            "X-Copied-From": quote(f"{source[0]}/{source[1]}"),
            "X-Copied-From-Last-Modified": last_modified(src.last_modified),
        },
    )


def _split(value: str) -> tuple[str, str]:
    """`/container/object` (URL-quoted) of X-Copy-From and Destination; 412 when malformed."""
    container, _, name = unquote(value).lstrip("/").partition("/")
    if not container or not name:
        raise errors.PreconditionFailed(
            "X-Copy-From header must be of the form <container name>/<object name>"
        )
    return container, name


_HANDLERS = {
    "PUT": _put,
    "GET": _get,
    "HEAD": _get,
    "POST": _post,
    "DELETE": _delete,
    "COPY": _copy_verb,
}

routes = [
    Route(
        "/v1/{account}/{container}/{object:path}",
        obj,
        methods=["GET", "HEAD", "PUT", "POST", "DELETE", "COPY"],
    )
]
