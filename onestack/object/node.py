"""A storage node: a small HTTP server that owns its device directories (`onestack object
node`, started by `onestack up`). Internal to the cloud: no tokens, only the ring driver
talks to it.

    PUT    /<device>/<partition>/<hash>/<version>   body -> file: 201
    GET    /<device>/<partition>/<hash>/<version>   Range: bytes=a-b honoured: 200/206/404
    DELETE /<device>/<partition>/<hash>/<version>   204 (also when missing)

A PUT writes into the device's tmp/, fsyncs the file, renames it into place and fsyncs the
directory, so an answered PUT survives a crash and a crash mid-PUT leaves nothing visible.
Once listening it records its pid and URL in `<state_dir>/run/object-nodes/<node>.json`, and
it exits when the process that started it is gone.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import BinaryIO

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from onestack.object.paths import address_file, node_root

CHUNK = 64 * 1024
_NAME = re.compile(r"^[0-9a-z]{1,64}$")
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


class Node:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, request: Request) -> Path:
        parts = [request.path_params[k] for k in ("device", "part", "hash", "version")]
        if not all(_NAME.match(p) for p in parts):
            raise ValueError(parts)
        device, part, digest, version = parts
        return self.root / device / "objects" / part / digest / f"{version}.data"

    async def write(self, path: Path, chunks: AsyncIterator[bytes]) -> None:
        """Stream `chunks` into a temporary file, then make it durable and put it at `path`."""
        tmp_dir = path.parents[3] / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=tmp_dir)
        try:
            with os.fdopen(fd, "wb") as out:
                async for chunk in chunks:
                    out.write(chunk)  # buffered, local: the fsync below is what waits
                await asyncio.to_thread(_publish, out, Path(tmp), path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _publish(out: BinaryIO, tmp: Path, path: Path) -> None:
    out.flush()
    os.fsync(out.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read(path: Path, start: int, end: int | None) -> Iterator[bytes]:
    with path.open("rb") as data:
        data.seek(start)
        left = None if end is None else end - start
        while left is None or left > 0:
            chunk = data.read(CHUNK if left is None else min(CHUNK, left))
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            yield chunk


def build_app(root: Path) -> Starlette:
    node = Node(root)

    async def handle(request: Request) -> Response:
        try:
            path = node.path(request)
        except ValueError:
            return Response(status_code=400)
        if request.method == "PUT":
            await node.write(path, request.stream())
            return Response(status_code=201)
        if request.method == "DELETE":
            path.unlink(missing_ok=True)
            return Response(status_code=204)
        return _get(request, path)

    route = "/{device}/{part}/{hash}/{version}"
    return Starlette(routes=[Route(route, handle, methods=["GET", "PUT", "DELETE"])])


def _get(request: Request, path: Path) -> Response:
    if not path.is_file():
        return Response(status_code=404)
    match = _RANGE.match(request.headers.get("range", ""))
    if match is None:
        return StreamingResponse(_read(path, 0, None))
    start, end = int(match[1]), (int(match[2]) + 1 if match[2] else None)
    return StreamingResponse(_read(path, start, end), status_code=206)


def serve(state_dir: Path, node: str, host: str = "127.0.0.1") -> None:
    """Serve node `node` until SIGTERM/SIGINT or until its parent is gone."""
    root = node_root(state_dir, node)
    root.mkdir(parents=True, exist_ok=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        build_app(root), log_config=None, access_log=False, lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    record = address_file(state_dir, node)
    record.parent.mkdir(parents=True, exist_ok=True)
    tmp = record.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "url": f"http://{host}:{port}"}))
    os.replace(tmp, record)
    threading.Thread(target=_exit_with_parent, args=(server,), daemon=True).start()
    # uvicorn stops gracefully on SIGTERM/SIGINT and then re-raises the signal to the handler
    # installed before it: a quiet one lets the record below be removed.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    try:
        server.run(sockets=[sock])
    finally:
        record.unlink(missing_ok=True)


def _exit_with_parent(server: uvicorn.Server) -> None:
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1)
    server.should_exit = True
