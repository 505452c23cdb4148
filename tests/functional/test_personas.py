"""Isolation and personas: a member of project A cannot see or touch project B's resources; a
reader cannot write; a domain admin manages only their domain; only the cloud admin manages
the cloud (domains, roles, the catalog).

The world, built through the API as the cloud admin: two domains (dom-a, dom-b), each with a
project, a group, a spare user, and three personas holding tokens: a domain admin (admin on
the domain, domain-scoped token), a project member and a project reader (member / reader on
the project, project-scoped tokens); plus the bootstrap cloud admin (admin on project admin)
and a project admin (admin on a project of dom-a): by Keystone's default an admin on any project
is a cloud admin too (test_admin_project.py has the stricter `admin_project_name` mode).
Every row of the matrix is one persona doing one thing with plain HTTP; a 403 carries
Keystone's error body and changes nothing. A few rows run the real `openstack` CLI as the
persona with a clouds.yaml of its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import (
    IdentityClient,
    admin_client,
    admin_token,
    assert_identity_error,
    post_token,
    project_admin,
)
from tests.functional.image_api import ImageClient

PASSWORD = "persona-pass-1"
CLOUD_ADMIN = "cloud-admin"
PROJECT_ADMIN = "project-admin"  # admin on a project of dom-a that is not the admin project


@dataclass
class World:
    """Ids of everything built (keys such as `b_project`), and each persona's token."""

    ids: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    scopes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def client(self, cloud: CloudProcess, persona: str) -> IdentityClient:
        return IdentityClient(cloud, self.tokens[persona])

    def fill(self, value: Any) -> Any:
        """`value` with every `{key}` of a string replaced by the world's ids (recursively)."""
        if isinstance(value, str):
            return value.format(**self.ids, uniq=uuid.uuid4().hex[:8])
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        return value


def created(response: Any, key: str) -> str:
    assert response.status_code == 201, response.text
    return response.json()[key]["id"]


def login(cloud: CloudProcess, name: str, domain_id: str, scope: dict[str, Any]) -> str:
    user = {"name": name, "domain": {"id": domain_id}, "password": PASSWORD}
    body = {
        "auth": {"identity": {"methods": ["password"], "password": {"user": user}}, "scope": scope}
    }
    response = post_token(cloud, body)
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


def build_domain(cloud: CloudProcess, api: IdentityClient, world: World, tag: str) -> None:
    """dom-<tag> with a project, a group, a spare user and its three personas."""
    ids = world.ids
    domain = created(api.post("domains", json={"domain": {"name": f"dom-{tag}"}}), "domain")
    project = {"name": f"proj-{tag}", "domain_id": domain}
    ids[f"dom_{tag}"] = domain
    ids[f"{tag}_project"] = created(api.post("projects", json={"project": project}), "project")
    group = {"name": f"grp-{tag}", "domain_id": domain}
    ids[f"{tag}_group"] = created(api.post("groups", json={"group": group}), "group")
    for who in ("admin", "member", "reader", "spare"):
        user = {"name": f"{tag}-{who}", "domain_id": domain, "password": PASSWORD}
        ids[f"{tag}_{who}"] = created(api.post("users", json={"user": user}), "user")
    grants = {
        "admin": f"domains/{domain}/users/{ids[f'{tag}_admin']}/roles/{ids['admin']}",
        "member": f"projects/{ids[f'{tag}_project']}/users/{ids[f'{tag}_member']}"
        f"/roles/{ids['member']}",
        "reader": f"projects/{ids[f'{tag}_project']}/users/{ids[f'{tag}_reader']}"
        f"/roles/{ids['reader']}",
    }
    for who, grant in grants.items():
        assert api.put(grant).status_code == 204
        scope = (
            {"domain": {"id": domain}}
            if who == "admin"
            else {"project": {"id": ids[f"{tag}_project"]}}
        )
        world.scopes[f"{tag}-{who}"] = scope
        world.tokens[f"{tag}-{who}"] = login(cloud, f"{tag}-{who}", domain, scope)
    # Someone else's credential, for the rows that must not reach it.
    blob = {"credential": {"type": "cert", "blob": "x", "user_id": ids[f"{tag}_spare"]}}
    ids[f"{tag}_spare_credential"] = created(api.post("credentials", json=blob), "credential")


@pytest.fixture(scope="module")
def world(cloud: CloudProcess) -> World:
    api = admin_client(cloud)
    world = World()
    for role in ("admin", "member", "reader"):
        world.ids[role] = api.get("roles", params={"name": role}).json()["roles"][0]["id"]
    for tag in ("a", "b"):
        build_domain(cloud, api, world, tag)
    world.ids["service"] = created(
        api.post("services", json={"service": {"type": "persona-svc"}}), "service"
    )
    world.tokens[CLOUD_ADMIN] = admin_token(cloud)
    token, world.ids["ops_project"] = project_admin(cloud, "ops-a", world.ids["dom_a"])
    world.tokens[PROJECT_ADMIN] = token
    return world


# -- the matrix --------------------------------------------------------------------------------

PERSONAS = ("a-admin", "a-member", "a-reader")
DESCRIBE = {"description": "changed"}  # what refused updates try
ALLOWED = {"description": "updated by its manager"}


def cross_domain_rows() -> list[tuple[str, str, str, Any, int]]:
    """Nobody of dom-a reads, updates or deletes dom-b's project, users or group."""
    rows = []
    for persona in PERSONAS:
        for path, key in (
            ("projects/{b_project}", "project"),
            ("users/{b_member}", "user"),
            ("groups/{b_group}", "group"),
        ):
            rows.append((persona, "GET", path, None, 403))
            rows.append((persona, "PATCH", path, {key: DESCRIBE}, 403))
            rows.append((persona, "DELETE", path, None, 403))
    for admin in (CLOUD_ADMIN, PROJECT_ADMIN):
        rows += [
            (admin, "GET", "projects/{b_project}", None, 200),
            (admin, "GET", "users/{b_member}", None, 200),
            (admin, "GET", "groups/{b_group}", None, 200),
        ]
    return rows


def create_rows() -> list[tuple[str, str, str, Any, int]]:
    """Creating a project, user or group in one's own domain and in the other."""
    rows = []
    for collection, key in (("projects", "project"), ("users", "user"), ("groups", "group")):
        for domain in ("dom_a", "dom_b"):
            body = {key: {"name": f"new-{key}-{{uniq}}", "domain_id": f"{{{domain}}}"}}
            rows.append(("a-admin", "POST", collection, body, 201 if domain == "dom_a" else 403))
        own = {key: {"name": f"new-{key}-{{uniq}}", "domain_id": "{dom_a}"}}
        rows.append(("a-member", "POST", collection, own, 403))
        rows.append(("a-reader", "POST", collection, own, 403))
        other = {key: {"name": f"new-{key}-{{uniq}}", "domain_id": "{dom_b}"}}
        rows.append((PROJECT_ADMIN, "POST", collection, other, 201))
    return rows


def grant_rows() -> list[tuple[str, str, str, Any, int]]:
    """A domain admin grants inside their domain only (scope and actor both); nobody else."""
    inside = "projects/{a_project}/users/{a_spare}/roles/{reader}"
    return [
        ("a-admin", "PUT", inside, None, 204),
        ("a-admin", "PUT", "domains/{dom_a}/users/{a_spare}/roles/{reader}", None, 204),
        ("a-admin", "PUT", "projects/{b_project}/users/{b_spare}/roles/{reader}", None, 403),
        ("a-admin", "PUT", "domains/{dom_b}/users/{b_spare}/roles/{reader}", None, 403),
        ("a-admin", "PUT", "projects/{a_project}/users/{b_spare}/roles/{reader}", None, 403),
        ("a-admin", "PUT", "system/users/{a_spare}/roles/{reader}", None, 403),
        ("a-admin", "PUT", "groups/{a_group}/users/{a_spare}", None, 204),
        ("a-admin", "PUT", "groups/{b_group}/users/{b_spare}", None, 403),
        ("a-member", "PUT", inside, None, 403),
        ("a-reader", "PUT", inside, None, 403),
        ("a-member", "PUT", "groups/{a_group}/users/{a_member}", None, 403),
        (CLOUD_ADMIN, "PUT", "projects/{b_project}/users/{b_spare}/roles/{reader}", None, 204),
        (PROJECT_ADMIN, "PUT", "projects/{b_project}/users/{b_spare}/roles/{member}", None, 204),
        (PROJECT_ADMIN, "PUT", "domains/{dom_b}/users/{b_spare}/roles/{reader}", None, 204),
    ]


def own_domain_rows() -> list[tuple[str, str, str, Any, int]]:
    """What each persona may do at home: the domain admin manages, the others only read."""
    return [
        ("a-admin", "GET", "projects/{a_project}", None, 200),
        ("a-admin", "PATCH", "projects/{a_project}", {"project": ALLOWED}, 200),
        ("a-admin", "GET", "users/{a_member}", None, 200),
        ("a-admin", "PATCH", "users/{a_spare}", {"user": ALLOWED}, 200),
        ("a-admin", "PATCH", "groups/{a_group}", {"group": ALLOWED}, 200),
        ("a-admin", "GET", "domains/{dom_a}", None, 200),
        ("a-admin", "GET", "domains/{dom_b}", None, 403),
        ("a-admin", "PATCH", "domains/{dom_a}", {"domain": DESCRIBE}, 403),
        ("a-admin", "GET", "users", {"domain_id": "{dom_b}"}, 403),
        ("a-member", "GET", "projects/{a_project}", None, 200),
        ("a-member", "GET", "users/{a_member}", None, 200),
        ("a-member", "GET", "users/{a_reader}", None, 403),
        ("a-member", "PATCH", "projects/{a_project}", {"project": DESCRIBE}, 403),
        ("a-member", "GET", "credentials/{a_spare_credential}", None, 403),
        ("a-reader", "GET", "projects/{a_project}", None, 200),
        ("a-reader", "PATCH", "projects/{a_project}", {"project": DESCRIBE}, 403),
        ("a-reader", "DELETE", "projects/{a_project}", None, 403),
        ("a-reader", "PUT", "projects/{a_project}/tags", {"tags": ["x"]}, 403),
        ("a-reader", "PATCH", "users/{a_reader}", {"user": DESCRIBE}, 403),
        ("a-reader", "PATCH", "groups/{a_group}", {"group": DESCRIBE}, 403),
        ("a-reader", "DELETE", "groups/{a_group}", None, 403),
        ("a-reader", "DELETE", "users/{a_spare}", None, 403),
        (
            "a-reader",
            "POST",
            "credentials",
            {"credential": {"type": "cert", "blob": "x", "user_id": "{a_member}"}},
            403,
        ),
        ("a-reader", "DELETE", "credentials/{a_spare_credential}", None, 403),
        # Keystone's rule (and policy.yaml): every user manages their own credentials.
        ("a-reader", "POST", "credentials", {"credential": {"type": "cert", "blob": "x"}}, 201),
    ]


def cloud_rows() -> list[tuple[str, str, str, Any, int]]:
    """Domains, roles, services, endpoints and regions are the cloud admin's alone."""
    bodies = {
        "domains": {"domain": {"name": "dom-{uniq}"}},
        "roles": {"role": {"name": "role-{uniq}"}},
        "services": {"service": {"type": "svc-{uniq}"}},
        "endpoints": {
            "endpoint": {"interface": "public", "url": "http://x.test", "service_id": "{service}"}
        },
        "regions": {"region": {"id": "region-{uniq}"}},
    }
    rows = []
    for collection, body in bodies.items():
        for persona in PERSONAS:
            rows.append((persona, "POST", collection, body, 403))
        rows.append((CLOUD_ADMIN, "POST", collection, body, 201))
        rows.append((PROJECT_ADMIN, "POST", collection, body, 201))
    return rows


def reach_rows() -> list[tuple[str, str, str, Any, int]]:
    """The side doors: sub-collections, filters and tags of the other domain or user."""
    return [
        ("a-admin", "GET", "projects", {"domain_id": "{dom_b}"}, 403),
        ("a-admin", "GET", "groups", {"domain_id": "{dom_b}"}, 403),
        ("a-admin", "GET", "groups/{b_group}/users", None, 403),
        ("a-admin", "HEAD", "groups/{b_group}/users/{b_spare}", None, 403),
        ("a-admin", "PUT", "groups/{a_group}/users/{b_spare}", None, 403),
        ("a-admin", "GET", "users/{b_member}/groups", None, 403),
        ("a-admin", "GET", "users/{b_member}/projects", None, 403),
        ("a-admin", "PUT", "projects/{b_project}/tags/x", None, 403),
        ("a-admin", "DELETE", "projects/{b_project}/users/{b_member}/roles/{member}", None, 403),
        ("a-admin", "GET", "role_assignments", {"scope.project.id": "{b_project}"}, 403),
        ("a-admin", "GET", "credentials/{a_spare_credential}", None, 403),
        ("a-admin", "POST", "roles", {"role": {"name": "r-{uniq}", "domain_id": "{dom_a}"}}, 403),
        ("a-admin", "DELETE", "domains/{dom_a}", None, 403),
        ("a-member", "GET", "users/{a_member}/projects", None, 200),
        ("a-member", "GET", "users/{a_member}/groups", None, 200),
        ("a-member", "GET", "users/{b_member}/projects", None, 403),
        ("a-member", "GET", "users/{b_member}/groups", None, 403),
        ("a-member", "GET", "projects/{b_project}/tags", None, 403),
        ("a-member", "GET", "role_assignments", {"scope.project.id": "{b_project}"}, 403),
        ("a-member", "GET", "domains/{dom_b}", None, 403),
        ("a-reader", "GET", "groups/{a_group}/users", None, 403),
    ]


MATRIX = [
    pytest.param(*row, id=f"{row[0]} {row[1]} {row[2]} {row[4]}")
    for row in cross_domain_rows()
    + create_rows()
    + grant_rows()
    + own_domain_rows()
    + reach_rows()
    + cloud_rows()
]


@pytest.mark.parametrize(("persona", "method", "path", "body", "status"), MATRIX)
def test_persona_matrix(
    cloud: CloudProcess,
    world: World,
    persona: str,
    method: str,
    path: str,
    body: Any,
    status: int,
) -> None:
    api = world.client(cloud, persona)
    url = world.fill(path)
    if method == "GET":
        response = api.get(url, params=world.fill(body) or None)
    else:
        response = api.request(method, url, json=world.fill(body) if body is not None else None)
    if status == 403 and method != "HEAD":  # a HEAD answer has no body
        error = assert_identity_error(response, 403)
        assert "You are not authorized to perform the requested action" in error["message"]
        if method in ("PATCH", "DELETE"):
            assert_unchanged(cloud, url)
    else:
        assert response.status_code == status, response.text


def assert_unchanged(cloud: CloudProcess, url: str) -> None:
    """A refused update or delete left the resource (or the grant) as it was."""
    after = admin_client(cloud).get(url)
    assert after.status_code in (200, 204), after.text
    if after.status_code == 200:
        resource = next(v for k, v in after.json().items() if k != "links")
        assert resource.get("description") != "changed"


# -- listings: what each persona sees ----------------------------------------------------------

LISTINGS = [
    ("a-admin", "users", {"dom_a"}),
    ("a-admin", "projects", {"dom_a"}),
    ("a-admin", "groups", {"dom_a"}),
    ("a-member", "users", 403),
    ("a-member", "projects", 403),
    ("a-member", "groups", 403),
    ("a-reader", "users", 403),
    ("a-reader", "projects", 403),
    ("a-reader", "groups", 403),
    (CLOUD_ADMIN, "users", {"dom_a", "dom_b", "default"}),
    (CLOUD_ADMIN, "projects", {"dom_a", "dom_b", "default"}),
    (CLOUD_ADMIN, "groups", {"dom_a", "dom_b"}),
    (PROJECT_ADMIN, "users", {"dom_a", "dom_b", "default"}),
    (PROJECT_ADMIN, "projects", {"dom_a", "dom_b", "default"}),
    (PROJECT_ADMIN, "groups", {"dom_a", "dom_b"}),
]


@pytest.mark.parametrize(("persona", "collection", "expected"), LISTINGS)
def test_listings_show_each_persona_only_what_it_may_see(
    cloud: CloudProcess, world: World, persona: str, collection: str, expected: set[str] | int
) -> None:
    response = world.client(cloud, persona).get(collection)
    if isinstance(expected, int):
        assert_identity_error(response, expected)
        return
    assert response.status_code == 200, response.text
    seen = {item["domain_id"] for item in response.json()[collection]}
    wanted = {world.ids.get(name, name) for name in expected}
    if persona in (CLOUD_ADMIN, PROJECT_ADMIN):
        assert wanted <= seen  # the whole cloud, other tests' domains included
    else:
        assert seen == wanted


def test_member_lists_only_their_own_credentials(cloud: CloudProcess, world: World) -> None:
    member = world.client(cloud, "a-member")
    body = {"credential": {"type": "cert", "blob": "mine"}}
    mine = created(member.post("credentials", json=body), "credential")
    listed = member.get("credentials")
    assert listed.status_code == 200, listed.text
    assert [c["id"] for c in listed.json()["credentials"]] == [mine]
    others = member.get("credentials", params={"user_id": world.ids["a_spare"]})
    assert others.status_code == 200 and others.json()["credentials"] == []
    everyone = admin_client(cloud).get("credentials").json()["credentials"]
    assert {mine, world.ids["a_spare_credential"], world.ids["b_spare_credential"]} <= {
        c["id"] for c in everyone
    }


# -- the same through the real CLI, one journey per persona ------------------------------------


def clouds_yaml(cloud: CloudProcess, world: World, path: Path) -> Path:
    """A clouds.yaml with one cloud per persona, as each would write it."""
    clouds: dict[str, Any] = {}
    for persona, scope in world.scopes.items():
        tag = persona.split("-")[0]
        auth: dict[str, Any] = {
            "auth_url": cloud.identity_url,
            "username": persona,
            "password": PASSWORD,
            "user_domain_name": f"dom-{tag}",
        }
        if "domain" in scope:
            auth["domain_name"] = f"dom-{tag}"
        else:
            auth |= {"project_name": f"proj-{tag}", "project_domain_name": f"dom-{tag}"}
        clouds[persona] = {"auth": auth, "identity_api_version": "3", "region_name": "RegionOne"}
    path.write_text(yaml.safe_dump({"clouds": clouds}))
    return path


@pytest.fixture(scope="module")
def persona_clouds(
    cloud: CloudProcess, world: World, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return clouds_yaml(cloud, world, tmp_path_factory.mktemp("personas") / "clouds.yaml")


def test_cli_domain_admin_lists_only_their_domains_users(
    cloud: CloudProcess, world: World, persona_clouds: Path
) -> None:
    rows = cloud.openstack(
        "user", "list", "--long", "-f", "json", cloud="a-admin", clouds_file=persona_clouds
    )
    assert {r["Name"] for r in rows} >= {"a-admin", "a-member", "a-reader", "a-spare"}
    assert {r["Domain"] for r in rows} == {world.ids["dom_a"]}


def test_cli_member_cannot_show_the_other_project(
    cloud: CloudProcess, world: World, persona_clouds: Path
) -> None:
    result = cloud.openstack(
        "project",
        "show",
        world.ids["b_project"],
        cloud="a-member",
        clouds_file=persona_clouds,
        check=False,
    )
    assert result.returncode != 0
    assert world.ids["b_project"] not in result.stdout
    own = cloud.openstack(
        "project",
        "show",
        world.ids["a_project"],
        "-f",
        "json",
        cloud="a-member",
        clouds_file=persona_clouds,
    )
    assert own["name"] == "proj-a"


def test_cli_reader_cannot_change_their_project(
    cloud: CloudProcess, world: World, persona_clouds: Path
) -> None:
    result = cloud.openstack(
        "project",
        "set",
        "--description",
        "changed",
        world.ids["a_project"],
        cloud="a-reader",
        clouds_file=persona_clouds,
        check=False,
    )
    assert result.returncode != 0
    assert "403" in result.stderr and "identity:update_project" in result.stderr
    shown = admin_client(cloud).get(f"projects/{world.ids['a_project']}").json()["project"]
    assert shown["description"] != "changed"


def test_cli_cloud_admin_sees_both_domains(cloud: CloudProcess, world: World) -> None:
    rows = cloud.openstack("project", "list", "--long", "-f", "json")
    domains = {r["Domain ID"] for r in rows if r["Name"] in ("proj-a", "proj-b")}
    assert domains == {world.ids["dom_a"], world.ids["dom_b"]}


# -- a domain admin cannot carry things out of their domain ----------------------------------


@pytest.mark.parametrize(
    ("collection", "key", "thing"),
    [
        ("projects", "project", "a_project"),
        ("users", "user", "a_spare"),
        ("groups", "group", "a_group"),
    ],
)
def test_domain_admin_cannot_move_things_to_another_domain(
    cloud: CloudProcess, world: World, collection: str, key: str, thing: str
) -> None:
    url = f"{collection}/{world.ids[thing]}"
    moved = {key: {"domain_id": world.ids["dom_b"]}}
    # Keystone: "Update of `domain_id` is not allowed." / "Cannot change Domain ID" (400).
    assert_identity_error(world.client(cloud, "a-admin").patch(url, json=moved), 400)
    after = admin_client(cloud).get(url).json()[key]
    assert after["domain_id"] == world.ids["dom_a"]


def test_domain_admin_cannot_hang_a_project_under_the_other_domain(
    cloud: CloudProcess, world: World
) -> None:
    boss = world.client(cloud, "a-admin")
    parent = world.ids["b_project"]
    implicit = {"project": {"name": "stray-1", "parent_id": parent}}
    assert_identity_error(boss.post("projects", json=implicit), 403)
    explicit = {
        "project": {"name": "stray-2", "parent_id": parent, "domain_id": world.ids["dom_a"]}
    }
    # Keystone: a parent in another domain than the project's is a 400 ValidationError.
    assert_identity_error(boss.post("projects", json=explicit), 400)
    children = admin_client(cloud).get("projects", params={"parent_id": parent}).json()
    assert children["projects"] == []


def test_domain_admin_creates_in_their_domain_by_default(cloud: CloudProcess, world: World) -> None:
    boss = world.client(cloud, "a-admin")
    for collection, key in (("projects", "project"), ("users", "user"), ("groups", "group")):
        response = boss.post(collection, json={key: {"name": f"home-{key}"}})
        assert response.status_code == 201, response.text
        assert response.json()[key]["domain_id"] == world.ids["dom_a"]


def test_nobody_validates_or_revokes_someone_elses_token(cloud: CloudProcess, world: World) -> None:
    victim = world.tokens["b-member"]
    for persona in PERSONAS:
        api = world.client(cloud, persona)
        headers = {"X-Subject-Token": victim}
        assert_identity_error(api.get("auth/tokens", headers=headers), 403)
        assert_identity_error(api.delete("auth/tokens", headers=headers), 403)
    own = world.client(cloud, "a-member").get(
        "auth/tokens", headers={"X-Subject-Token": world.tokens["a-member"]}
    )
    assert own.status_code == 200, own.text
    still = admin_client(cloud).get("auth/tokens", headers={"X-Subject-Token": victim})
    assert still.status_code == 200, still.text


def test_a_user_cannot_hand_their_credential_to_someone_else(
    cloud: CloudProcess, world: World
) -> None:
    reader = world.client(cloud, "a-reader")
    mine = created(
        reader.post("credentials", json={"credential": {"type": "cert", "blob": "r"}}),
        "credential",
    )
    handed = {"credential": {"user_id": world.ids["b_member"]}}
    assert_identity_error(reader.patch(f"credentials/{mine}", json=handed), 403)
    after = admin_client(cloud).get(f"credentials/{mine}").json()["credential"]
    assert after["user_id"] == world.ids["a_reader"]


# -- Keystone's default: an admin on any project is the cloud admin ----------------------------


def test_project_admin_token_does_not_carry_is_admin_project(
    cloud: CloudProcess, world: World
) -> None:
    # Keystone shows `is_admin_project` only when an admin project is configured.
    token = world.tokens[PROJECT_ADMIN]
    body = world.client(cloud, CLOUD_ADMIN).get("auth/tokens", headers={"X-Subject-Token": token})
    assert body.status_code == 200, body.text
    shown = body.json()["token"]
    assert shown["project"]["id"] == world.ids["ops_project"]
    assert "admin" in {role["name"] for role in shown["roles"]}
    assert "is_admin_project" not in shown


def test_project_admin_is_an_image_admin(cloud: CloudProcess, world: World) -> None:
    # Regression: "Only administrators may change an image's owner" for a project admin.
    images = ImageClient(cloud, token=world.tokens[PROJECT_ADMIN])
    image = images.create(name="ops-image", disk_format="raw", container_format="bare")
    given = images.patch(image["id"], [{"op": "replace", "path": "/owner", "value": "elsewhere"}])
    assert given.status_code == 200, given.text
    published = images.patch(
        image["id"], [{"op": "replace", "path": "/visibility", "value": "public"}]
    )
    assert published.status_code == 200, published.text
    shown = ImageClient(cloud).show(image["id"])
    assert (shown["owner"], shown["visibility"]) == ("elsewhere", "public")


def test_cli_project_admin_creates_a_domain(
    cloud: CloudProcess, world: World, tmp_path: Path
) -> None:
    clouds = {
        "ops": {
            "auth": {
                "auth_url": cloud.identity_url,
                "username": "ops-a",
                "password": "ops-a-pass-1",
                "user_domain_id": world.ids["dom_a"],
                "project_id": world.ids["ops_project"],
            },
            "identity_api_version": "3",
            "region_name": "RegionOne",
        }
    }
    path = tmp_path / "clouds.yaml"
    path.write_text(yaml.safe_dump({"clouds": clouds}))
    made = cloud.openstack(
        "domain", "create", "ops-made", "-f", "json", cloud="ops", clouds_file=path
    )
    shown = admin_client(cloud).get(f"domains/{made['id']}")
    assert shown.status_code == 200 and shown.json()["domain"]["name"] == "ops-made"
