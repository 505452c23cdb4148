"""Neutron's list and show query strings over rendered resources: filters on any field
(repeated keys are alternatives), tag filters, `fields`, `sort_key`/`sort_dir` and
`limit`/`marker` pages with `<collection>_links`.

Lists are small here, so the manager returns every visible resource and this module narrows,
orders and slices them in Python (as identity's paging does).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from onestack.network import errors

CONTROL = {"fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse"}
TAG_FILTERS = {"tags", "tags-any", "not-tags", "not-tags-any"}


def page(request: Request, items: list[dict[str, Any]], collection: str) -> dict[str, Any]:
    """The list body for `items` as the query string asks."""
    query = request.query_params
    chosen = [i for i in items if _matches(i, query)]
    chosen = _sorted(chosen, query.getlist("sort_key"), query.getlist("sort_dir"))
    body: dict[str, Any] = {}
    limit = _limit(query.get("limit"))
    marker = query.get("marker")
    if marker is not None:
        ids = [i["id"] for i in chosen]
        if marker not in ids:
            raise errors.MarkerNotFound(marker)
        chosen = chosen[ids.index(marker) + 1 :]
    links = []
    if limit is not None and len(chosen) > limit:
        chosen = chosen[:limit]
        links.append({"rel": "next", "href": _href(request, chosen[-1]["id"])})
    if marker is not None and limit is not None:
        links.append({"rel": "previous", "href": _href(request, marker, reverse=True)})
    body[collection] = [select_fields(i, query.getlist("fields")) for i in chosen]
    if links:
        body[f"{collection}_links"] = links
    return body


def select_fields(item: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    if not fields:
        return item
    return {k: v for k, v in item.items() if k in fields}


def _matches(item: dict[str, Any], query: Any) -> bool:
    for key in set(query.keys()) - CONTROL:
        values = query.getlist(key)
        if key in TAG_FILTERS:
            if not _tags_match(item.get("tags", []), key, values):
                return False
        elif key == "fixed_ips":
            if not all(_fixed_ip_matches(item.get("fixed_ips", []), v) for v in values):
                return False
        elif key in item and not any(_equal(item[key], v) for v in values):
            return False
    return True


def _tags_match(tags: list[str], key: str, values: list[str]) -> bool:
    wanted = {t for v in values for t in v.split(",") if t}
    have = set(tags)
    return {
        "tags": wanted <= have,
        "tags-any": bool(wanted & have),
        "not-tags": not wanted <= have,
        "not-tags-any": not (wanted & have),
    }[key]


def _fixed_ip_matches(fixed_ips: list[dict[str, str]], value: str) -> bool:
    """`fixed_ips=ip_address=10.0.0.5` or `fixed_ips=subnet_id=...`, as clients send."""
    name, _, wanted = value.partition("=")
    if name == "ip_address_substr":
        return any(wanted in entry["ip_address"] for entry in fixed_ips)
    return any(entry.get(name) == wanted for entry in fixed_ips)


def _equal(actual: Any, text: str) -> bool:
    if isinstance(actual, bool):
        return text.lower() == str(actual).lower()
    if actual is None:
        return text in ("", "None", "null")
    if isinstance(actual, list):
        return text in [str(a) for a in actual]
    return str(actual) == text


def _sorted(items: list[dict[str, Any]], keys: list[str], dirs: list[str]) -> list[dict[str, Any]]:
    if len(dirs) > len(keys) or (dirs and len(dirs) != len(keys)):
        raise errors.InvalidInput("The number of sort_keys and sort_dirs must be same.")
    for direction in dirs:
        if direction not in ("asc", "desc"):
            raise errors.InvalidInput(f"{direction} is invalid value for sort_dir.")
    known = set(items[0]) if items else set()
    for key in keys:
        if items and key not in known:
            raise errors.InvalidInput(f"{key} is invalid attribute for sort_key.")
    ordered = sorted(items, key=lambda i: i["id"])
    for key, direction in reversed(list(zip(keys, dirs or ["asc"] * len(keys), strict=True))):
        ordered.sort(key=lambda i, k=key: _sort_value(i.get(k)), reverse=direction == "desc")
    return ordered


def _sort_value(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, bool | int):
        return (1, int(value))
    return (2, str(value))


def _limit(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        limit = int(text)
    except ValueError as exc:
        raise errors.InvalidInput(f"'{text}' is not an integer.") from exc
    if limit < 0:
        raise errors.InvalidInput(f"'{text}' should be non-negative.")
    return limit or None


def _href(request: Request, marker: str, reverse: bool = False) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("marker",)]
    params.append(("marker", marker))
    if reverse:
        params.append(("page_reverse", "True"))
    return f"{request.url.scheme}://{request.url.netloc}{request.url.path}?{urlencode(params)}"
