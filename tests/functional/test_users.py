"""Users through the real CLI, openstacksdk and plain HTTP: CRUD, passwords, options, filters,
policy, errors, notifications, token invalidation; lockout and expiry on a stricter cloud."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import create_engine, text

from tests.functional.cloud import CloudFactory, CloudProcess
from tests.functional.identity_api import (
    IdentityClient,
    admin_client,
    assert_create_refused,
    assert_identity_error,
    issue,
    password_auth,
    post_token,
    project_scope,
)

GOOD_PASSWORD = "Secret-pass-1"


def new_user(api: IdentityClient, name: str, **fields: Any) -> dict[str, Any]:
    response = api.post("users", json={"user": {"name": name, **fields}})
    assert response.status_code == 201, response.text
    return response.json()["user"]


def login(cloud: CloudProcess, name: str, password: str) -> httpx.Response:
    return post_token(cloud, password_auth(cloud, name, password=password))


def token_of(cloud: CloudProcess, name: str, password: str) -> str:
    response = login(cloud, name, password)
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


def change_password(
    cloud: CloudProcess, user_id: str, original: str, new: str, token: str | None = None
) -> httpx.Response:
    headers = {"X-Auth-Token": token} if token else {}
    return httpx.post(
        f"{cloud.identity_url}/v3/users/{user_id}/password",
        json={"user": {"original_password": original, "password": new}},
        headers=headers,
        timeout=30,
    )


def works(cloud: CloudProcess, token: str) -> bool:
    """Whether `token` still authenticates a request."""
    response = httpx.get(
        f"{cloud.identity_url}/v3/auth/catalog", headers={"X-Auth-Token": token}, timeout=30
    )
    return response.status_code == 200


# -- journeys with the real clients ------------------------------------------------------


def test_user_lifecycle_with_the_cli(cloud: CloudProcess) -> None:
    created = cloud.openstack(
        "user", "create", "--password", GOOD_PASSWORD, "--email", "c@example.org",
        "--description", "cli user", "cli-user", "-f", "json",
    )  # fmt: skip
    assert created["name"] == "cli-user" and created["enabled"] is True
    assert created["domain_id"] == "default" and created["email"] == "c@example.org"
    assert "password" not in created
    listed = cloud.openstack("user", "list", "--long", "-f", "json")
    assert "cli-user" in {u["Name"] for u in listed}
    cloud.openstack("user", "set", "--disable", "--description", "old", "cli-user")
    shown = cloud.openstack("user", "show", "cli-user", "-f", "json")
    assert shown["enabled"] is False and shown["description"] == "old"
    cloud.openstack("user", "delete", "cli-user")
    assert cloud.openstack("user", "show", "cli-user", check=False).returncode != 0


def test_cli_user_password_set_changes_own_password(cloud: CloudProcess, tmp_path: Path) -> None:
    old = cloud.password("demo")
    old_token = issue(cloud, "demo", project_scope("demo"))
    cloud.openstack(
        "user", "password", "set", "--password", "Changed-pw-1", "--original-password", old,
        cloud="onestack-demo",
    )  # fmt: skip
    try:
        assert not works(cloud, old_token)
        assert_identity_error(login(cloud, "demo", old), 401)
        demo_id = cloud.openstack("user", "show", "demo", "-f", "json")["id"]
    finally:
        restored = change_password(cloud, demo_id, "Changed-pw-1", old)
    assert restored.status_code == 204, restored.text
    assert works(cloud, issue(cloud, "demo", project_scope("demo")))


def test_user_with_openstacksdk(cloud: CloudProcess) -> None:
    conn = cloud.sdk()
    try:
        user = conn.identity.create_user(
            name="sdk-user", password=GOOD_PASSWORD, email="s@example.org", domain_id="default"
        )
        assert conn.identity.get_user(user.id).email == "s@example.org"
        assert [u.id for u in conn.identity.users(name="sdk-user")] == [user.id]
        conn.identity.update_user(user, enabled=False, description="off")
        assert conn.identity.get_user(user.id).is_enabled is False
        assert [u.id for u in conn.identity.users(name="sdk-user", is_enabled=False)] == [user.id]
        conn.identity.delete_user(user)
        assert list(conn.identity.users(name="sdk-user")) == []
    finally:
        conn.close()


# -- behaviour ---------------------------------------------------------------------------


def test_created_user_renders_like_keystone(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    user = new_user(
        api,
        "render-me",
        password=GOOD_PASSWORD,
        favourite="tea",
        options={"ignore_password_expiry": True},
    )
    shown = api.get(f"users/{user['id']}").json()["user"]
    assert shown == user
    assert shown["favourite"] == "tea" and shown["options"] == {"ignore_password_expiry": True}
    assert shown["password_expires_at"] is None and shown["domain_id"] == "default"
    assert shown["links"]["self"].endswith(f"/v3/users/{user['id']}")
    assert "password" not in shown and "default_project_id" not in shown
    # A null option is removed, others are kept.
    patched = api.patch(
        f"users/{user['id']}", json={"user": {"options": {"ignore_password_expiry": None}}}
    )
    assert patched.json()["user"]["options"] == {}


def test_default_project_must_exist(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    project_id = api.get("auth/projects").json()["projects"][0]["id"]
    user = new_user(api, "with-project", default_project_id=project_id)
    assert user["default_project_id"] == project_id
    error = assert_identity_error(
        api.post("users", json={"user": {"name": "no-project", "default_project_id": "nope"}}),
        400,
    )
    assert "nope" in error["message"]
    assert api.get("users", params={"name": "no-project"}).json()["users"] == []


def test_a_login_without_scope_is_scoped_to_the_default_project(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    project = api.post("projects", json={"project": {"name": "home-project"}}).json()["project"]
    user = new_user(api, "homed", password="homed-pw-1", default_project_id=project["id"])
    without_role = post_token(cloud, password_auth(cloud, "homed", password="homed-pw-1"))
    assert "project" not in without_role.json()["token"]  # no role there: unscoped
    member = api.get("roles", params={"name": "member"}).json()["roles"][0]["id"]
    assignment = f"projects/{project['id']}/users/{user['id']}/roles/{member}"
    assert api.put(assignment).status_code == 204

    scoped = post_token(cloud, password_auth(cloud, "homed", password="homed-pw-1"))
    assert scoped.json()["token"]["project"]["id"] == project["id"]
    body = password_auth(cloud, "homed", password="homed-pw-1")
    body["auth"]["scope"] = "unscoped"  # asked for explicitly: no default project
    assert "project" not in post_token(cloud, body).json()["token"]


def test_duplicate_name_in_a_domain_is_409(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    new_user(api, "twice")
    assert_identity_error(api.post("users", json={"user": {"name": "twice"}}), 409)
    other = new_user(api, "renamed")
    assert_identity_error(api.patch(f"users/{other['id']}", json={"user": {"name": "twice"}}), 409)
    assert len(api.get("users", params={"name": "twice"}).json()["users"]) == 1


def test_unknown_domain_is_404(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    response = api.post("users", json={"user": {"name": "lost", "domain_id": "nosuchdomain"}})
    assert "nosuchdomain" in assert_identity_error(response, 404)["message"]


def test_list_filters(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    off = new_user(api, f"off-{uuid.uuid4().hex[:6]}", enabled=False)
    disabled = api.get("users", params={"enabled": "false"}).json()["users"]
    assert off["id"] in {u["id"] for u in disabled}
    assert all(u["enabled"] is False for u in disabled)
    by_domain = api.get("users", params={"domain_id": "default"}).json()["users"]
    assert {"admin", "demo"} <= {u["name"] for u in by_domain}
    assert api.get("users", params={"domain_id": "nosuch"}).json()["users"] == []
    # Nobody's password expires on the default cloud.
    far = "lt:2999-01-01T00:00:00Z"
    assert api.get("users", params={"password_expires_at": far}).json()["users"] == []
    bad = api.get("users", params={"password_expires_at": "soon:2020-01-01T00:00:00Z"})
    assert "operator" in assert_identity_error(bad, 400)["message"]
    bad = api.get("users", params={"password_expires_at": "lt:yesterday"})
    assert "timestamp" in assert_identity_error(bad, 400)["message"]


def test_wrong_original_password_is_401_and_changes_nothing(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    user = new_user(api, "keeper", password=GOOD_PASSWORD)
    assert_identity_error(change_password(cloud, user["id"], "wrong", "Other-pass-1"), 401)
    assert_identity_error(change_password(cloud, "nosuchuser", "wrong", "Other-pass-1"), 401)
    token_of(cloud, "keeper", GOOD_PASSWORD)


def test_self_service_change_invalidates_tokens_without_a_token(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    user = new_user(api, "changer", password=GOOD_PASSWORD)
    old_token = token_of(cloud, "changer", GOOD_PASSWORD)
    assert change_password(cloud, user["id"], GOOD_PASSWORD, "Fresh-pass-2").status_code == 204
    assert not works(cloud, old_token)
    assert works(cloud, token_of(cloud, "changer", "Fresh-pass-2"))
    assert [n for n in cloud.notifications("identity.user.updated")
            if n["payload"]["resource_info"] == user["id"]]  # fmt: skip


def test_locked_password_cannot_be_changed_by_its_user(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    user = new_user(api, "locked-pw", password=GOOD_PASSWORD, options={"lock_password": True})
    assert_identity_error(change_password(cloud, user["id"], GOOD_PASSWORD, "Other-pass-3"), 403)
    token_of(cloud, "locked-pw", GOOD_PASSWORD)


def test_admin_password_reset_disable_and_delete_invalidate_tokens(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    user = new_user(api, "victim", password=GOOD_PASSWORD)
    token = token_of(cloud, "victim", GOOD_PASSWORD)
    api.patch(f"users/{user['id']}", json={"user": {"password": "Reset-pass-4"}})
    assert not works(cloud, token)
    token = token_of(cloud, "victim", "Reset-pass-4")
    api.patch(f"users/{user['id']}", json={"user": {"enabled": False}})
    assert not works(cloud, token)
    assert_identity_error(login(cloud, "victim", "Reset-pass-4"), 401)
    api.patch(f"users/{user['id']}", json={"user": {"enabled": True}})
    assert not works(cloud, token)  # re-enabling does not bring old tokens back
    token = token_of(cloud, "victim", "Reset-pass-4")
    assert api.delete(f"users/{user['id']}").status_code == 204
    assert not works(cloud, token)
    assert_identity_error(api.get(f"users/{user['id']}"), 404)


def test_removing_a_password_ends_password_login(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    user = new_user(api, "passwordless", password=GOOD_PASSWORD)
    token = token_of(cloud, "passwordless", GOOD_PASSWORD)
    patched = api.patch(f"users/{user['id']}", json={"user": {"password": None}})
    assert patched.status_code == 200, patched.text
    assert not works(cloud, token)
    assert_identity_error(login(cloud, "passwordless", GOOD_PASSWORD), 401)


def test_domain_id_cannot_change(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    user = new_user(api, "stay-home")
    response = api.patch(f"users/{user['id']}", json={"user": {"domain_id": "elsewhere"}})
    assert "domain_id" in assert_identity_error(response, 400)["message"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "JSON object"),
        (b'{"user": {}}', "user.name"),
        (b'{"user": {"name": 7}}', "user.name"),
        (b'{"user": {"name": ""}}', "user.name"),
        (b'{"user": {"name": "   "}}', "user.name"),
        (b'{"user": {"name": "x", "default_project_id": 5}}', "user.default_project_id"),
        (b'{"user": {"name": "x", "options": {"multi_factor_auth_rules": [1]}}}', "rules"),
        (b'{"user": {"name": "x", "enabled": "yes"}}', "user.enabled"),
        (b'{"user": {"name": "x", "password": 12345}}', "user.password"),
        (b'{"user": {"name": "x", "options": {"fly": true}}}', "user.options.fly"),
        (b'{"user": {"name": "x", "options": {"lock_password": "y"}}}', "lock_password"),
        (b'{"user": {"name": "x", "options": []}}', "user.options"),
        (b'{"user": {"name": "x"}, "surprise": 1}', "surprise"),
        (b'{"usr": {"name": "x"}}', "user"),
    ],
)
def test_malformed_create_is_400_and_writes_nothing(
    cloud: CloudProcess, body: bytes, fragment: str
) -> None:
    api = admin_client(cloud)
    assert_create_refused(api, "users", body, fragment)


@pytest.mark.parametrize(
    "body",
    [
        {"user": {"password": "x"}},
        {"user": {"original_password": "x"}},
        {"user": {"password": 1, "original_password": "x"}},
        {"passwd": {"password": "x", "original_password": "y"}},
    ],
)
def test_malformed_password_change_is_400(cloud: CloudProcess, body: dict[str, Any]) -> None:
    response = httpx.post(f"{cloud.identity_url}/v3/users/whoever/password", json=body, timeout=30)
    assert_identity_error(response, 400)


def test_unknown_user_is_404_and_no_token_is_401(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    assert "nosuchuser" in assert_identity_error(api.get("users/nosuchuser"), 404)["message"]
    assert_identity_error(api.patch("users/nosuchuser", json={"user": {}}), 404)
    assert_identity_error(api.delete("users/nosuchuser"), 404)
    assert_identity_error(api.get("users/nosuchuser/groups"), 404)
    anonymous = IdentityClient(cloud, "")
    assert_identity_error(anonymous.get("users"), 401)
    assert_identity_error(anonymous.post("users", json={"user": {"name": "x"}}), 401)


def test_member_sees_only_itself(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    demo = IdentityClient(cloud, issue(cloud, "demo", project_scope("demo")))
    admin_id = api.get("users", params={"name": "admin"}).json()["users"][0]["id"]
    demo_id = api.get("users", params={"name": "demo"}).json()["users"][0]["id"]
    assert demo.get(f"users/{demo_id}").json()["user"]["name"] == "demo"
    assert demo.get(f"users/{demo_id}/groups").status_code == 200
    assert_identity_error(demo.get("users"), 403)
    assert_identity_error(demo.get(f"users/{admin_id}"), 403)
    assert_identity_error(demo.patch(f"users/{admin_id}", json={"user": {"enabled": False}}), 403)
    assert_identity_error(demo.patch(f"users/{demo_id}", json={"user": {"name": "me"}}), 403)
    assert_identity_error(demo.delete(f"users/{admin_id}"), 403)
    assert_identity_error(demo.post("users", json={"user": {"name": "mine"}}), 403)
    assert api.get(f"users/{admin_id}").json()["user"]["enabled"] is True


def test_domain_scoped_admin_lists_only_its_domain(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    domain = api.post("domains", json={"domain": {"name": "elsewhere-users"}}).json()["domain"]
    outsider = new_user(api, "outsider", domain_id=domain["id"])
    everyone = {u["id"] for u in api.get("users").json()["users"]}
    assert outsider["id"] in everyone
    domain_admin = IdentityClient(cloud, issue(cloud, "admin", {"domain": {"id": "default"}}))
    mine = domain_admin.get("users").json()["users"]
    assert mine and {u["domain_id"] for u in mine} == {"default"}
    assert_identity_error(domain_admin.get("users", params={"domain_id": domain["id"]}), 403)
    assert_identity_error(domain_admin.get(f"users/{outsider['id']}"), 403)
    # Without a domain_id, a domain-scoped caller creates users in its own domain.
    created = domain_admin.post("users", json={"user": {"name": "made-by-domain-admin"}})
    assert created.status_code == 201 and created.json()["user"]["domain_id"] == "default"


def test_user_changes_are_notified(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    user = new_user(api, "noisy")
    api.patch(f"users/{user['id']}", json={"user": {"enabled": False}})
    api.delete(f"users/{user['id']}")
    for event in ("created", "updated", "deleted"):
        found = [
            n
            for n in cloud.notifications(f"identity.user.{event}")
            if n["payload"]["resource_info"] == user["id"]
        ]
        assert len(found) == 1, event
        assert found[0]["payload"]["initiator"]["user_id"]


# -- a cloud with password rules, expiry and lockout --------------------------------------

STRICT = {
    "identity.lockout_failure_attempts": 3,
    "identity.password_min_length": 8,
    "identity.password_regex": r"^(?=.*\d).*$",
    "identity.password_regex_description": "must contain a digit",
    "identity.password_expires_days": 30,
}


@pytest.fixture(scope="module")
def strict(backend: str | None, make_cloud: CloudFactory) -> Iterator[CloudProcess]:
    """A cloud with Keystone's security-compliance settings turned on."""
    database_url = backend
    if backend is not None:
        database_url = _sibling_database(backend)
    process = make_cloud(database_url=database_url, settings=STRICT, name="strict")
    yield process
    if process.process is not None:
        process.stop()  # before its database goes
    if database_url is not None:
        _drop_database(database_url)


def _sibling_database(url: str) -> str:
    """A fresh PostgreSQL database next to the backend's."""
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}_strict"')
    return f"{base}/{name}_strict"


def _drop_database(url: str) -> None:
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def execute(cloud: CloudProcess, statement: str, **params: Any) -> None:
    """Change the cloud's database directly: how a test lets time pass without waiting."""
    url = cloud.database_url or f"sqlite:///{cloud.state_dir / 'onestack.db'}"
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
            conn.execute(text(statement), params)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("password", "fragment"),
    [("Short1", "at least 8"), ("no-digits-here", "must contain a digit")],
)
def test_password_rules_are_enforced(strict: CloudProcess, password: str, fragment: str) -> None:
    api = admin_client(strict)
    name = f"rules-{uuid.uuid4().hex[:6]}"
    error = assert_identity_error(
        api.post("users", json={"user": {"name": name, "password": password}}), 400
    )
    assert "Password validation error" in error["message"] and fragment in error["message"]
    assert api.get("users", params={"name": name}).json()["users"] == []
    user = new_user(api, name, password=GOOD_PASSWORD)
    patched = api.patch(f"users/{user['id']}", json={"user": {"password": password}})
    assert fragment in assert_identity_error(patched, 400)["message"]
    changed = change_password(strict, user["id"], GOOD_PASSWORD, password)
    assert fragment in assert_identity_error(changed, 400)["message"]
    token_of(strict, name, GOOD_PASSWORD)


def test_password_expiry_is_set_and_enforced(strict: CloudProcess) -> None:
    api = admin_client(strict)
    user = new_user(api, "expiring", password=GOOD_PASSWORD)
    assert user["password_expires_at"] is not None
    token_user = login(strict, "expiring", GOOD_PASSWORD).json()["token"]["user"]
    assert token_user["password_expires_at"][:19] == user["password_expires_at"][:19]
    exempt = new_user(api, "exempt", password=GOOD_PASSWORD,
                      options={"ignore_password_expiry": True})  # fmt: skip
    assert exempt["password_expires_at"] is None
    for query, present in [
        ("lt:2999-01-01T00:00:00Z", True),
        ("gte:2000-01-01T00:00:00Z", True),
        ("lte:2000-01-01T00:00:00Z", False),
        ("gt:2999-01-01T00:00:00Z,lt:2000-01-01T00:00:00Z", False),
    ]:
        listed = api.get("users", params={"password_expires_at": query}).json()["users"]
        assert (user["id"] in {u["id"] for u in listed}) is present, query
        assert exempt["id"] not in {u["id"] for u in listed}
    group = api.post("groups", json={"group": {"name": "expiring-group"}}).json()["group"]
    for member in (user, exempt):
        api.put(f"groups/{group['id']}/users/{member['id']}")
    members = api.get(
        f"groups/{group['id']}/users", params={"password_expires_at": "gt:2000-01-01T00:00:00Z"}
    )
    assert [u["id"] for u in members.json()["users"]] == [user["id"]]
    execute(strict, "UPDATE identity_users SET password_expires_at = :t WHERE id = :i",
            t="2000-01-01 00:00:00", i=user["id"])  # fmt: skip
    assert (
        "expired" in assert_identity_error(login(strict, "expiring", GOOD_PASSWORD), 401)["message"]
    )
    # The user changes it without a token, as Keystone allows.
    assert change_password(strict, user["id"], GOOD_PASSWORD, "Renewed-pass-5").status_code == 204
    token_of(strict, "expiring", "Renewed-pass-5")


def test_lockout_after_failed_logins(strict: CloudProcess) -> None:
    api = admin_client(strict)
    user = new_user(api, "forgetful", password=GOOD_PASSWORD)
    login(strict, "forgetful", "wrong-1")
    token_of(strict, "forgetful", GOOD_PASSWORD)  # success resets the count
    for attempt in range(3):
        assert_identity_error(login(strict, "forgetful", f"wrong-{attempt}"), 401)
    error = assert_identity_error(login(strict, "forgetful", GOOD_PASSWORD), 401)
    assert "locked" in error["message"] and user["id"] in error["message"]
    assert_identity_error(change_password(strict, user["id"], GOOD_PASSWORD, "Other-pass-6"), 401)
    # Once the lockout duration has passed, the right password works again.
    execute(strict, "UPDATE identity_users SET failed_auth_at = :t WHERE id = :i",
            t="2000-01-01 00:00:00", i=user["id"])  # fmt: skip
    token_of(strict, "forgetful", GOOD_PASSWORD)


def test_lockout_exemption(strict: CloudProcess) -> None:
    api = admin_client(strict)
    new_user(api, "exempt-lock", password=GOOD_PASSWORD,
             options={"ignore_lockout_failure_attempts": True})  # fmt: skip
    for attempt in range(4):
        assert_identity_error(login(strict, "exempt-lock", f"wrong-{attempt}"), 401)
    token_of(strict, "exempt-lock", GOOD_PASSWORD)
