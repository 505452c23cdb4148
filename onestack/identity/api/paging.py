"""Pages of a list, as Keystone answers them: `?limit=` and `?marker=` on the lists of users,
groups, projects and domains.

Without either the list is answered whole, as before. With one, the list is ordered by id and
starts after the marker, which must name an existing entry (else 404 "Marker ... could not be
found.", as Keystone answers); it holds at most `limit` entries (at most MAX_LIMIT, Keystone's
`max_db_limit`), and when more follow, `links.next` points at the next page and `truncated` is
true. A `limit` that is not a positive integer is a 400.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from onestack.common.errors import BadRequest, NotFound
from onestack.common.http import JSONResponse
from onestack.identity import errors

MAX_LIMIT = 1000


@dataclass(frozen=True)
class PageQuery:
    limit: int
    marker: str | None


def page_query(request: Request) -> PageQuery | None:
    """The page asked for; None when the request asks for the whole list."""
    raw_limit = request.query_params.get("limit")
    marker = request.query_params.get("marker") or None  # Keystone ignores an empty marker
    if raw_limit is None and marker is None:
        return None
    limit = MAX_LIMIT if raw_limit is None else _limit(raw_limit)
    return PageQuery(limit=min(limit, MAX_LIMIT), marker=marker)


def _limit(raw: str) -> int:
    if raw.isascii() and raw.strip().isdigit() and int(raw) > 0:
        return int(raw)
    raise BadRequest(
        f"Invalid value for query parameter 'limit': {raw!r} is not a positive integer."
    )


def paged_collection(
    request: Request, key: str, items: Iterable[dict[str, Any]], get: Callable[[str], object]
) -> JSONResponse:
    """The list response for `items` (rendered, each with an "id"), paged when asked;
    `get(id)` raises NotFound when no entry of this kind has that id (the marker's check)."""
    links: dict[str, str | None] = {"self": str(request.url), "previous": None, "next": None}
    query = page_query(request)
    if query is None:
        return JSONResponse({key: list(items), "links": links})
    ordered = sorted(items, key=lambda item: item["id"])
    if query.marker is not None:
        _check_marker(query.marker, ordered, get)
        ordered = [item for item in ordered if item["id"] > query.marker]
    page = ordered[: query.limit]
    body: dict[str, Any] = {key: page, "links": links}
    if len(ordered) > len(page):
        links["next"] = _next_url(request, page[-1]["id"], query.limit)
        body["truncated"] = True
    return JSONResponse(body)


def _check_marker(marker: str, ordered: list[dict[str, Any]], get: Callable[[str], object]) -> None:
    if any(item["id"] == marker for item in ordered):
        return
    try:
        get(marker)  # it may exist and only be filtered out of this list
    except NotFound as exc:
        raise errors.MarkerNotFound(marker) from exc


def _next_url(request: Request, last_id: str, limit: int) -> str:
    params = dict(request.query_params)
    params.update(marker=last_id, limit=str(limit))
    return str(request.url.replace(query=urlencode(params)))
