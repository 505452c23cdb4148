"""Account and container listings: the query options in, json / xml / plain text out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import orjson
from starlette.requests import Request
from starlette.responses import Response

from onestack.object import errors
from onestack.object.api.common import iso
from onestack.object.manager import MAX_LIMIT, ContainerEntry, ListQuery, Subdir

TRUE = {"true", "1", "yes", "on", "t", "y"}
MEDIA = {
    "json": "application/json; charset=utf-8",
    "xml": "application/xml; charset=utf-8",
    "plain": "text/plain; charset=utf-8",
}


def list_query(request: Request) -> ListQuery:
    params = request.query_params
    delimiter = params.get("delimiter", "")
    if len(delimiter) > 1:
        raise errors.PreconditionFailed("Bad delimiter")
    return ListQuery(
        prefix=params.get("prefix", ""),
        delimiter=delimiter,
        marker=params.get("marker", ""),
        end_marker=params.get("end_marker", ""),
        limit=_limit(params.get("limit")),
        reverse=params.get("reverse", "").lower() in TRUE,
    )


def _limit(raw: str | None) -> int:
    if raw is None:
        return MAX_LIMIT
    if not raw.isdigit():
        raise errors.PreconditionFailed("Value of limit must be a positive integer")
    if int(raw) > MAX_LIMIT:
        raise errors.PreconditionFailed(f"Maximum limit is {MAX_LIMIT}")
    return int(raw)


def output_format(request: Request) -> str:
    """`?format=` first, then the Accept header; plain text by default."""
    wanted = request.query_params.get("format", "").lower()
    if wanted in MEDIA:
        return wanted
    accept = request.headers.get("accept", "")
    if "application/json" in accept:
        return "json"
    if "application/xml" in accept or "text/xml" in accept:
        return "xml"
    return "plain"


def render(items: list[Any], fmt: str, root: str, name: str, headers: dict[str, str]) -> Response:
    """`items` in `fmt`; an empty plain listing is a 204 (as Swift answers)."""
    if fmt == "plain" and not items:
        return Response(status_code=204, headers=headers)
    if fmt == "json":
        body = orjson.dumps([_json(item) for item in items])
    elif fmt == "xml":
        body = _xml(items, root, name).encode()
    else:
        body = "".join(f"{item.name}\n" for item in items).encode()
    return Response(body, headers={**headers, "Content-Type": MEDIA[fmt]})


def _json(item: Any) -> dict[str, Any]:
    if isinstance(item, Subdir):
        return {"subdir": item.name}
    if isinstance(item, ContainerEntry):
        return {
            "name": item.name,
            "count": item.count,
            "bytes": item.bytes_used,
            "last_modified": iso(item.last_modified),
        }
    return {
        "name": item.name,
        "hash": item.etag,
        "bytes": item.size,
        "content_type": item.content_type,
        "last_modified": iso(item.last_modified),
    }


def _xml(items: list[Any], root: str, name: str) -> str:
    tag = "container" if root == "account" else "object"
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} name={quoteattr(name)}>']
    for item in items:
        if isinstance(item, Subdir):
            parts.append(
                f"<subdir name={quoteattr(item.name)}><name>{escape(item.name)}</name></subdir>"
            )
            continue
        fields: Callable[[Any], dict[str, Any]] = _json
        inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields(item).items())
        parts.append(f"<{tag}>{inner}</{tag}>")
    parts.append(f"</{root}>")
    return "".join(parts)
