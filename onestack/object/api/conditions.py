"""Conditional requests and ranges on an object, as RFC 7232/7233 and Swift order them:
If-Match, If-Unmodified-Since (412), If-None-Match, If-Modified-Since (304 on reads);
Range as one or several byte ranges (416 when none can be served)."""

from __future__ import annotations

import math
import re
from datetime import UTC
from email.utils import parsedate_to_datetime

from starlette.requests import Request

from onestack.object import errors
from onestack.object.models import StoredObject

_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")
MAX_RANGES = 50


class NotModified(Exception):
    """The client's copy is current: answer 304."""


def check(request: Request, row: StoredObject) -> None:
    """Raise PreconditionFailed or NotModified when the request's conditions say so."""
    headers, reading = request.headers, request.method in ("GET", "HEAD")
    if_match = headers.get("if-match")
    if if_match is not None and not _matches(if_match, row.etag):
        raise errors.PreconditionFailed()
    if if_match is None and _since(headers.get("if-unmodified-since"), row) is False:
        raise errors.PreconditionFailed()
    if_none = headers.get("if-none-match")
    if if_none is not None and _matches(if_none, row.etag):
        if reading:
            raise NotModified()
        raise errors.PreconditionFailed()
    if if_none is None and reading and _since(headers.get("if-modified-since"), row) is True:
        raise NotModified()


def _matches(header: str, etag: str) -> bool:
    tags = {tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")}
    return "*" in tags or etag in tags


def _since(header: str | None, row: StoredObject) -> bool | None:
    """True when the object is unchanged since the header's date; None without a valid date."""
    if not header:
        return None
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    modified = math.ceil(row.last_modified.replace(tzinfo=UTC).timestamp())
    return modified <= when.timestamp()


def ranges(header: str | None, size: int) -> list[tuple[int, int]] | None:
    """The [start, end) ranges to serve; None to serve the whole object (no or bad header)."""
    if not header or not header.strip().lower().startswith("bytes=") or size == 0:
        return None
    specs = header.strip()[6:].split(",")
    if len(specs) > MAX_RANGES:
        return None
    wanted: list[tuple[int, int]] = []
    for spec in specs:
        match = _SPEC.match(spec)
        if match is None or (not match[1] and not match[2]):
            return None
        first, last = match[1], match[2]
        if first and last and int(last) < int(first):
            return None
        served = _one(first, last, size)
        if served is not None:
            wanted.append(served)
    if not wanted:
        raise errors.RangeNotSatisfiable(size)
    return wanted


def _one(first: str, last: str, size: int) -> tuple[int, int] | None:
    if not first:  # the last N bytes
        count = int(last)
        return (max(size - count, 0), size) if count > 0 else None
    start = int(first)
    if start >= size:
        return None
    end = min(int(last) + 1, size) if last else size
    return start, end
