"""Image listings in SQL: visibility, filters, sorting and keyset pagination by marker.

The API parses query strings into a `ListQuery`; this module turns one into a SELECT. Sort
keys that may be NULL are compared through COALESCE so the keyset condition and the ORDER BY
agree; `id` always ends the sort so pages never repeat or skip an image.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, true
from sqlalchemy.orm import Session

from onestack.image import errors
from onestack.image.manager.base import Caller, get_visible
from onestack.image.models import Image, ImageMember, ImageProperty, ImageTag

# Sort keys Glance accepts, with what stands in for NULL when comparing.
SORT_KEYS: dict[str, Any] = {
    "name": "",
    "status": "",
    "container_format": "",
    "disk_format": "",
    "size": -1,
    "virtual_size": -1,
    "id": "",
    "created_at": None,
    "updated_at": None,
    "visibility": "",
    "owner": "",
    "min_disk": 0,
    "min_ram": 0,
}
EQUALITY_FILTERS = ("name", "status", "owner", "disk_format", "container_format", "id")
TIME_OPERATORS = ("gt", "gte", "lt", "lte", "eq", "neq")


@dataclass
class ListQuery:
    """A parsed listing request. Values are already typed by the API."""

    equals: dict[str, list[str]] = field(default_factory=dict)  # name=in:a,b -> ["a", "b"]
    visibility: str | None = None  # public, private, shared, community or all
    member_status: str = "accepted"  # which shared-with-me images: pending, rejected or all
    tags: list[str] = field(default_factory=list)
    size: int | None = None  # exactly this many bytes
    size_min: int | None = None
    size_max: int | None = None
    protected: bool | None = None
    os_hidden: bool = False
    times: list[tuple[str, str, datetime]] = field(default_factory=list)  # (column, op, moment)
    properties: dict[str, str] = field(default_factory=dict)
    sort: list[tuple[str, str]] = field(default_factory=list)
    limit: int = 25
    marker: str | None = None


def list_images(session: Session, caller: Caller, query: ListQuery) -> list[Image]:
    sort = _full_sort(query.sort)
    visible = _visible(caller, query.visibility, query.member_status)
    statement = select(Image).where(visible, *_filters(query))
    if query.marker is not None:
        marker = _marker(session, caller, query.marker)
        statement = statement.where(_after(marker, sort))
    order = [_key(name).asc() if way == "asc" else _key(name).desc() for name, way in sort]
    return list(session.scalars(statement.order_by(*order).limit(query.limit)))


def _visible(caller: Caller, visibility: str | None, member_status: str) -> ColumnElement[bool]:
    """What the caller may list; community images only when asked for (or their own), shared
    ones when their project is a member with `member_status` (accepted by default)."""
    own = Image.owner == caller.project_id if caller.project_id else false()
    shared = and_(Image.visibility == "shared", _member(caller, member_status))
    if visibility not in (None, "all"):
        kind = Image.visibility == visibility
        if caller.is_admin or visibility in ("public", "community"):
            return kind
        return and_(kind, or_(own, shared))
    if caller.is_admin:
        return true() if visibility == "all" else or_(Image.visibility != "community", own)
    shown = ("public", "community") if visibility == "all" else ("public",)
    return or_(own, Image.visibility.in_(shown), shared)


def _member(caller: Caller, member_status: str) -> ColumnElement[bool]:
    if caller.project_id is None:
        return false()
    conditions = [
        ImageMember.image_id == Image.image_id,
        ImageMember.member_id == caller.project_id,
    ]
    if member_status != "all":
        conditions.append(ImageMember.status == member_status)
    return exists().where(*conditions)


def _filters(query: ListQuery) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [Image.os_hidden == query.os_hidden]
    for name, values in query.equals.items():
        found.append(getattr(Image, "image_id" if name == "id" else name).in_(values))
    for tag in query.tags:
        found.append(exists().where(ImageTag.image_id == Image.image_id, ImageTag.tag == tag))
    if query.size is not None:
        found.append(Image.size == query.size)
    if query.size_min is not None:
        found.append(Image.size >= query.size_min)
    if query.size_max is not None:
        found.append(Image.size <= query.size_max)
    if query.protected is not None:
        found.append(Image.protected == query.protected)
    for column, op, moment in query.times:
        found.append(_compare(getattr(Image, column), op, moment))
    for name, value in query.properties.items():
        found.append(
            exists().where(
                ImageProperty.image_id == Image.image_id,
                ImageProperty.name == name,
                ImageProperty.value == value,
            )
        )
    return found


def _compare(column: Any, op: str, moment: datetime) -> ColumnElement[bool]:
    return {
        "gt": column > moment,
        "gte": column >= moment,
        "lt": column < moment,
        "lte": column <= moment,
        "eq": column == moment,
        "neq": column != moment,
    }[op]


def _full_sort(sort: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The requested sort, then created_at and id as Glance adds them, for a total order."""
    keys = list(sort) or [("created_at", "desc")]
    way = keys[0][1]
    for name in ("created_at", "id"):
        if name not in {k for k, _ in keys}:
            keys.append((name, way))
    return keys


def _key(name: str) -> Any:
    column = getattr(Image, "image_id" if name == "id" else name)
    null = SORT_KEYS[name]
    return column if null is None else func.coalesce(column, null)


def _marker(session: Session, caller: Caller, image_id: str) -> Image:
    try:
        return get_visible(session, caller, image_id)
    except errors.ImageNotFound as exc:
        raise errors.InvalidParameter(
            f"Invalid marker. Image {image_id} could not be found."
        ) from exc


def _after(marker: Image, sort: list[tuple[str, str]]) -> ColumnElement[bool]:
    """Rows strictly after `marker` in the sort order (the keyset condition)."""
    alternatives = []
    for index, (name, way) in enumerate(sort):
        equal_before = [_key(n) == _marker_value(marker, n) for n, _ in sort[:index]]
        value = _marker_value(marker, name)
        beyond = _key(name) > value if way == "asc" else _key(name) < value
        alternatives.append(and_(*equal_before, beyond))
    return or_(*alternatives)


def _marker_value(marker: Image, name: str) -> Any:
    value = getattr(marker, "image_id" if name == "id" else name)
    return SORT_KEYS[name] if value is None else value
