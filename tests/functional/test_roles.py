"""Roles and implied roles through the real CLI and the API: CRUD, domain-specific roles,
immutable roles, inference rules and their refusals, policy, errors, notifications."""

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


def make_role(api: IdentityClient, name: str, **fields: Any) -> dict[str, Any]:
    response = api.post("roles", json={"role": {"name": name, **fields}})
    assert response.status_code == 201, response.text
    return response.json()["role"]


def test_role_lifecycle_with_the_cli(cloud: CloudProcess) -> None:
    created = cloud.openstack("role", "create", "--description", "ops", "cli-role", "-f", "json")
    assert created["name"] == "cli-role" and created["domain_id"] is None
    assert "cli-role" in {r["Name"] for r in cloud.openstack("role", "list", "-f", "json")}
    cloud.openstack("role", "set", "--name", "cli-role2", "--description", "ops2", "cli-role")
    shown = cloud.openstack("role", "show", "cli-role2", "-f", "json")
    assert shown["id"] == created["id"] and shown["description"] == "ops2"
    cloud.openstack("role", "delete", "cli-role2")
    assert cloud.openstack("role", "show", "cli-role2", check=False).returncode != 0


def test_immutable_domain_role_with_the_cli(cloud: CloudProcess) -> None:
    admin_client(cloud).post("domains", json={"domain": {"name": "cli-role-dom"}})
    created = cloud.openstack(
        "role", "create", "--domain", "cli-role-dom", "--immutable", "cli-dom-role", "-f", "json"
    )
    shown = admin_client(cloud).get(f"roles/{created['id']}").json()["role"]
    assert shown["domain_id"] == created["domain_id"] and shown["options"] == {"immutable": True}
    listed = cloud.openstack("role", "list", "--domain", "cli-role-dom", "-f", "json")
    assert [r["Name"] for r in listed] == ["cli-dom-role"]
    refused = cloud.openstack(
        "role", "delete", "--domain", "cli-role-dom", "cli-dom-role", check=False
    )
    assert refused.returncode != 0 and "immutable" in refused.stderr
    cloud.openstack("role", "set", "--domain", "cli-role-dom", "--no-immutable", "cli-dom-role")
    cloud.openstack("role", "delete", "--domain", "cli-role-dom", "cli-dom-role")
    assert cloud.openstack("role", "list", "--domain", "cli-role-dom", "-f", "json") == []


def test_implied_roles_with_the_cli(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    prior, implied = make_role(api, "cli-prior"), make_role(api, "cli-implied")
    made = cloud.openstack(
        "implied", "role", "create", "--implied-role", "cli-implied", "cli-prior", "-f", "json"
    )
    assert made == {"prior_role": prior["id"], "implies": implied["id"]}
    listed = cloud.openstack("implied", "role", "list", "-f", "json")
    assert {(r["Prior Role Name"], r["Implied Role Name"]) for r in listed} >= {
        ("cli-prior", "cli-implied"),
        ("admin", "member"),
        ("member", "reader"),
    }
    cloud.openstack("implied", "role", "delete", "--implied-role", "cli-implied", "cli-prior")
    assert api.head(f"roles/{prior['id']}/implies/{implied['id']}").status_code == 404


def test_domain_specific_roles(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    domain = api.post("domains", json={"domain": {"name": "role-dom"}}).json()["domain"]
    local = make_role(api, "auditor", domain_id=domain["id"])
    assert local["domain_id"] == domain["id"]
    make_role(api, "auditor")  # the same name among the global roles is another role
    assert_identity_error(api.post("roles", json={"role": {"name": "auditor"}}), 409)
    duplicate = {"role": {"name": "auditor", "domain_id": domain["id"]}}
    assert_identity_error(api.post("roles", json=duplicate), 409)
    in_domain = api.get("roles", params={"domain_id": domain["id"]}).json()["roles"]
    assert [r["id"] for r in in_domain] == [local["id"]]
    global_ids = {r["id"] for r in api.get("roles").json()["roles"]}
    assert local["id"] not in global_ids
    assert [r["name"] for r in api.get("roles", params={"name": "admin"}).json()["roles"]] == [
        "admin"
    ]
    renamed = api.patch(f"roles/{local['id']}", json={"role": {"name": "twin"}})
    assert renamed.status_code == 200
    make_role(api, "other", domain_id=domain["id"])
    clash = api.patch(f"roles/{local['id']}", json={"role": {"name": "other"}})
    assert_identity_error(clash, 409)
    assert api.get(f"roles/{local['id']}").json()["role"]["name"] == "twin"
    moved = api.patch(f"roles/{local['id']}", json={"role": {"domain_id": None}})
    assert "domain_id" in assert_identity_error(moved, 400)["message"]
    missing = api.post("roles", json={"role": {"name": "x", "domain_id": "nosuchdomain"}})
    assert_identity_error(missing, 404)


def test_immutable_role_refuses_update_and_delete(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    role = make_role(api, "frozen", options={"immutable": True})
    assert role["options"] == {"immutable": True}
    error = assert_identity_error(
        api.patch(f"roles/{role['id']}", json={"role": {"name": "x"}}), 403
    )
    assert "immutable" in error["message"]
    assert_identity_error(api.delete(f"roles/{role['id']}"), 403)
    assert api.get(f"roles/{role['id']}").json()["role"]["name"] == "frozen"
    thawed = api.patch(f"roles/{role['id']}", json={"role": {"options": {"immutable": False}}})
    assert thawed.status_code == 200 and thawed.json()["role"]["options"] == {}
    assert api.delete(f"roles/{role['id']}").status_code == 204


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "JSON object"),
        (b'{"role": {}}', "role.name"),
        (b'{"role": {"name": 7}}', "role.name"),
        (b'{"role": {"name": ""}}', "role.name"),
        (b'{"role": {"name": "x", "description": 1}}', "role.description"),
        (b'{"role": {"name": "x", "domain_id": 5}}', "role.domain_id"),
        (b'{"role": {"name": "x", "options": {"sticky": true}}}', "sticky"),
        (b'{"role": {"name": "x", "options": {"immutable": "yes"}}}', "immutable"),
        (b'{"role": {"name": "x", "options": []}}', "role.options"),
        (b'{"role": {"name": "x"}, "surprise": 1}', "surprise"),
    ],
)
def test_malformed_role_create_is_400_and_writes_nothing(
    cloud: CloudProcess, body: bytes, fragment: str
) -> None:
    api = admin_client(cloud)
    assert_create_refused(api, "roles", body, fragment)


def test_implied_role_api_bodies(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    prior, implied = make_role(api, "api-prior"), make_role(api, "api-implied")
    path = f"roles/{prior['id']}/implies/{implied['id']}"
    created = api.put(path)
    assert created.status_code == 201, created.text
    inference = created.json()["role_inference"]
    assert inference["prior_role"]["id"] == prior["id"]
    assert inference["implies"]["name"] == "api-implied"
    assert created.json()["links"]["self"].endswith(path)
    assert api.get(path).json() == created.json()
    assert api.head(path).status_code == 204
    listed = api.get(f"roles/{prior['id']}/implies").json()["role_inference"]
    assert [r["id"] for r in listed["implies"]] == [implied["id"]]
    rules = api.get("role_inferences").json()["role_inferences"]
    assert {(r["prior_role"]["id"], i["id"]) for r in rules for i in r["implies"]} >= {
        (prior["id"], implied["id"])
    }
    assert api.delete(path).status_code == 204
    error = assert_identity_error(api.get(path), 404)
    assert error["message"] == f"{prior['id']} does not imply {implied['id']}."
    assert_identity_error(api.delete(path), 404)


def test_refused_implications(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    roles = {r["name"]: r["id"] for r in api.get("roles").json()["roles"]}
    a, b = make_role(api, "cyc-a"), make_role(api, "cyc-b")
    assert api.put(f"roles/{a['id']}/implies/{b['id']}").status_code == 201
    # b -> a would close a cycle; reader -> admin too (admin implies member implies reader).
    assert_identity_error(api.put(f"roles/{b['id']}/implies/{a['id']}"), 403)
    assert_identity_error(api.put(f"roles/{a['id']}/implies/{a['id']}"), 403)
    error = assert_identity_error(api.put(f"roles/{b['id']}/implies/{roles['admin']}"), 403)
    assert "cannot be an implied role" in error["message"]
    domain = api.post("domains", json={"domain": {"name": "imp-dom"}}).json()["domain"]
    local = make_role(api, "local-imp", domain_id=domain["id"])
    error = assert_identity_error(api.put(f"roles/{a['id']}/implies/{local['id']}"), 403)
    assert "Global role cannot imply a domain-specific role" in error["message"]
    # A domain-specific role may imply a global role, and another role of its domain.
    assert api.put(f"roles/{local['id']}/implies/{a['id']}").status_code == 201
    sibling = make_role(api, "local-imp2", domain_id=domain["id"])
    assert api.put(f"roles/{local['id']}/implies/{sibling['id']}").status_code == 201
    assert_identity_error(api.put(f"roles/{a['id']}/implies/nosuchrole"), 404)
    assert_identity_error(api.get("roles/nosuchrole/implies"), 404)
    assert api.head(f"roles/{b['id']}/implies/{a['id']}").status_code == 404


def test_role_delete_removes_its_implications(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    prior, implied = make_role(api, "del-prior"), make_role(api, "del-implied")
    api.put(f"roles/{prior['id']}/implies/{implied['id']}")
    assert api.delete(f"roles/{implied['id']}").status_code == 204
    assert api.get(f"roles/{prior['id']}/implies").json()["role_inference"]["implies"] == []
    assert_identity_error(api.get(f"roles/{implied['id']}"), 404)
    assert_identity_error(api.delete(f"roles/{implied['id']}"), 404)


def test_member_cannot_manage_roles(cloud: CloudProcess) -> None:
    demo = IdentityClient(cloud, issue(cloud, "demo", project_scope("demo")))
    assert_identity_error(demo.post("roles", json={"role": {"name": "mine"}}), 403)
    admin_id = demo.get("roles", params={"name": "admin"}).json()["roles"][0]["id"]
    member_id = demo.get("roles", params={"name": "member"}).json()["roles"][0]["id"]
    assert_identity_error(demo.patch(f"roles/{admin_id}", json={"role": {"name": "x"}}), 403)
    assert_identity_error(demo.delete(f"roles/{admin_id}"), 403)
    assert_identity_error(demo.put(f"roles/{member_id}/implies/{admin_id}"), 403)
    assert_identity_error(IdentityClient(cloud, "").get("roles"), 401)


def test_role_changes_are_notified(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    role = make_role(api, "noisy-role")
    other = make_role(api, "noisy-other")
    api.patch(f"roles/{role['id']}", json={"role": {"description": "loud"}})
    api.put(f"roles/{role['id']}/implies/{other['id']}")
    api.delete(f"roles/{role['id']}/implies/{other['id']}")
    api.delete(f"roles/{role['id']}")
    for event in ("created", "updated", "deleted"):
        found = [
            n
            for n in cloud.notifications(f"identity.role.{event}")
            if n["payload"]["resource_info"] == role["id"]
        ]
        assert len(found) == 1, event
        assert found[0]["payload"]["initiator"]["user_id"]
    for event in ("created", "deleted"):
        found = [
            n
            for n in cloud.notifications(f"identity.implied_role.{event}")
            if role["id"] in n["payload"]["resource_info"]
        ]
        assert len(found) == 1, event


def test_extra_attributes_are_kept(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    created = api.post("roles", json={"role": {"name": "tagged-role", "audience": "ops"}})
    assert created.status_code == 201, created.text
    role_id = created.json()["role"]["id"]
    api.patch(f"roles/{role_id}", json={"role": {"audience": "dev"}})
    assert api.get(f"roles/{role_id}").json()["role"]["audience"] == "dev"
