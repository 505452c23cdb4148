"""GET /v2/images query strings parsed into a `ListQuery`, and the `next` link of a page.

Every malformed value (a non-integer limit, an unknown sort key, a bad timestamp, a boolean
that is not one) is a 400 naming the parameter.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from onestack.image.errors import InvalidParameter
from onestack.image.manager import SORT_KEYS, ListQuery
from onestack.image.manager.query import EQUALITY_FILTERS, TIME_OPERATORS
from onestack.settings import ImageSettings

VISIBILITIES = ("public", "private", "shared", "community", "all")
MAX_INT64 = 2**63 - 1
MEMBER_STATUSES = ("pending", "accepted", "rejected", "all")
# Parameters with a meaning of their own; any other one filters on an extra property.
KNOWN = frozenset(
    {
        "limit",
        "marker",
        "sort_key",
        "sort_dir",
        "sort",
        "visibility",
        "tag",
        "size",
        "size_min",
        "size_max",
        "protected",
        "os_hidden",
        "created_at",
        "updated_at",
        "member_status",
        *EQUALITY_FILTERS,
    }
)


def parse(params: QueryParams, settings: ImageSettings) -> ListQuery:
    query = ListQuery(limit=_limit(params, settings), marker=params.get("marker"))
    query.sort = _sort(params)
    for name in EQUALITY_FILTERS:
        if name in params:
            value = params[name]
            query.equals[name] = value[3:].split(",") if value.startswith("in:") else [value]
    if "member_status" in params:
        query.member_status = _one_of("member_status", params["member_status"], MEMBER_STATUSES)
    if "visibility" in params:
        query.visibility = _one_of("visibility", params["visibility"], VISIBILITIES)
    query.tags = params.getlist("tag")
    query.size = integer(params, "size")
    query.size_min = integer(params, "size_min")
    query.size_max = integer(params, "size_max")
    query.protected = _boolean(params, "protected")
    query.os_hidden = bool(_boolean(params, "os_hidden"))
    for column in ("created_at", "updated_at"):
        for value in params.getlist(column):
            query.times.append((column, *_time_filter(column, value)))
    query.properties = {k: v for k, v in params.items() if k not in KNOWN}
    return query


def next_link(params: QueryParams, last_image_id: str) -> str:
    kept = [(k, v) for k, v in params.multi_items() if k != "marker"]
    return "/v2/images?" + urlencode([*kept, ("marker", last_image_id)])


def _limit(params: QueryParams, settings: ImageSettings) -> int:
    limit = integer(params, "limit")
    if limit is None:
        return settings.page_size_default
    return min(limit, settings.page_size_max)


def _sort(params: QueryParams) -> list[tuple[str, str]]:
    keys, dirs = params.getlist("sort_key"), params.getlist("sort_dir")
    if "sort" in params:
        if keys or dirs:
            raise InvalidParameter(
                "The 'sort' parameter cannot be combined with sort_key/sort_dir."
            )
        return [_sort_item(item) for item in params["sort"].split(",") if item.strip()]
    if dirs and len(dirs) not in (1, len(keys) or 1):
        raise InvalidParameter("Give one sort_dir, or one per sort_key.")
    keys = keys or ["created_at"]
    dirs = dirs * len(keys) if len(dirs) == 1 else dirs or ["desc"] * len(keys)
    return [
        (_sort_key(k), _one_of("sort_dir", d, ("asc", "desc")))
        for k, d in zip(keys, dirs, strict=True)
    ]


def _sort_item(item: str) -> tuple[str, str]:
    key, _, way = item.strip().partition(":")
    return _sort_key(key.strip()), _one_of("sort", (way.strip() or "desc"), ("asc", "desc"))


def _sort_key(key: str) -> str:
    if key not in SORT_KEYS:
        raise InvalidParameter(
            f"Invalid sort key: {key}. It must be one of: {', '.join(SORT_KEYS)}."
        )
    return key


def integer(params: QueryParams, name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InvalidParameter(f"Invalid value for '{name}': {raw!r} is not an integer.") from None
    if not 0 <= value <= MAX_INT64:
        raise InvalidParameter(f"Invalid value for '{name}': it must be from 0 to {MAX_INT64}.")
    return value


def _boolean(params: QueryParams, name: str) -> bool | None:
    raw = params.get(name)
    if raw is None:
        return None
    lowered = raw.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise InvalidParameter(f"Invalid value for '{name}': {raw!r} is not a boolean.")


def _time_filter(name: str, raw: str) -> tuple[str, datetime]:
    op, sep, moment = raw.partition(":")
    if not sep or op not in TIME_OPERATORS:
        op, moment = "eq", raw
    try:
        parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameter(
            f"Invalid value for '{name}': {raw!r}; use <op>:<ISO 8601 time>, op one of "
            f"{', '.join(TIME_OPERATORS)}."
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return op, parsed


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidParameter(
            f"Invalid value for '{name}': {value!r}; use one of {', '.join(allowed)}."
        )
    return value
