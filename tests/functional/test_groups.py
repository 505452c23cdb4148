"""Groups and membership through the real CLI, openstacksdk and plain HTTP: CRUD, membership,
rules, policy, errors, notifications, and what deleting a user or group takes with it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import (
    IdentityClient,
    admin_client,
    assert_create_refused,
    assert_identity_error,
    issue,
    project_scope,
)


def create(api: IdentityClient, kind: str, name: str, **fields: Any) -> dict[str, Any]:
    response = api.post(f"{kind}s", json={kind: {"name": name, **fields}})
    assert response.status_code == 201, response.text
    return response.json()[kind]


def member_ids(api: IdentityClient, group_id: str) -> set[str]:
    return {u["id"] for u in api.get(f"groups/{group_id}/users").json()["users"]}


def test_group_journey_with_the_cli(cloud: CloudProcess) -> None:
    created = cloud.openstack(
        "group", "create", "--description", "ops team", "cli-ops", "-f", "json"
    )
    assert created["name"] == "cli-ops" and created["domain_id"] == "default"
    cloud.openstack("user", "create", "cli-member", "-f", "json")
    cloud.openstack("group", "add", "user", "cli-ops", "cli-member")
    contains = cloud.openstack("group", "contains", "user", "cli-ops", "cli-member")
    assert "cli-member in group cli-ops" in contains.stdout
    in_group = cloud.openstack("user", "list", "--group", "cli-ops", "-f", "json")
    assert [u["Name"] for u in in_group] == ["cli-member"]
    of_user = cloud.openstack("group", "list", "--user", "cli-member", "-f", "json")
    assert [g["Name"] for g in of_user] == ["cli-ops"]
    cloud.openstack("group", "remove", "user", "cli-ops", "cli-member")
    absent = cloud.openstack("group", "contains", "user", "cli-ops", "cli-member", check=False)
    assert "not in group" in absent.stdout + absent.stderr
    cloud.openstack("group", "set", "--name", "cli-ops-2", "cli-ops")
    assert cloud.openstack("group", "show", "cli-ops-2", "-f", "json")["id"] == created["id"]
    cloud.openstack("group", "delete", "cli-ops-2")
    assert cloud.openstack("group", "show", "cli-ops-2", check=False).returncode != 0


def test_group_with_openstacksdk(cloud: CloudProcess) -> None:
    conn = cloud.sdk()
    try:
        group = conn.identity.create_group(name="sdk-group", description="x")
        user = conn.identity.create_user(name="sdk-grouped", domain_id="default")
        conn.identity.add_user_to_group(user, group)
        assert conn.identity.check_user_in_group(user, group) is True
        assert [u.id for u in conn.identity.group_users(group)] == [user.id]
        assert [g.id for g in conn.identity.user_groups(user)] == [group.id]
        conn.identity.remove_user_from_group(user, group)
        assert conn.identity.check_user_in_group(user, group) is False
        conn.identity.update_group(group, description="y")
        assert conn.identity.get_group(group.id).description == "y"
        conn.identity.delete_group(group)
        assert list(conn.identity.groups(name="sdk-group")) == []
    finally:
        conn.close()


def test_membership_status_codes(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    group = create(api, "group", "codes")
    user = create(api, "user", "codes-user")
    path = f"groups/{group['id']}/users/{user['id']}"
    assert_identity_error(api.delete(path), 404)
    assert api.head(path).status_code == 404
    assert api.put(path).status_code == 204
    assert api.put(path).status_code == 204  # idempotent, as in Keystone
    assert api.head(path).status_code == 204
    assert member_ids(api, group["id"]) == {user["id"]}
    assert api.delete(path).status_code == 204
    assert member_ids(api, group["id"]) == set()
    missing_user = assert_identity_error(api.put(f"groups/{group['id']}/users/nosuchuser"), 404)
    assert "nosuchuser" in missing_user["message"]
    missing_group = assert_identity_error(api.put(f"groups/nosuchgroup/users/{user['id']}"), 404)
    assert "nosuchgroup" in missing_group["message"]
    assert api.head(f"groups/nosuchgroup/users/{user['id']}").status_code == 404


def test_deleting_a_user_or_group_drops_the_membership(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    group = create(api, "group", "cascade")
    other = create(api, "group", "cascade-other")
    user = create(api, "user", "cascade-user")
    leaving = create(api, "user", "cascade-leaving")
    for member in (user, leaving):
        api.put(f"groups/{group['id']}/users/{member['id']}")
    api.put(f"groups/{other['id']}/users/{user['id']}")
    assert api.delete(f"users/{leaving['id']}").status_code == 204
    assert member_ids(api, group["id"]) == {user["id"]}
    assert api.delete(f"groups/{group['id']}").status_code == 204
    groups = api.get(f"users/{user['id']}/groups").json()["groups"]
    assert [g["id"] for g in groups] == [other["id"]]
    assert_identity_error(api.get(f"groups/{group['id']}/users"), 404)


def test_duplicate_group_name_is_409_and_filters(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    first = create(api, "group", "dup-group")
    assert_identity_error(api.post("groups", json={"group": {"name": "dup-group"}}), 409)
    second = create(api, "group", "dup-group-2")
    rename = api.patch(f"groups/{second['id']}", json={"group": {"name": "dup-group"}})
    assert_identity_error(rename, 409)
    named = api.get("groups", params={"name": "dup-group"}).json()["groups"]
    assert [g["id"] for g in named] == [first["id"]]
    in_default = api.get("groups", params={"domain_id": "default"}).json()["groups"]
    assert {first["id"], second["id"]} <= {g["id"] for g in in_default}
    assert api.get("groups", params={"domain_id": "nosuch"}).json()["groups"] == []
    unknown = api.post("groups", json={"group": {"name": "lost", "domain_id": "nosuch"}})
    assert_identity_error(unknown, 404)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "JSON object"),
        (b'{"group": {}}', "group.name"),
        (b'{"group": {"name": 7}}', "group.name"),
        (b'{"group": {"name": "x", "description": 3}}', "group.description"),
        (b'{"group": {"name": "x"}, "surprise": 1}', "surprise"),
        (b'{"grp": {"name": "x"}}', "group"),
    ],
)
def test_malformed_create_is_400_and_writes_nothing(
    cloud: CloudProcess, body: bytes, fragment: str
) -> None:
    api = admin_client(cloud)
    assert_create_refused(api, "groups", body, fragment)


def test_unknown_group_is_404_and_no_token_is_401(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    assert "nosuchgroup" in assert_identity_error(api.get("groups/nosuchgroup"), 404)["message"]
    assert_identity_error(api.patch("groups/nosuchgroup", json={"group": {}}), 404)
    assert_identity_error(api.delete("groups/nosuchgroup"), 404)
    assert_identity_error(api.get("groups/nosuchgroup/users"), 404)
    assert_identity_error(IdentityClient(cloud, "").get("groups"), 401)


def test_member_cannot_manage_groups(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    group = create(api, "group", "guarded")
    demo_id = api.get("users", params={"name": "demo"}).json()["users"][0]["id"]
    demo = IdentityClient(cloud, issue(cloud, "demo", project_scope("demo")))
    assert_identity_error(demo.get("groups"), 403)
    assert_identity_error(demo.post("groups", json={"group": {"name": "mine"}}), 403)
    assert_identity_error(demo.get(f"groups/{group['id']}"), 403)
    assert_identity_error(demo.put(f"groups/{group['id']}/users/{demo_id}"), 403)
    assert_identity_error(demo.delete(f"groups/{group['id']}"), 403)
    assert member_ids(api, group["id"]) == set()


def test_group_changes_are_notified(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    group = create(api, "group", "noisy-group")
    user = create(api, "user", "noisy-member")
    api.patch(f"groups/{group['id']}", json={"group": {"description": "loud"}})
    api.put(f"groups/{group['id']}/users/{user['id']}")
    api.delete(f"groups/{group['id']}/users/{user['id']}")
    api.delete(f"groups/{group['id']}")
    expected = {"created": 1, "updated": 3, "deleted": 1}
    for event, count in expected.items():
        found = [
            n
            for n in cloud.notifications(f"identity.group.{event}")
            if n["payload"]["resource_info"] == group["id"]
        ]
        assert len(found) == count, event
        assert found[0]["payload"]["initiator"]["user_id"]


def test_extra_attributes_are_kept(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    created = api.post("groups", json={"group": {"name": "tagged-group", "team": "storage"}})
    assert created.status_code == 201, created.text
    group_id = created.json()["group"]["id"]
    api.patch(f"groups/{group_id}", json={"group": {"team": "network"}})
    assert api.get(f"groups/{group_id}").json()["group"]["team"] == "network"
