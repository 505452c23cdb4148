"""Projects through the real CLI, openstacksdk and plain HTTP: CRUD, hierarchy, tags, filters,
policy, errors, notifications and what deleting or disabling a project does to its tokens."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import (
    IdentityClient,
    admin_client,
    assert_create_refused,
    assert_identity_error,
    issue,
    password_auth,
    post_token,
    project_scope,
    validate,
)
from tests.functional.personas import DEMO, identity_client


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create(api: IdentityClient, name: str | None = None, **fields: Any) -> dict[str, Any]:
    response = api.post("projects", json={"project": {"name": name or unique("p"), **fields}})
    assert response.status_code == 201, response.text
    return response.json()["project"]


def create_domain(api: IdentityClient) -> str:
    response = api.post("domains", json={"domain": {"name": unique("dom")}})
    assert response.status_code == 201, response.text
    return response.json()["domain"]["id"]


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [p["id"] for p in response.json()["projects"]]


# -- user journeys ------------------------------------------------------------------------------


def test_project_journey_with_the_cli(cloud: CloudProcess) -> None:
    parent_name, child_name = unique("cli-parent"), unique("cli-child")
    parent = cloud.openstack(
        "project", "create", "--description", "team", "--tag", "blue", parent_name, "-f", "json"
    )
    assert parent["parent_id"] == "default" and parent["tags"] == ["blue"]
    child = cloud.openstack(
        "project", "create", "--parent", parent_name, "--domain", "default", child_name,
        "-f", "json",
    )  # fmt: skip
    assert child["parent_id"] == parent["id"] and child["domain_id"] == "default"
    children = cloud.openstack("project", "list", "--parent", parent_name, "-f", "json")
    assert [p["Name"] for p in children] == [child_name]
    cloud.openstack("project", "set", "--tag", "red", "--tag", "green", child_name)
    tagged = cloud.openstack("project", "list", "--tags", "red,green", "-f", "json")
    assert [p["Name"] for p in tagged] == [child_name]
    cloud.openstack("project", "set", "--remove-tag", "red", child_name)
    shown = cloud.openstack("project", "show", "--parents", child_name, "-f", "json")
    assert shown["tags"] == ["green"]
    assert parent["id"] in str(shown["parents"])
    refused = cloud.openstack("project", "delete", parent_name, check=False)
    assert refused.returncode != 0 and "leaf" in refused.stderr
    cloud.openstack("project", "delete", child_name)
    cloud.openstack("project", "delete", parent_name)
    listed = cloud.openstack("project", "list", "-f", "json")
    assert not {parent_name, child_name} & {p["Name"] for p in listed}


def test_projects_with_openstacksdk(cloud: CloudProcess) -> None:
    conn = cloud.sdk()
    try:
        name = unique("sdk")
        project = conn.identity.create_project(name=name, description="x", domain_id="default")
        assert conn.identity.get_project(project.id).name == name
        assert [p.id for p in conn.identity.projects(name=name)] == [project.id]
        conn.identity.update_project(project, description="y", is_enabled=False)
        updated = conn.identity.get_project(project.id)
        assert updated.description == "y" and updated.is_enabled is False
        project.add_tag(conn.identity, "alpha")
        project.check_tag(conn.identity, "alpha")
        project.set_tags(conn.identity, ["beta", "gamma"])
        assert sorted(project.fetch_tags(conn.identity).tags) == ["beta", "gamma"]
        assert [p.id for p in conn.identity.projects(tags="beta")] == [project.id]
        project.remove_tag(conn.identity, "beta")
        project.remove_all_tags(conn.identity)
        assert conn.identity.get_project(project.id).tags == []
        conn.identity.delete_project(project)
        assert list(conn.identity.projects(name=name)) == []
    finally:
        conn.close()


def test_project_body_shape_and_extra_attributes(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    project = create(api, colour="blue", options={"immutable": False})
    shown = api.get(f"projects/{project['id']}").json()["project"]
    assert shown["colour"] == "blue"
    assert shown["is_domain"] is False and shown["parent_id"] == "default"
    assert shown["links"]["self"].endswith(f"/v3/projects/{project['id']}")
    assert shown["options"] == {"immutable": False} and shown["tags"] == []
    assert create(api)["options"] == {}


def test_immutable_project_refuses_changes_until_unlocked(cloud: CloudProcess) -> None:
    name = unique("frozen")
    cloud.openstack("project", "create", "--immutable", name)
    api = admin_client(cloud)
    project = api.get("projects", params={"name": name}).json()["projects"][0]
    assert project["options"] == {"immutable": True}
    path = f"projects/{project['id']}"
    assert_identity_error(api.patch(path, json={"project": {"description": "x"}}), 403)
    assert_identity_error(api.put(f"{path}/tags/x"), 403)
    assert "immutable" in assert_identity_error(api.delete(path), 403)["message"]
    unlocked = api.patch(path, json={"project": {"options": {"immutable": False}}})
    assert unlocked.status_code == 200 and unlocked.json()["project"]["options"] == {
        "immutable": False
    }
    assert api.delete(path).status_code == 204


def test_duplicate_name_is_409_per_domain(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    name = unique("twice")
    create(api, name)
    error = assert_identity_error(api.post("projects", json={"project": {"name": name}}), 409)
    assert name in error["message"]
    other = create(api, name, domain_id=create_domain(api))
    assert other["name"] == name
    renamed = create(api)
    conflict = api.patch(f"projects/{renamed['id']}", json={"project": {"name": name}})
    assert_identity_error(conflict, 409)


# -- hierarchy ------------------------------------------------------------------------------------


def test_hierarchy_views(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    top = create(api)
    middle = create(api, parent_id=top["id"])
    leaf = create(api, parent_id=middle["id"])
    sibling = create(api, parent_id=top["id"])
    as_ids = api.get(f"projects/{leaf['id']}", params={"parents_as_ids": "true"}).json()
    assert as_ids["project"]["parents"] == {middle["id"]: {top["id"]: {"default": None}}}
    as_list = api.get(f"projects/{leaf['id']}", params={"parents_as_list": "true"}).json()
    assert [p["project"]["id"] for p in as_list["project"]["parents"]] == [middle["id"], top["id"]]
    subtree = api.get(f"projects/{top['id']}", params={"subtree_as_ids": "true"}).json()
    assert subtree["project"]["subtree"] == {
        middle["id"]: {leaf["id"]: None},
        sibling["id"]: None,
    }
    listed = api.get(f"projects/{top['id']}", params={"subtree_as_list": "true"}).json()
    assert {p["project"]["id"] for p in listed["project"]["subtree"]} == {
        middle["id"],
        leaf["id"],
        sibling["id"],
    }
    both = api.get(f"projects/{top['id']}?subtree_as_list=true&subtree_as_ids=true")
    assert_identity_error(both, 400)


def test_subtree_list_holds_only_projects_the_caller_may_see(cloud: CloudProcess) -> None:
    admin = admin_client(cloud)
    demo_id = admin.get("projects", params={"name": "demo"}).json()["projects"][0]["id"]
    child = create(admin, parent_id=demo_id)
    try:
        demo = identity_client(cloud, DEMO)
        as_list = demo.get(f"projects/{demo_id}", params={"subtree_as_list": "true"}).json()
        assert as_list["project"]["subtree"] == []
        seen = admin.get(f"projects/{demo_id}", params={"subtree_as_list": "true"}).json()
        assert [p["project"]["id"] for p in seen["project"]["subtree"]] == [child["id"]]
    finally:
        assert admin.delete(f"projects/{child['id']}").status_code == 204


def test_hierarchy_rules(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    parent = create(api)
    child = create(api, parent_id=parent["id"])
    error = assert_identity_error(api.delete(f"projects/{parent['id']}"), 403)
    assert "not a leaf" in error["message"]
    disable = {"project": {"enabled": False}}
    error = assert_identity_error(api.patch(f"projects/{parent['id']}", json=disable), 403)
    assert "subtree" in error["message"]
    assert api.patch(f"projects/{child['id']}", json=disable).status_code == 200
    assert api.patch(f"projects/{parent['id']}", json=disable).status_code == 200
    enable = {"project": {"enabled": True}}
    error = assert_identity_error(api.patch(f"projects/{child['id']}", json=enable), 403)
    assert "disabled parents" in error["message"]
    orphan = {"project": {"name": unique("under-disabled"), "parent_id": parent["id"]}}
    error = assert_identity_error(api.post("projects", json=orphan), 403)
    assert "disabled" in error["message"]
    moved = api.patch(f"projects/{child['id']}", json={"project": {"parent_id": "default"}})
    assert "parent_id" in assert_identity_error(moved, 403)["message"]
    other = create_domain(api)
    rehomed = api.patch(f"projects/{child['id']}", json={"project": {"domain_id": other}})
    assert "domain_id" in assert_identity_error(rehomed, 400)["message"]
    assert api.get(f"projects/{child['id']}").json()["project"]["parent_id"] == parent["id"]


def test_hierarchy_depth_is_limited_to_five(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    parent_id = create(api)["id"]
    for _ in range(4):
        parent_id = create(api, parent_id=parent_id)["id"]
    too_deep = {"project": {"name": unique("deep"), "parent_id": parent_id}}
    assert "depth" in assert_identity_error(api.post("projects", json=too_deep), 403)["message"]


def test_parent_must_exist_and_share_the_domain(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    missing = api.post(
        "projects", json={"project": {"name": unique("orphan"), "parent_id": "nope"}}
    )
    assert "nope" in assert_identity_error(missing, 404)["message"]
    parent = create(api)
    elsewhere = {
        "name": unique("stray"),
        "parent_id": parent["id"],
        "domain_id": create_domain(api),
    }
    error = assert_identity_error(api.post("projects", json={"project": elsewhere}), 400)
    assert "different domain" in error["message"]
    unknown_domain = api.post("projects", json={"project": {"name": "x", "domain_id": "nodom"}})
    assert_identity_error(unknown_domain, 404)


# -- listing --------------------------------------------------------------------------------------


def test_list_filters(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    domain_id = create_domain(api)
    both = create(api, domain_id=domain_id, tags=["a", "b"])
    only_a = create(api, domain_id=domain_id, tags=["a"], enabled=False)
    child = create(api, domain_id=domain_id, parent_id=both["id"], tags=["c"])

    def listed(**params: str) -> set[str]:
        return set(ids(api.get("projects", params={"domain_id": domain_id, **params})))

    assert listed() == {both["id"], only_a["id"], child["id"]}
    assert listed(name=only_a["name"]) == {only_a["id"]}
    assert listed(enabled="false") == {only_a["id"]}
    assert listed(parent_id=both["id"]) == {child["id"]}
    assert listed(parent_id=domain_id) == {both["id"], only_a["id"]}
    assert listed(is_domain="false") == listed()
    assert listed(is_domain="true") == set()
    assert listed(tags="a,b") == {both["id"]}
    assert listed(**{"tags-any": "b,c"}) == {both["id"], child["id"]}
    assert listed(**{"not-tags": "a,b"}) == {only_a["id"], child["id"]}
    assert listed(**{"not-tags-any": "a,c"}) == set()
    assert_identity_error(api.get("projects", params={"enabled": "maybe"}), 400)


def test_domain_scoped_listing_is_confined_to_the_domain(cloud: CloudProcess) -> None:
    admin = admin_client(cloud)
    elsewhere = create(admin, domain_id=create_domain(admin))
    scoped = IdentityClient(cloud, issue(cloud, "admin", {"domain": {"id": "default"}}))
    seen = ids(scoped.get("projects"))
    assert seen and elsewhere["id"] not in seen
    assert {p["domain_id"] for p in scoped.get("projects").json()["projects"]} == {"default"}
    assert_identity_error(scoped.get("projects", params={"domain_id": elsewhere["domain_id"]}), 403)


def test_user_projects(cloud: CloudProcess) -> None:
    admin = admin_client(cloud)
    demo = identity_client(cloud, DEMO)
    demo_id = validate(cloud, demo.token).json()["token"]["user"]["id"]
    admin_id = validate(cloud, admin.token).json()["token"]["user"]["id"]
    names = {p["name"] for p in demo.get(f"users/{demo_id}/projects").json()["projects"]}
    assert names == {"demo"}
    assert {p["name"] for p in demo.get("auth/projects").json()["projects"]} == names
    assert {p["name"] for p in admin.get(f"users/{demo_id}/projects").json()["projects"]} == names
    assert_identity_error(demo.get(f"users/{admin_id}/projects"), 403)
    assert (
        "nosuchuser"
        in assert_identity_error(admin.get("users/nosuchuser/projects"), 404)["message"]
    )
    # What `openstack project list` falls back to for a member who may not list all projects.
    listed = cloud.openstack(
        "--os-username", "demo", "--os-password", cloud.password("demo"),
        "--os-project-name", "demo", "project", "list", "-f", "json",
    )  # fmt: skip
    assert [p["Name"] for p in listed] == ["demo"]


# -- tags -----------------------------------------------------------------------------------------


def test_tags_api(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    project_id = create(api, tags=["one"])["id"]
    base = f"projects/{project_id}/tags"
    assert api.get(base).json()["tags"] == ["one"]
    replaced = api.put(base, json={"tags": ["two", "three"]})
    assert replaced.status_code == 200 and sorted(replaced.json()["tags"]) == ["three", "two"]
    assert api.get(f"{base}/two").status_code == 204
    assert api.head(f"{base}/two").status_code == 204
    assert_identity_error(api.get(f"{base}/one"), 404)
    assert api.put(f"{base}/four").status_code == 201
    assert api.delete(f"{base}/two").status_code == 204
    assert_identity_error(api.delete(f"{base}/two"), 404)
    assert sorted(api.get(base).json()["tags"]) == ["four", "three"]
    assert api.delete(base).status_code == 204
    assert api.get(base).json()["tags"] == []


@pytest.mark.parametrize(
    "tags",
    [["a/b"], ["a,b"], [""], ["x" * 256], [f"t{i}" for i in range(81)], "notalist", [7]],
)
def test_bad_tags_are_400(cloud: CloudProcess, tags: Any) -> None:
    api = admin_client(cloud)
    project_id = create(api, tags=["keep"])["id"]
    assert_identity_error(api.put(f"projects/{project_id}/tags", json={"tags": tags}), 400)
    patched = api.patch(f"projects/{project_id}", json={"project": {"tags": tags}})
    assert_identity_error(patched, 400)
    assert api.get(f"projects/{project_id}/tags").json()["tags"] == ["keep"]


def test_bad_single_tag_and_tag_limit(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    project_id = create(api, tags=[f"t{i}" for i in range(80)])["id"]
    assert_identity_error(api.put(f"projects/{project_id}/tags/a,b"), 400)
    assert (
        "80" in assert_identity_error(api.put(f"projects/{project_id}/tags/more"), 400)["message"]
    )
    assert len(api.get(f"projects/{project_id}/tags").json()["tags"]) == 80


# -- malformed requests, 404, 401, 403 ------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "JSON object"),
        (b'{"project": {}}', "project.name"),
        (b'{"project": {"name": 7}}', "project.name"),
        (b'{"project": {"name": "x", "enabled": "yes"}}', "project.enabled"),
        (b'{"project": {"name": "x", "description": 5}}', "project.description"),
        (b'{"project": {"name": "x", "parent_id": 5}}', "project.parent_id"),
        (b'{"project": {"name": "x", "tags": ["a/b"]}}', "project.tags"),
        (b'{"project": {"name": "x", "options": {"nope": true}}}', "project.options"),
        (b'{"project": {"name": "x"}, "surprise": 1}', "surprise"),
        (b'{"projcet": {"name": "x"}}', "project"),
    ],
)
def test_malformed_create_is_400_and_writes_nothing(
    cloud: CloudProcess, body: bytes, fragment: str
) -> None:
    api = admin_client(cloud)
    assert_create_refused(api, "projects", body, fragment)


@pytest.mark.parametrize(
    "body",
    [
        b'{"project": {"name": ""}}',
        b'{"project": {"name": null}}',
        b'{"project": {"enabled": 1}}',
        b'{"project": {"enabled": null}}',
        b'{"project": {"tags": null}}',
        b'{"project": {"domain_id": "other"}}',
        b'{"project": []}',
        b"{}",
    ],
)
def test_malformed_update_is_400_and_changes_nothing(cloud: CloudProcess, body: bytes) -> None:
    api = admin_client(cloud)
    project = create(api)
    response = api.patch(
        f"projects/{project['id']}", content=body, headers={"Content-Type": "application/json"}
    )
    assert_identity_error(response, 400)
    assert api.get(f"projects/{project['id']}").json()["project"] == project


def test_unknown_project_is_404_and_no_token_is_401(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    for method, path in [
        ("GET", "projects/nosuchproject"),
        ("PATCH", "projects/nosuchproject"),
        ("DELETE", "projects/nosuchproject"),
        ("GET", "projects/nosuchproject/tags"),
        ("PUT", "projects/nosuchproject/tags/x"),
    ]:
        kwargs = {"json": {"project": {}}} if method == "PATCH" else {}
        error = assert_identity_error(api.request(method, path, **kwargs), 404)
        assert "nosuchproject" in error["message"]
    anonymous = IdentityClient(cloud, "")
    assert_identity_error(anonymous.get("projects"), 401)
    assert_identity_error(anonymous.get("projects/nosuchproject"), 401)
    assert_identity_error(IdentityClient(cloud, "garbage").get("projects"), 401)


def test_member_sees_only_their_own_project(cloud: CloudProcess) -> None:
    admin = admin_client(cloud)
    demo = identity_client(cloud, DEMO)
    projects = {p["name"]: p["id"] for p in admin.get("projects").json()["projects"]}
    demo_id, admin_id = projects["demo"], projects["admin"]
    assert demo.get(f"projects/{demo_id}").json()["project"]["name"] == "demo"
    assert demo.get(f"projects/{demo_id}/tags").status_code == 200
    for response in [
        demo.get(f"projects/{admin_id}"),
        demo.get(f"projects/{admin_id}/tags"),
        demo.get("projects"),
        demo.post("projects", json={"project": {"name": "mine"}}),
        demo.post("projects", content=b"{not json", headers={"Content-Type": "application/json"}),
        demo.patch(f"projects/{demo_id}", json={"project": {"description": "mine"}}),
        demo.put(f"projects/{demo_id}/tags/mine"),
        demo.delete(f"projects/{demo_id}"),
    ]:
        error = assert_identity_error(response, 403)
        assert "not authorized" in error["message"]
    assert demo.get(f"projects/{demo_id}").json()["project"]["tags"] == []


# -- notifications and tokens ---------------------------------------------------------------------


def test_project_changes_are_notified(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    project_id = create(api)["id"]
    api.patch(f"projects/{project_id}", json={"project": {"description": "changed"}})
    api.delete(f"projects/{project_id}")
    for event in ("created", "updated", "deleted"):
        found = [
            n
            for n in cloud.notifications(f"identity.project.{event}")
            if n["payload"]["resource_info"] == project_id
        ]
        assert len(found) == 1, event
        assert found[0]["payload"]["initiator"]["user_id"]


def test_disabling_a_project_invalidates_its_tokens(cloud: CloudProcess) -> None:
    admin = admin_client(cloud)
    demo_token = issue(cloud, "demo", project_scope("demo"))
    demo_id = next(
        p["id"] for p in admin.get("projects", params={"name": "demo"}).json()["projects"]
    )
    try:
        disabled = admin.patch(f"projects/{demo_id}", json={"project": {"enabled": False}})
        assert disabled.status_code == 200, disabled.text
        assert_identity_error(validate(cloud, demo_token, caller=admin.token), 404)
        assert_identity_error(IdentityClient(cloud, demo_token).get(f"projects/{demo_id}"), 401)
        refused = post_token(cloud, password_auth(cloud, "demo", project_scope("demo")))
        assert_identity_error(refused, 401)
    finally:
        admin.patch(f"projects/{demo_id}", json={"project": {"enabled": True}})
    assert (
        IdentityClient(cloud, issue(cloud, "demo", project_scope("demo")))
        .get(f"projects/{demo_id}")
        .status_code
        == 200
    )


@pytest.mark.own_cloud
def test_deleting_a_project_invalidates_its_tokens(cloud: CloudProcess) -> None:
    """Runs last in the module: it deletes project demo, the only project a member has."""
    admin = admin_client(cloud)
    demo_token = issue(cloud, "demo", project_scope("demo"))
    demo_id = next(
        p["id"] for p in admin.get("projects", params={"name": "demo"}).json()["projects"]
    )
    assert admin.delete(f"projects/{demo_id}").status_code == 204
    assert_identity_error(validate(cloud, demo_token, caller=admin.token), 404)
    assert_identity_error(IdentityClient(cloud, demo_token).get(f"projects/{demo_id}"), 401)
    demo_user = validate(cloud, issue(cloud, "demo")).json()["token"]["user"]["id"]
    assert admin.get(f"users/{demo_user}/projects").json()["projects"] == []


def test_a_project_acting_as_a_domain_is_a_domain(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    name = f"acting-{uuid.uuid4().hex[:8]}"
    created = api.post("projects", json={"project": {"name": name, "is_domain": True}})
    assert created.status_code == 201, created.text
    project = created.json()["project"]
    assert (project["is_domain"], project["domain_id"]) == (True, None)
    assert api.get(f"domains/{project['id']}").json()["domain"]["name"] == name
    listed = api.get("projects", params={"is_domain": "true"}).json()["projects"]
    assert project["id"] in {p["id"] for p in listed}
    assert project["id"] not in set(ids(api.get("projects")))
    disabled = api.patch(f"projects/{project['id']}", json={"project": {"enabled": False}})
    assert disabled.json()["project"]["enabled"] is False
    assert api.delete(f"projects/{project['id']}").status_code == 204
    assert_identity_error(api.get(f"domains/{project['id']}"), 404)
