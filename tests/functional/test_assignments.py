"""Role assignments end to end: grants on projects, domains and the system (direct, through
groups, inherited), /v3/role_assignments (effective, names, subtree), effective roles in
tokens, cascades, policy, errors and notifications.

Every actor and target (users, groups and their members, projects, domains) is created
through the API as the cloud admin (`Make` below), as a user would.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import (
    IdentityClient,
    admin_client,
    assert_identity_error,
    password_auth,
    post_token,
    project_scope,
    validate,
)

PASSWORD = "s3cret-pass"


class Make:
    """Users, groups (with members) and projects created through the API as the cloud admin."""

    def __init__(self, cloud: CloudProcess) -> None:
        self.cloud = cloud

    def _create(self, collection: str, key: str, body: dict[str, Any]) -> str:
        # A fresh admin token each time: some tests revoke tokens by deleting roles.
        response = admin_client(self.cloud).post(collection, json={key: body})
        assert response.status_code == 201, response.text
        return response.json()[key]["id"]

    def user(self, name: str, domain_id: str = "default") -> str:
        body = {"name": name, "domain_id": domain_id, "password": PASSWORD}
        return self._create("users", "user", body)

    def group(self, name: str, members: tuple[str, ...] = (), domain_id: str = "default") -> str:
        group_id = self._create("groups", "group", {"name": name, "domain_id": domain_id})
        api = admin_client(self.cloud)
        for user_id in members:
            response = api.put(f"groups/{group_id}/users/{user_id}")
            assert response.status_code == 204, response.text
        return group_id

    def project(self, name: str, domain_id: str = "default", parent_id: str | None = None) -> str:
        body: dict[str, Any] = {"name": name, "domain_id": domain_id}
        if parent_id is not None:
            body["parent_id"] = parent_id
        return self._create("projects", "project", body)


@pytest.fixture(scope="module")
def make(cloud: CloudProcess) -> Make:
    return Make(cloud)


def role_id(api: IdentityClient, name: str) -> str:
    return api.get("roles", params={"name": name}).json()["roles"][0]["id"]


def new_role(api: IdentityClient, name: str, **fields: Any) -> str:
    response = api.post("roles", json={"role": {"name": name, **fields}})
    assert response.status_code == 201, response.text
    return response.json()["role"]["id"]


def new_domain(api: IdentityClient, name: str) -> str:
    return api.post("domains", json={"domain": {"name": name}}).json()["domain"]["id"]


def user_token(
    cloud: CloudProcess, name: str, scope: dict[str, Any] | None, domain: str = "Default"
) -> httpx.Response:
    body = password_auth(cloud, name, scope, password=PASSWORD)
    body["auth"]["identity"]["password"]["user"]["domain"] = {"name": domain}
    return post_token(cloud, body)


def token_roles(cloud: CloudProcess, name: str, scope: dict[str, Any], **kw: str) -> set[str]:
    response = user_token(cloud, name, scope, **kw)
    assert response.status_code == 201, response.text
    return {role["name"] for role in response.json()["token"]["roles"]}


def by_id(project_id: str) -> dict[str, Any]:
    return {"project": {"id": project_id}}


# -- the CLI journeys -------------------------------------------------------------------


def test_role_assignment_list_with_the_cli(cloud: CloudProcess, make: Make) -> None:
    api = admin_client(cloud)
    custom = new_role(api, "ra-role")
    user = make.user("ra-u")
    group, project = make.group("ra-g", members=(user,)), make.project("ra-p")
    api.put(f"projects/{project}/groups/{group}/roles/{custom}")
    rows = cloud.openstack(
        "role", "assignment", "list", "--role", "ra-role", "--names", "-f", "json"
    )
    assert [(r["Role"], r["Group"], r["User"], r["Project"]) for r in rows] == [
        ("ra-role", "ra-g@Default", "", "ra-p@Default")
    ]
    effective = cloud.openstack(
        "role", "assignment", "list", "--role", "ra-role", "--effective", "--names", "-f", "json"
    )
    assert [(r["User"], r["Group"], r["Project"]) for r in effective] == [
        ("ra-u@Default", "", "ra-p@Default")
    ]


def test_grant_journeys_with_the_cli(cloud: CloudProcess, make: Make) -> None:
    user = make.user("cli-u")
    make.group("cli-g", members=(user,))
    project = make.project("cli-p")
    cloud.openstack("role", "add", "--user", "cli-u", "--project", "cli-p", "member")
    cloud.openstack("role", "add", "--group", "cli-g", "--project", "cli-p", "reader")
    cloud.openstack(
        "role", "add", "--user", "cli-u", "--domain", "default", "--inherited", "reader"
    )
    cloud.openstack("role", "add", "--user", "cli-u", "--system", "all", "reader")
    rows = cloud.openstack(
        "role", "assignment", "list", "--effective", "--names", "--user", "cli-u", "-f", "json"
    )
    seen = {(r["Role"], r["Project"], r["System"]) for r in rows}
    assert ("member", "cli-p@Default", "") in seen and ("reader", "", "all") in seen
    assert not any(r["Group"] for r in rows) and not any(r["Domain"] for r in rows)
    assert token_roles(cloud, "cli-u", by_id(project)) == {"member", "reader"}
    cloud.openstack("role", "remove", "--user", "cli-u", "--project", "cli-p", "member")
    cloud.openstack("role", "remove", "--group", "cli-g", "--project", "cli-p", "reader")
    # Still a reader there, inherited from the Default domain.
    assert token_roles(cloud, "cli-u", by_id(project)) == {"reader"}


# -- grants through openstacksdk and the API -------------------------------------------


def test_project_grant_with_openstacksdk(cloud: CloudProcess, make: Make) -> None:
    api = admin_client(cloud)
    user, project, member = make.user("sdk-u"), make.project("sdk-p"), role_id(api, "member")
    conn = cloud.sdk()
    try:
        conn.identity.assign_project_role_to_user(project, user, member)
        assert conn.identity.validate_user_has_project_role(project, user, member)
        listed = conn.identity.role_assignments(user_id=user)
        assert [(a.role["id"], a.scope["project"]["id"]) for a in listed] == [(member, project)]
        granted = conn.identity.role_assignments_filter(project=project, user=user)
        assert [r.name for r in granted] == ["member"]
        conn.identity.unassign_project_role_from_user(project, user, member)
        assert not conn.identity.validate_user_has_project_role(project, user, member)
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("target", "actor"),
    [
        ("projects", "users"),
        ("projects", "groups"),
        ("domains", "users"),
        ("domains", "groups"),
        ("OS-INHERIT/domains", "users"),
        ("OS-INHERIT/projects", "groups"),
        ("system", "users"),
        ("system", "groups"),
    ],
)
def test_every_grant_url_puts_checks_lists_and_deletes(
    cloud: CloudProcess, make: Make, target: str, actor: str
) -> None:
    api = admin_client(cloud)
    tag = uuid.uuid4().hex[:6]
    actor_id = make.user(f"g-{tag}") if actor == "users" else make.group(f"g-{tag}")
    target_id = {"projects": make.project(f"p-{tag}"), "domains": "default"}.get(
        target.removeprefix("OS-INHERIT/"), ""
    )
    base = f"{target}/{target_id}" if target_id else target
    suffix = "/inherited_to_projects" if target.startswith("OS-INHERIT") else ""
    reader = role_id(api, "reader")
    one = f"{base}/{actor}/{actor_id}/roles/{reader}{suffix}"
    listing = f"{base}/{actor}/{actor_id}/roles{suffix}"
    assert api.head(one).status_code == 404
    assert api.put(one).status_code == 204
    assert api.put(one).status_code == 204  # granting twice is harmless
    assert api.head(one).status_code == 204
    assert api.get(one).status_code == 204
    assert [r["name"] for r in api.get(listing).json()["roles"]] == ["reader"]
    assert api.delete(one).status_code == 204
    assert api.get(listing).json()["roles"] == []
    error = assert_identity_error(api.delete(one), 404)
    assert "Could not find role assignment" in error["message"]


def test_grants_to_unknown_things_are_404(cloud: CloudProcess, make: Make) -> None:
    api = admin_client(cloud)
    user, project, reader = make.user("nf-u"), make.project("nf-p"), role_id(api, "reader")
    cases = {
        f"projects/nosuch/users/{user}/roles/{reader}": "project: nosuch",
        f"projects/{project}/users/nosuch/roles/{reader}": "user: nosuch",
        f"projects/{project}/groups/nosuch/roles/{reader}": "group: nosuch",
        f"projects/{project}/users/{user}/roles/nosuch": "role: nosuch",
        f"domains/nosuch/users/{user}/roles/{reader}": "domain: nosuch",
        f"system/users/nosuch/roles/{reader}": "user: nosuch",
        f"OS-INHERIT/domains/nosuch/users/{user}/roles/{reader}/inherited_to_projects": "nosuch",
    }
    for path, fragment in cases.items():
        for method in ("PUT", "HEAD", "DELETE"):
            response = api.request(method, path)
            assert response.status_code == 404, (method, path)
            if method != "HEAD":
                assert fragment in response.json()["error"]["message"]
    assert_identity_error(api.get(f"projects/nosuch/users/{user}/roles"), 404)
    assert api.get("role_assignments", params={"user.id": user}).json()["role_assignments"] == []


def test_domain_specific_role_only_on_its_domain(cloud: CloudProcess, make: Make) -> None:
    api = admin_client(cloud)
    domain = new_domain(api, "dsr-dom")
    local = new_role(api, "dsr-role", domain_id=domain)
    user = make.user("dsr-u")
    inside, outside = make.project("dsr-in", domain_id=domain), make.project("dsr-out")
    error = assert_identity_error(api.put(f"projects/{outside}/users/{user}/roles/{local}"), 403)
    assert "same domain" in error["message"]
    assert_identity_error(api.put(f"domains/default/users/{user}/roles/{local}"), 403)
    assert_identity_error(api.put(f"system/users/{user}/roles/{local}"), 400)
    assert api.put(f"projects/{inside}/users/{user}/roles/{local}").status_code == 204
    assert api.put(f"domains/{domain}/users/{user}/roles/{local}").status_code == 204


def test_domain_specific_roles_only_carry_the_roles_they_imply(
    cloud: CloudProcess, make: Make
) -> None:
    api = admin_client(cloud)
    domain = new_domain(api, "alias-dom")
    alias = new_role(api, "alias-role", domain_id=domain)
    user, project = make.user("alias-u"), make.project("alias-p", domain_id=domain)
    api.put(f"projects/{project}/users/{user}/roles/{alias}")
    # Holding only a domain-specific role that implies nothing gives no access.
    assert user_token(cloud, "alias-u", by_id(project)).status_code == 401
    api.put(f"roles/{alias}/implies/{role_id(api, 'member')}")
    assert token_roles(cloud, "alias-u", by_id(project)) == {"member", "reader"}
    params = {"user.id": user, "effective": "true"}
    effective = api.get("role_assignments", params=params).json()["role_assignments"]
    assert {a["role"]["id"] for a in effective} == {role_id(api, "member"), role_id(api, "reader")}
    assert all(a["links"]["assignment"].endswith(f"/roles/{alias}") for a in effective)
    plain = api.get("role_assignments", params={"user.id": user}).json()["role_assignments"]
    assert [a["role"]["id"] for a in plain] == [alias]


# -- effective roles in tokens ---------------------------------------------------------


def test_direct_grant_scopes_a_token_and_revoking_invalidates_it(
    cloud: CloudProcess, make: Make
) -> None:
    api = admin_client(cloud)
    user, project, member = make.user("tok-u"), make.project("tok-p"), role_id(api, "member")
    assert user_token(cloud, "tok-u", by_id(project)).status_code == 401
    api.put(f"projects/{project}/users/{user}/roles/{member}")
    response = user_token(cloud, "tok-u", by_id(project))
    assert {r["name"] for r in response.json()["token"]["roles"]} == {"member", "reader"}
    token = response.headers["X-Subject-Token"]
    assert validate(cloud, token).status_code == 200
    api.delete(f"projects/{project}/users/{user}/roles/{member}")
    assert validate(cloud, token).status_code != 200
    assert user_token(cloud, "tok-u", by_id(project)).status_code == 401


def test_group_grant_scopes_a_token(cloud: CloudProcess, make: Make) -> None:
    api = admin_client(cloud)
    user = make.user("grp-u")
    group, project = make.group("grp-g", members=(user,)), make.project("grp-p")
    member = role_id(api, "member")
    api.put(f"projects/{project}/groups/{group}/roles/{member}")
    response = user_token(cloud, "grp-u", by_id(project))
    assert {r["name"] for r in response.json()["token"]["roles"]} == {"member", "reader"}
    token = response.headers["X-Subject-Token"]
    unscoped = user_token(cloud, "grp-u", None).headers["X-Subject-Token"]
    mine = IdentityClient(cloud, unscoped).get("auth/projects").json()["projects"]
    assert [p["id"] for p in mine] == [project]
    api.delete(f"projects/{project}/groups/{group}/roles/{member}")
    assert validate(cloud, token).status_code != 200


def test_inherited_domain_grant_reaches_every_project_of_the_domain(
    cloud: CloudProcess, make: Make
) -> None:
    api = admin_client(cloud)
    domain = new_domain(api, "inh-dom")
    user = make.user("inh-u", domain_id=domain)
    first, second = make.project("inh-1", domain_id=domain), make.project("inh-2", domain_id=domain)
    member = role_id(api, "member")
    grant = f"OS-INHERIT/domains/{domain}/users/{user}/roles/{member}/inherited_to_projects"
    assert api.put(grant).status_code == 204
    assert token_roles(cloud, "inh-u", by_id(second), domain="inh-dom") == {"member", "reader"}
    response = user_token(cloud, "inh-u", by_id(first), domain="inh-dom")
    token = response.headers["X-Subject-Token"]
    # Inherited means the domain's projects, not the domain itself.
    assert (
        user_token(cloud, "inh-u", {"domain": {"id": domain}}, domain="inh-dom").status_code == 401
    )
    unscoped = user_token(cloud, "inh-u", None, domain="inh-dom").headers["X-Subject-Token"]
    mine = IdentityClient(cloud, unscoped).get("auth/projects").json()["projects"]
    assert {p["id"] for p in mine} == {first, second}
    assert api.delete(grant).status_code == 204
    assert validate(cloud, token).status_code != 200


def test_inherited_project_grant_reaches_the_subtree_only(cloud: CloudProcess, make: Make) -> None:
    api = admin_client(cloud)
    user = make.user("tree-u")
    group = make.group("tree-g", members=(user,))
    parent = make.project("tree-parent")
    child = make.project("tree-child", parent_id=parent)
    grandchild = make.project("tree-grandchild", parent_id=child)
    reader = role_id(api, "reader")
    grant = f"OS-INHERIT/projects/{parent}/groups/{group}/roles/{reader}/inherited_to_projects"
    assert api.put(grant).status_code == 204
    assert token_roles(cloud, "tree-u", by_id(grandchild)) == {"reader"}
    assert token_roles(cloud, "tree-u", by_id(child)) == {"reader"}
    assert user_token(cloud, "tree-u", by_id(parent)).status_code == 401


def test_implied_roles_expand_transitively_in_tokens(cloud: CloudProcess, make: Make) -> None:
    api = admin_client(cloud)
    top, middle, leaf = (
        new_role(api, "imp-top"),
        new_role(api, "imp-mid"),
        new_role(api, "imp-leaf"),
    )
    api.put(f"roles/{top}/implies/{middle}")
    api.put(f"roles/{middle}/implies/{leaf}")
    user, project = make.user("imp-u"), make.project("imp-p")
    api.put(f"projects/{project}/users/{user}/roles/{top}")
    assert token_roles(cloud, "imp-u", by_id(project)) == {"imp-top", "imp-mid", "imp-leaf"}
    api.delete(f"roles/{middle}/implies/{leaf}")
    assert token_roles(cloud, "imp-u", by_id(project)) == {"imp-top", "imp-mid"}


def test_group_domain_grant_scopes_a_domain_token(cloud: CloudProcess, make: Make) -> None:
    api = admin_client(cloud)
    domain = new_domain(api, "gd-dom")
    user = make.user("gd-u")
    group = make.group("gd-g", members=(user,))
    api.put(f"domains/{domain}/groups/{group}/roles/{role_id(api, 'reader')}")
    assert token_roles(cloud, "gd-u", {"domain": {"id": domain}}) == {"reader"}
    unscoped = user_token(cloud, "gd-u", None).headers["X-Subject-Token"]
    mine = IdentityClient(cloud, unscoped).get("auth/domains").json()["domains"]
    assert [d["id"] for d in mine] == [domain]


def test_system_grant_through_a_group(cloud: CloudProcess, make: Make) -> None:
    api = admin_client(cloud)
    user = make.user("sys-u")
    group = make.group("sys-g", members=(user,))
    assert user_token(cloud, "sys-u", {"system": {"all": True}}).status_code == 401
    api.put(f"system/groups/{group}/roles/{role_id(api, 'reader')}")
    assert token_roles(cloud, "sys-u", {"system": {"all": True}}) == {"reader"}


def test_role_delete_cascades_to_grants_and_tokens(cloud: CloudProcess, make: Make) -> None:
    api = admin_client(cloud)
    doomed = new_role(api, "doomed")
    user, project = make.user("casc-u"), make.project("casc-p")
    api.put(f"projects/{project}/users/{user}/roles/{doomed}")
    token = user_token(cloud, "casc-u", by_id(project)).headers["X-Subject-Token"]
    assert validate(cloud, token).status_code == 200
    assert api.delete(f"roles/{doomed}").status_code == 204
    assert validate(cloud, token).status_code != 200
    assert api.get("role_assignments", params={"user.id": user}).json()["role_assignments"] == []


# -- /v3/role_assignments --------------------------------------------------------------


def test_effective_listing_expands_groups_inheritance_and_implied_roles(
    cloud: CloudProcess, make: Make
) -> None:
    api = admin_client(cloud)
    domain = new_domain(api, "eff-dom")
    user = make.user("eff-u", domain_id=domain)
    group = make.group("eff-g", members=(user,), domain_id=domain)
    project = make.project("eff-p", domain_id=domain)
    member = role_id(api, "member")
    api.put(f"OS-INHERIT/domains/{domain}/groups/{group}/roles/{member}/inherited_to_projects")
    plain = api.get("role_assignments", params={"group.id": group}).json()["role_assignments"]
    assert len(plain) == 1
    assert plain[0]["scope"] == {"domain": {"id": domain}, "OS-INHERIT:inherited_to": "projects"}
    assert plain[0]["links"]["assignment"].endswith(
        f"/v3/OS-INHERIT/domains/{domain}/groups/{group}/roles/{member}/inherited_to_projects"
    )
    params = {"user.id": user, "effective": "", "include_names": "true"}
    effective = api.get("role_assignments", params=params).json()["role_assignments"]
    assert {(a["role"]["name"], a["scope"]["project"]["id"]) for a in effective} == {
        ("member", project),
        ("reader", project),
    }
    first = next(a for a in effective if a["role"]["name"] == "member")
    assert first["user"] == {
        "id": user,
        "name": "eff-u",
        "domain": {"id": domain, "name": "eff-dom"},
    }
    assert first["scope"]["project"]["name"] == "eff-p"
    assert first["links"]["membership"].endswith(f"/v3/groups/{group}/users/{user}")
    with_group = {"group.id": group, "effective": ""}
    assert_identity_error(api.get("role_assignments", params=with_group), 400)


def test_listing_filters(cloud: CloudProcess, make: Make) -> None:
    api = admin_client(cloud)
    user = make.user("flt-u")
    parent = make.project("flt-parent")
    child = make.project("flt-child", parent_id=parent)
    reader, member = role_id(api, "reader"), role_id(api, "member")
    api.put(f"projects/{parent}/users/{user}/roles/{reader}")
    api.put(f"projects/{child}/users/{user}/roles/{member}")
    api.put(f"OS-INHERIT/projects/{parent}/users/{user}/roles/{member}/inherited_to_projects")
    api.put(f"system/users/{user}/roles/{reader}")

    def listed(**params: str) -> list[tuple[str, str]]:
        rows = api.get("role_assignments", params={"user.id": user, **params}).json()
        return sorted((a["role"]["id"], next(iter(a["scope"]))) for a in rows["role_assignments"])

    assert listed(**{"scope.project.id": parent}) == sorted(
        [(reader, "project"), (member, "project")]
    )
    subtree = {"scope.project.id": parent, "include_subtree": "true"}
    assert len(listed(**subtree)) == 3
    assert listed(**{"scope.system": "all"}) == [(reader, "system")]
    assert listed(**{"scope.OS-INHERIT:inherited_to": "projects"}) == [(member, "project")]
    assert len(listed(**{"role.id": member})) == 2
    effective_child = listed(**{"scope.project.id": child, "effective": "true"})
    # member on child (direct) and inherited from the parent, each with its implied reader.
    assert effective_child == sorted([(member, "project"), (reader, "project")] * 2)
    error = assert_identity_error(api.get("role_assignments", params={"include_subtree": "1"}), 400)
    assert "scope.project.id" in error["message"]
    assert_identity_error(api.get("role_assignments", params={"scope.system": "some"}), 400)


# -- policy ------------------------------------------------------------------------------


def test_member_cannot_grant_anything(cloud: CloudProcess, make: Make) -> None:
    api = admin_client(cloud)
    issued = post_token(cloud, password_auth(cloud, "demo", project_scope("demo")))
    demo = IdentityClient(cloud, issued.headers["X-Subject-Token"])
    project = issued.json()["token"]["project"]["id"]
    admin, user = role_id(api, "admin"), make.user("victim")
    for path in (
        f"projects/{project}/users/{user}/roles/{admin}",
        f"domains/default/users/{user}/roles/{admin}",
        f"system/users/{user}/roles/{admin}",
        f"OS-INHERIT/domains/default/users/{user}/roles/{admin}/inherited_to_projects",
    ):
        assert_identity_error(demo.put(path), 403)
    assert_identity_error(demo.get("role_assignments"), 403)
    # A project reader may list their own project's assignments.
    own = demo.get("role_assignments", params={"scope.project.id": project})
    assert own.status_code == 200, own.text
    assert api.get("role_assignments", params={"user.id": user}).json()["role_assignments"] == []


def test_domain_admin_is_confined_to_their_domain(cloud: CloudProcess, make: Make) -> None:
    api = admin_client(cloud)
    domain = new_domain(api, "da-dom")
    boss, worker = make.user("da-boss", domain_id=domain), make.user("da-worker", domain_id=domain)
    outsider = make.user("da-outsider")
    inside = make.project("da-p", domain_id=domain)
    admin, member = role_id(api, "admin"), role_id(api, "member")
    api.put(f"domains/{domain}/users/{boss}/roles/{admin}")
    token = user_token(cloud, "da-boss", {"domain": {"id": domain}}, domain="da-dom")
    boss_api = IdentityClient(cloud, token.headers["X-Subject-Token"])
    assert boss_api.put(f"projects/{inside}/users/{worker}/roles/{member}").status_code == 204
    assert_identity_error(boss_api.put(f"projects/{inside}/users/{outsider}/roles/{member}"), 403)
    assert_identity_error(boss_api.put(f"domains/default/users/{worker}/roles/{member}"), 403)
    assert_identity_error(boss_api.put(f"system/users/{worker}/roles/{member}"), 403)
    seen = boss_api.get("role_assignments").json()["role_assignments"]
    targets = {(next(iter(a["scope"])), a["scope"][next(iter(a["scope"]))]["id"]) for a in seen}
    assert targets == {("domain", domain), ("project", inside)}
    assert_identity_error(
        boss_api.get("role_assignments", params={"scope.domain.id": "default"}), 403
    )


def test_grants_are_notified(cloud: CloudProcess, make: Make) -> None:
    api = admin_client(cloud)
    user, project, reader = make.user("ntf-u"), make.project("ntf-p"), role_id(api, "reader")
    api.put(f"projects/{project}/users/{user}/roles/{reader}")
    api.delete(f"projects/{project}/users/{user}/roles/{reader}")
    for event in ("created", "deleted"):
        found = [
            n
            for n in cloud.notifications(f"identity.role_assignment.{event}")
            if n["payload"].get("user") == user
        ]
        assert len(found) == 1, event
        payload = found[0]["payload"]
        assert payload["project"] == project and payload["role"] == reader
        assert payload["inherited_to_projects"] is False
        assert payload["initiator"]["user_id"]
