"""Image request parsing as data: list queries, JSON patch documents and Range headers."""

from __future__ import annotations

from datetime import datetime

import pytest
from starlette.datastructures import QueryParams

from onestack.image.api import listing, patch
from onestack.image.api.data import _range
from onestack.image.errors import InvalidParameter, RangeNotSatisfiable
from onestack.image.manager import Change
from onestack.image.manager.data import _bounds
from onestack.settings import ImageSettings

SETTINGS = ImageSettings()


def _query(text: str) -> listing.ListQuery:
    return listing.parse(QueryParams(text), SETTINGS)


def test_defaults_sort_newest_first_with_the_default_page() -> None:
    query = _query("")
    assert (query.sort, query.limit, query.os_hidden) == ([("created_at", "desc")], 25, False)


def test_limit_is_capped_at_the_maximum() -> None:
    assert _query("limit=100000").limit == SETTINGS.page_size_max


def test_sort_keys_take_one_direction_or_one_each() -> None:
    assert _query("sort_key=name&sort_key=size&sort_dir=asc").sort == [
        ("name", "asc"),
        ("size", "asc"),
    ]
    assert _query("sort_key=name&sort_key=size&sort_dir=asc&sort_dir=desc").sort == [
        ("name", "asc"),
        ("size", "desc"),
    ]
    assert _query("sort=name:asc,size").sort == [("name", "asc"), ("size", "desc")]


def test_in_operator_and_property_filters() -> None:
    query = _query("name=in:a,b&status=active&os_distro=cirros&tag=x&tag=y")
    assert query.equals == {"name": ["a", "b"], "status": ["active"]}
    assert query.properties == {"os_distro": "cirros"}
    assert query.tags == ["x", "y"]


def test_time_filters_become_naive_utc() -> None:
    query = _query("created_at=gte:2026-01-02T03:04:05Z&updated_at=2026-01-01T00:00:00%2B01:00")
    assert query.times == [
        ("created_at", "gte", datetime(2026, 1, 2, 3, 4, 5)),
        ("updated_at", "eq", datetime(2025, 12, 31, 23, 0, 0)),
    ]


@pytest.mark.parametrize(
    "text",
    ["limit=x", "limit=-2", "sort_key=nope", "sort=name:up", "sort=name&sort_key=name",
     "sort_key=a&sort_key=b&sort_dir=asc&sort_dir=asc&sort_dir=asc", "protected=maybe",
     "size_max=1.5", "visibility=everyone", "created_at=gte:later"],
)  # fmt: skip
def test_bad_queries_are_refused(text: str) -> None:
    with pytest.raises(InvalidParameter):
        _query(text)


def test_next_link_keeps_the_query_and_moves_the_marker() -> None:
    params = QueryParams("limit=2&marker=old&tag=a&tag=b")
    assert listing.next_link(params, "new") == "/v2/images?limit=2&tag=a&tag=b&marker=new"


def test_patch_documents_become_changes() -> None:
    raw = (
        b'[{"op": "add", "path": "/a~1b", "value": "1"}, {"op": "remove", "path": "/c"},'
        b' {"op": "replace", "path": "/tags", "value": []}]'
    )
    assert patch.parse(raw) == [
        Change("add", "a/b", "1"),
        Change("remove", "c"),
        Change("replace", "tags", []),
    ]


@pytest.mark.parametrize(
    "raw",
    [b"{", b"{}", b"[1]", b'[{"op": "test", "path": "/a", "value": 1}]',
     b'[{"op": "add", "path": "/a"}]', b'[{"op": "add", "path": "a", "value": 1}]',
     b'[{"op": "add", "path": "/", "value": 1}]', b'[{"op": "remove", "path": "/a/0"}]'],
)  # fmt: skip
def test_bad_patch_documents_are_refused(raw: bytes) -> None:
    with pytest.raises(InvalidParameter):
        patch.parse(raw)


@pytest.mark.parametrize(
    ("header", "wanted"),
    [(None, None), ("bytes=0-9", (0, 9)), ("bytes=5-", (5, None)), ("bytes=-3", (-3, None)),
     ("bytes=1-2,4-5", None), ("items=1-2", None), ("bytes=-", None)],
)  # fmt: skip
def test_range_headers(header: str | None, wanted: tuple[int, int | None] | None) -> None:
    assert _range(header) == wanted


@pytest.mark.parametrize(
    ("wanted", "bounds"),
    [(None, (0, 10)), ((0, 0), (0, 1)), ((2, 100), (2, 10)), ((-3, None), (7, 10)),
     ((-30, None), (0, 10)), ((9, None), (9, 10))],
)  # fmt: skip
def test_range_bounds(wanted: tuple[int, int | None] | None, bounds: tuple[int, int]) -> None:
    assert _bounds(wanted, 10) == bounds


@pytest.mark.parametrize("wanted", [(10, None), (5, 4), (0, None)])
def test_unsatisfiable_ranges(wanted: tuple[int, int | None]) -> None:
    size = 0 if wanted == (0, None) else 10
    with pytest.raises(RangeNotSatisfiable):
        _bounds(wanted, size)
