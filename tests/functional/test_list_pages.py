"""Pages of the identity lists that Keystone pages (users, groups, projects, domains):
`?limit=` and `?marker=` as Keystone's API reference and its SQL backends answer them.

Keystone orders a paged list by id, starts after the marker and answers 404 "Marker <id> could
not be found." for a marker that names nothing. A `limit` that is not a positive integer is a
400 here (Keystone's own `int(limit)` would fail with a 500: bad input is never a 500 here).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import IdentityClient, admin_client, assert_identity_error

KINDS = ["users", "groups", "projects", "domains"]


@pytest.fixture(scope="module")
def api(cloud: CloudProcess) -> IdentityClient:
    client = admin_client(cloud)
    for n in range(3):  # at least four of each kind, so a page of two is never the whole list
        name = f"paged-{n}-{uuid.uuid4().hex[:6]}"
        for kind in KINDS:
            singular = kind.removesuffix("s")
            created = client.post(kind, json={singular: {"name": name}})
            assert created.status_code == 201, created.text
    return client


def walk(api: IdentityClient, kind: str, limit: int) -> list[list[dict[str, Any]]]:
    """Every page of `kind`, following `links.next` from the first page."""
    pages = []
    answer = api.get(kind, params={"limit": limit}).json()
    while True:
        pages.append(answer[kind])
        if answer["links"]["next"] is None:
            assert "truncated" not in answer
            return pages
        assert answer["truncated"] is True
        answer = api.request("GET", answer["links"]["next"].removeprefix(api.base)).json()


@pytest.mark.parametrize("kind", KINDS)
def test_pages_walk_the_whole_list_once_in_id_order(api: IdentityClient, kind: str) -> None:
    whole = api.get(kind).json()[kind]

    pages = walk(api, kind, limit=2)

    assert all(len(page) == 2 for page in pages[:-1]) and 1 <= len(pages[-1]) <= 2
    walked = [entry["id"] for page in pages for entry in page]
    assert walked == sorted(entry["id"] for entry in whole)


@pytest.mark.parametrize("kind", KINDS)
def test_a_marker_starts_after_that_entry(api: IdentityClient, kind: str) -> None:
    ids = sorted(entry["id"] for entry in api.get(kind).json()[kind])

    after = api.get(kind, params={"marker": ids[1]}).json()

    assert [entry["id"] for entry in after[kind]] == ids[2:]
    assert after["links"]["next"] is None


@pytest.mark.parametrize("kind", KINDS)
def test_a_marker_that_names_nothing_is_404(api: IdentityClient, kind: str) -> None:
    answer = api.get(kind, params={"marker": "no-such-id", "limit": 2})

    error = assert_identity_error(answer, 404)
    assert error["message"] == "Marker no-such-id could not be found."


@pytest.mark.parametrize("limit", ["abc", "-1", "0", "1.5", "²"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_limit_that_is_not_a_positive_integer_is_400(
    api: IdentityClient, kind: str, limit: str
) -> None:
    answer = api.get(kind, params={"limit": limit})

    assert "limit" in assert_identity_error(answer, 400)["message"]


def test_a_marker_filtered_out_of_the_list_still_pages(api: IdentityClient) -> None:
    # Keystone checks that the marker exists, not that it is in this (filtered) list.
    projects = {p["name"]: p["id"] for p in api.get("projects").json()["projects"]}
    marker, demo = projects["admin"], projects["demo"]

    answer = api.get("projects", params={"marker": marker, "name": "demo"})

    assert answer.status_code == 200
    assert [p["id"] for p in answer.json()["projects"]] == ([demo] if demo > marker else [])
