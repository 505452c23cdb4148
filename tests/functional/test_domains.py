"""Domains through the real CLI and openstacksdk: CRUD, rules, policy, errors, notifications."""

from __future__ import annotations

import pytest

from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import (
    IdentityClient,
    admin_client,
    assert_create_refused,
    assert_identity_error,
    issue,
    post_token,
    project_scope,
    validate,
)


def test_domain_lifecycle_with_the_cli(cloud: CloudProcess) -> None:
    created = cloud.openstack(
        "domain", "create", "--description", "lab", "cli-domain", "-f", "json"
    )
    assert created["name"] == "cli-domain" and created["enabled"] is True
    listed = cloud.openstack("domain", "list", "-f", "json")
    assert "cli-domain" in {d["Name"] for d in listed}
    cloud.openstack("domain", "set", "--disable", "--description", "old lab", "cli-domain")
    shown = cloud.openstack("domain", "show", "cli-domain", "-f", "json")
    assert shown["enabled"] is False and shown["description"] == "old lab"
    cloud.openstack("domain", "delete", "cli-domain")
    gone = cloud.openstack("domain", "show", "cli-domain", check=False)
    assert gone.returncode != 0


def test_domain_with_openstacksdk(cloud: CloudProcess) -> None:
    conn = cloud.sdk()
    try:
        domain = conn.identity.create_domain(name="sdk-domain", description="x")
        assert conn.identity.get_domain(domain.id).name == "sdk-domain"
        assert [d.id for d in conn.identity.domains(name="sdk-domain")] == [domain.id]
        conn.identity.update_domain(domain, enabled=False)
        conn.identity.delete_domain(domain)
        assert list(conn.identity.domains(name="sdk-domain")) == []
    finally:
        conn.close()


def test_extra_attributes_are_kept(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    created = api.post("domains", json={"domain": {"name": "extra-dom", "colour": "blue"}})
    assert created.status_code == 201, created.text
    domain_id = created.json()["domain"]["id"]
    assert api.get(f"domains/{domain_id}").json()["domain"]["colour"] == "blue"


def test_enabled_domain_cannot_be_deleted(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    domain_id = api.post("domains", json={"domain": {"name": "keep-me"}}).json()["domain"]["id"]
    error = assert_identity_error(api.delete(f"domains/{domain_id}"), 403)
    assert "disable" in error["message"]
    assert api.get(f"domains/{domain_id}").status_code == 200


def test_duplicate_domain_name_is_409(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    assert api.post("domains", json={"domain": {"name": "twice"}}).status_code == 201
    assert_identity_error(api.post("domains", json={"domain": {"name": "twice"}}), 409)
    assert len(api.get("domains", params={"name": "twice"}).json()["domains"]) == 1


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "JSON object"),
        (b'{"domain": {}}', "domain.name"),
        (b'{"domain": {"name": 7}}', "domain.name"),
        (b'{"domain": {"name": "x", "enabled": "yes"}}', "domain.enabled"),
        (b'{"domain": {"name": "x"}, "surprise": 1}', "surprise"),
        (b'{"domian": {"name": "x"}}', "domain"),
        (b'{"domain": {"name": "%s"}}' % (b"d" * 65), "domain.name"),
        (b'{"domain": {"name": "   "}}', "domain.name"),
    ],
)
def test_malformed_create_is_400_and_writes_nothing(
    cloud: CloudProcess, body: bytes, fragment: str
) -> None:
    api = admin_client(cloud)
    assert_create_refused(api, "domains", body, fragment)


def test_unknown_domain_is_404_and_no_token_is_401(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    error = assert_identity_error(api.get("domains/nosuchdomain"), 404)
    assert "nosuchdomain" in error["message"]
    assert_identity_error(IdentityClient(cloud, "").get("domains/default"), 401)
    assert_identity_error(api.patch("domains/nosuchdomain", json={"domain": {}}), 404)


def test_member_cannot_manage_domains(cloud: CloudProcess) -> None:
    demo = IdentityClient(cloud, issue(cloud, "demo", project_scope("demo")))
    assert_identity_error(demo.post("domains", json={"domain": {"name": "mine"}}), 403)
    assert_identity_error(demo.get("domains"), 403)
    # A project member may see the domain their project lives in.
    assert demo.get("domains/default").status_code == 200


def test_domain_changes_are_notified(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    domain_id = api.post("domains", json={"domain": {"name": "noisy"}}).json()["domain"]["id"]
    api.patch(f"domains/{domain_id}", json={"domain": {"enabled": False}})
    api.delete(f"domains/{domain_id}")
    for event in ("created", "updated", "deleted"):
        found = [
            n
            for n in cloud.notifications(f"identity.domain.{event}")
            if n["payload"]["resource_info"] == domain_id
        ]
        assert len(found) == 1, event
        assert found[0]["payload"]["initiator"]["user_id"]
        assert found[0]["publisher_id"].startswith("identity.")


def test_deleting_a_domain_removes_everything_in_it_and_its_tokens(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    domain_id = api.post("domains", json={"domain": {"name": "doomed"}}).json()["domain"]["id"]
    project = api.post("projects", json={"project": {"name": "p", "domain_id": domain_id}})
    project_id = project.json()["project"]["id"]
    user = {"name": "u", "domain_id": domain_id, "password": "doomed-pass-1"}
    user_id = api.post("users", json={"user": user}).json()["user"]["id"]
    group = api.post("groups", json={"group": {"name": "g", "domain_id": domain_id}})
    group_id = group.json()["group"]["id"]
    member_id = api.get("roles", params={"name": "member"}).json()["roles"][0]["id"]
    grant = api.put(f"projects/{project_id}/users/{user_id}/roles/{member_id}")
    assert grant.status_code == 204, grant.text
    scope = {"project": {"id": project_id}}
    token = post_token(cloud, password_auth_in(user_id, "doomed-pass-1", scope))
    assert token.status_code == 201, token.text
    user_token = token.headers["X-Subject-Token"]

    api.patch(f"domains/{domain_id}", json={"domain": {"enabled": False}})
    assert validate(cloud, user_token, api.token).status_code == 404
    assert api.delete(f"domains/{domain_id}").status_code == 204

    for path in (f"projects/{project_id}", f"users/{user_id}", f"groups/{group_id}"):
        assert_identity_error(api.get(path), 404)
    listed = api.get("role_assignments", params={"user.id": user_id}).json()
    assert listed["role_assignments"] == []
    assert validate(cloud, user_token, api.token).status_code == 404


def password_auth_in(user_id: str, password: str, scope: dict) -> dict:
    identity = {
        "methods": ["password"],
        "password": {"user": {"id": user_id, "password": password}},
    }
    return {"auth": {"identity": identity, "scope": scope}}
