"""Application credentials through the real CLI, openstacksdk and plain HTTP: the CRUD
journey, logging in with one (clouds.yaml `v3applicationcredential`, openstacksdk, raw JSON),
the delegated roles, restricted credentials, invalidation, expiry, bad input, notifications."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy
import yaml

from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import (
    IdentityClient,
    admin_client,
    assert_identity_error,
    password_auth,
    post_token,
    validate,
)

PASSWORD = "app-cred-pass-1"
EXPIRY_WAIT_S = 30


@dataclass
class Person:
    """A fresh user holding `member` (so also `reader`) on a fresh project of their own."""

    cloud: CloudProcess
    user_id: str
    name: str
    project_id: str

    def token(self) -> str:
        scope = {"project": {"id": self.project_id}}
        response = post_token(self.cloud, password_auth(self.cloud, self.name, scope, PASSWORD))
        assert response.status_code == 201, response.text
        return response.headers["X-Subject-Token"]

    def api(self) -> IdentityClient:
        return IdentityClient(self.cloud, self.token())

    @property
    def collection(self) -> str:
        return f"users/{self.user_id}/application_credentials"

    def create(self, api: IdentityClient | None = None, **fields: Any) -> dict[str, Any]:
        body = {"name": f"app-{uuid.uuid4().hex[:8]}", **fields}
        response = (api or self.api()).post(self.collection, json={"application_credential": body})
        assert response.status_code == 201, response.text
        return response.json()["application_credential"]


def _admin_create(api: IdentityClient, collection: str, key: str, body: dict[str, Any]) -> str:
    response = api.post(collection, json={key: body})
    assert response.status_code == 201, response.text
    return response.json()[key]["id"]


def role_id(api: IdentityClient, name: str) -> str:
    return api.get("roles", params={"name": name}).json()["roles"][0]["id"]


@pytest.fixture
def person(cloud: CloudProcess) -> Person:
    api = admin_client(cloud)
    name = f"appcred-{uuid.uuid4().hex[:8]}"
    user_id = _admin_create(
        api, "users", "user", {"name": name, "domain_id": "default", "password": PASSWORD}
    )
    project_id = _admin_create(api, "projects", "project", {"name": name, "domain_id": "default"})
    granted = api.put(f"projects/{project_id}/users/{user_id}/roles/{role_id(api, 'member')}")
    assert granted.status_code == 204, granted.text
    return Person(cloud, user_id, name, project_id)


def app_cred_auth(**method: Any) -> dict[str, Any]:
    identity = {"methods": ["application_credential"], "application_credential": method}
    return {"auth": {"identity": identity}}


def login(cloud: CloudProcess, credential: dict[str, Any]) -> httpx.Response:
    body = app_cred_auth(id=credential["id"], secret=credential["secret"])
    return post_token(cloud, body)


def login_token(cloud: CloudProcess, credential: dict[str, Any]) -> str:
    response = login(cloud, credential)
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


def role_names(roles: list[dict[str, Any]]) -> set[str]:
    return {role["name"] for role in roles}


def write_clouds(path: Path, cloud: CloudProcess, auth: dict[str, Any]) -> Path:
    entry = {
        "auth_type": "v3applicationcredential",
        "auth": {"auth_url": cloud.identity_url, **auth},
        "region_name": yaml.safe_load(cloud.clouds_file.read_text())["clouds"]["onestack"][
            "region_name"
        ],
        "identity_api_version": 3,
        "interface": "public",
    }
    path.write_text(yaml.safe_dump({"clouds": {"appcred": entry}}))
    return path


# -- the CLI and openstacksdk ------------------------------------------------------------


def test_application_credential_journey_with_the_cli(cloud: CloudProcess) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    created = cloud.openstack(
        "application", "credential", "create", name, "--role", "reader",
        "--description", "for the monitoring job", "-f", "json",
    )  # fmt: skip
    assert created["Name"] == name and created["Secret"]
    assert role_names(created["Roles"]) == {"reader"} and created["Unrestricted"] is False
    listed = cloud.openstack("application", "credential", "list", "-f", "json")
    assert created["ID"] in {c["ID"] for c in listed}
    shown = cloud.openstack("application", "credential", "show", name, "-f", "json")
    assert shown["ID"] == created["ID"] and "Secret" not in shown
    assert shown["Description"] == "for the monitoring job"
    cloud.openstack("application", "credential", "delete", name)
    gone = cloud.openstack("application", "credential", "show", created["ID"], check=False)
    assert gone.returncode != 0


def test_cli_logs_in_with_a_v3applicationcredential_cloud(
    cloud: CloudProcess, person: Person, tmp_path: Path
) -> None:
    credential = person.create(roles=[{"name": "reader"}])
    by_id = write_clouds(
        tmp_path / "by-id.yaml",
        cloud,
        {
            "application_credential_id": credential["id"],
            "application_credential_secret": credential["secret"],
        },
    )
    issued = cloud.openstack("token", "issue", "-f", "json", cloud="appcred", clouds_file=by_id)
    assert issued["project_id"] == person.project_id and issued["user_id"] == person.user_id
    by_name = write_clouds(
        tmp_path / "by-name.yaml",
        cloud,
        {
            "application_credential_name": credential["name"],
            "application_credential_secret": credential["secret"],
            "username": person.name,
            "user_domain_name": "Default",
        },
    )
    issued = cloud.openstack("token", "issue", "-f", "json", cloud="appcred", clouds_file=by_name)
    assert issued["project_id"] == person.project_id


def test_openstacksdk_logs_in_with_an_application_credential(
    cloud: CloudProcess, person: Person
) -> None:
    import openstack

    credential = person.create()
    conn = openstack.connect(
        auth_type="v3applicationcredential",
        auth_url=cloud.identity_url,
        application_credential_id=credential["id"],
        application_credential_secret=credential["secret"],
    )
    assert conn.current_project_id == person.project_id
    assert conn.current_user_id == person.user_id
    token = conn.session.get_token()
    body = validate(cloud, token).json()["token"]
    assert body["application_credential"]["id"] == credential["id"]


def test_openstacksdk_manages_application_credentials(cloud: CloudProcess) -> None:
    import openstack

    conn = cloud.sdk("admin")
    user_id = conn.current_user_id
    created = conn.identity.create_application_credential(
        user_id, f"sdk-{uuid.uuid4().hex[:8]}", secret="chosen-secret", unrestricted=True
    )
    assert created.secret == "chosen-secret" and created.unrestricted is True
    found = conn.identity.find_application_credential(user_id, created.name, ignore_missing=False)
    assert found.id == created.id
    conn.identity.delete_application_credential(user_id, created.id)
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.identity.find_application_credential(user_id, created.name, ignore_missing=False)


# -- what a credential is and what its tokens carry ---------------------------------------


def test_create_shows_the_secret_once_and_stores_only_its_hash(
    cloud: CloudProcess, person: Person
) -> None:
    api = person.api()
    credential = person.create(api)
    assert len(credential["secret"]) >= 64
    assert credential["project_id"] == person.project_id
    assert role_names(credential["roles"]) == {"member", "reader"}  # default: the token's roles
    assert credential["unrestricted"] is False and credential["access_rules"] == []
    shown = api.get(f"{person.collection}/{credential['id']}").json()["application_credential"]
    assert "secret" not in shown and shown["id"] == credential["id"]
    stored = _stored_secret_hash(cloud, credential["id"])
    assert stored.startswith("$argon2") and credential["secret"] not in stored


def _stored_secret_hash(cloud: CloudProcess, app_cred_id: str) -> str:
    url = cloud.database_url or f"sqlite:///{cloud.state_dir}/onestack.db"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sqlalchemy.text(
                    "SELECT secret_hash FROM identity_application_credentials WHERE id = :id"
                ),
                {"id": app_cred_id},
            ).scalar_one()
    finally:
        engine.dispose()


def test_token_carries_the_credential_and_only_its_roles(
    cloud: CloudProcess, person: Person
) -> None:
    credential = person.create(
        roles=[{"name": "reader"}],
        access_rules=[{"service": "compute", "method": "GET", "path": "/v2.1/servers"}],
    )
    response = login(cloud, credential)
    assert response.status_code == 201, response.text
    token = response.json()["token"]
    assert token["methods"] == ["application_credential"]
    assert token["project"]["id"] == person.project_id
    assert role_names(token["roles"]) == {"reader"}
    carried = token["application_credential"]
    assert (carried["id"], carried["name"], carried["restricted"]) == (
        credential["id"],
        credential["name"],
        True,
    )
    assert carried["access_rules"][0]["path"] == "/v2.1/servers"
    assert carried["access_rules"][0]["id"] == credential["access_rules"][0]["id"]
    validated = validate(cloud, response.headers["X-Subject-Token"]).json()["token"]
    assert validated["application_credential"]["id"] == credential["id"]
    assert role_names(validated["roles"]) == {"reader"}


def test_login_by_name_with_the_user_by_id_or_by_name(cloud: CloudProcess, person: Person) -> None:
    credential = person.create()
    for user in ({"id": person.user_id}, {"name": person.name, "domain": {"name": "Default"}}):
        body = app_cred_auth(name=credential["name"], user=user, secret=credential["secret"])
        response = post_token(cloud, body)
        assert response.status_code == 201, response.text
        assert response.json()["token"]["application_credential"]["id"] == credential["id"]


def test_wrong_secret_unknown_credential_and_asked_scope_are_401(
    cloud: CloudProcess, person: Person
) -> None:
    credential = person.create()
    wrong = post_token(cloud, app_cred_auth(id=credential["id"], secret="not-it"))
    assert_identity_error(wrong, 401)
    unknown = post_token(cloud, app_cred_auth(id=uuid.uuid4().hex, secret="x"))
    assert_identity_error(unknown, 401)
    body = app_cred_auth(id=credential["id"], secret=credential["secret"])
    body["auth"]["scope"] = {"project": {"id": person.project_id}}
    error = assert_identity_error(post_token(cloud, body), 401)
    assert "cannot request a scope" in error["message"]


def test_app_cred_token_cannot_be_traded_for_another_token(
    cloud: CloudProcess, person: Person
) -> None:
    token = login_token(cloud, person.create(roles=[{"name": "reader"}]))
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": token}}}}
    body["auth"]["scope"] = {"project": {"id": person.project_id}}
    assert_identity_error(post_token(cloud, body), 401)


def test_list_filters_by_name_and_name_is_unique_per_user(
    cloud: CloudProcess, person: Person
) -> None:
    api = person.api()
    first = person.create(api, name="shared-name")
    person.create(api, name="other-name")
    listed = api.get(person.collection, params={"name": "shared-name"}).json()
    assert [c["id"] for c in listed["application_credentials"]] == [first["id"]]
    again = api.post(person.collection, json={"application_credential": {"name": "shared-name"}})
    assert_identity_error(again, 409)
    admin = admin_client(cloud)
    admin_id = admin.get("auth/tokens", headers={"X-Subject-Token": admin.token}).json()
    other = admin.post(
        f"users/{admin_id['token']['user']['id']}/application_credentials",
        json={"application_credential": {"name": "shared-name"}},
    )
    assert other.status_code == 201, other.text  # another user may use the same name
    admin.delete(
        f"users/{admin_id['token']['user']['id']}/application_credentials/"
        f"{other.json()['application_credential']['id']}"
    )


# -- who may do what ---------------------------------------------------------------------


def test_roles_must_be_held_by_the_creator(cloud: CloudProcess, person: Person) -> None:
    api = person.api()
    admin_role = role_id(admin_client(cloud), "admin")
    for roles in ([{"name": "admin"}], [{"id": admin_role}], [{"name": "reader"}, {"id": "x"}]):
        response = api.post(
            person.collection, json={"application_credential": {"name": "esc", "roles": roles}}
        )
        assert "unassigned role" in assert_identity_error(response, 400)["message"]
    unknown = api.post(
        person.collection,
        json={"application_credential": {"name": "esc", "roles": [{"name": "no-such-role"}]}},
    )
    assert_identity_error(unknown, 404)
    assert api.get(person.collection).json()["application_credentials"] == []


def test_restricted_credential_cannot_create_or_delete_credentials(
    cloud: CloudProcess, person: Person
) -> None:
    restricted = person.create()
    other = person.create()
    as_restricted = IdentityClient(cloud, login_token(cloud, restricted))
    refused = as_restricted.post(
        person.collection, json={"application_credential": {"name": "child"}}
    )
    assert_identity_error(refused, 403)
    assert_identity_error(as_restricted.delete(f"{person.collection}/{other['id']}"), 403)
    unrestricted = person.create(unrestricted=True)
    as_unrestricted = IdentityClient(cloud, login_token(cloud, unrestricted))
    child = person.create(as_unrestricted, roles=[{"name": "reader"}])
    assert child["project_id"] == person.project_id
    assert as_unrestricted.delete(f"{person.collection}/{child['id']}").status_code == 204


def test_only_the_user_with_a_project_token_creates(cloud: CloudProcess, person: Person) -> None:
    admin = admin_client(cloud)
    for_other = admin.post(person.collection, json={"application_credential": {"name": "x"}})
    assert_identity_error(for_other, 403)
    unscoped = post_token(cloud, password_auth(cloud, person.name, None, PASSWORD))
    as_unscoped = IdentityClient(cloud, unscoped.headers["X-Subject-Token"])
    refused = as_unscoped.post(person.collection, json={"application_credential": {"name": "x"}})
    assert_identity_error(refused, 403)
    assert admin.get(person.collection).status_code == 200  # but the cloud admin may read


def test_a_stranger_cannot_see_or_delete_anothers_credentials(
    cloud: CloudProcess, person: Person
) -> None:
    credential = person.create()
    stranger = _other_person(cloud)
    api = stranger.api()
    assert_identity_error(api.get(person.collection), 403)
    assert_identity_error(api.get(f"{person.collection}/{credential['id']}"), 403)
    assert_identity_error(api.delete(f"{person.collection}/{credential['id']}"), 403)
    # Under their own user id, the credential is simply not there.
    assert_identity_error(api.get(f"{stranger.collection}/{credential['id']}"), 404)


def _other_person(cloud: CloudProcess) -> Person:
    api = admin_client(cloud)
    name = f"stranger-{uuid.uuid4().hex[:8]}"
    user_id = _admin_create(
        api, "users", "user", {"name": name, "domain_id": "default", "password": PASSWORD}
    )
    project_id = _admin_create(api, "projects", "project", {"name": name, "domain_id": "default"})
    api.put(f"projects/{project_id}/users/{user_id}/roles/{role_id(api, 'member')}")
    return Person(cloud, user_id, name, project_id)


# -- invalidation and expiry -------------------------------------------------------------


def test_deleting_the_credential_invalidates_its_tokens(
    cloud: CloudProcess, person: Person
) -> None:
    api = person.api()
    credential = person.create(api)
    token = login_token(cloud, credential)
    assert validate(cloud, token).status_code == 200
    assert api.delete(f"{person.collection}/{credential['id']}").status_code == 204
    assert_identity_error(validate(cloud, token), 404)
    assert_identity_error(IdentityClient(cloud, token).get("auth/projects"), 401)
    assert_identity_error(login(cloud, credential), 401)


def test_losing_the_role_invalidates_tokens(cloud: CloudProcess, person: Person) -> None:
    credential = person.create(roles=[{"name": "member"}])
    token = login_token(cloud, credential)
    admin = admin_client(cloud)
    member = role_id(admin, "member")
    reader = role_id(admin, "reader")
    # Still holding reader directly is not enough: the credential delegates member only.
    admin.put(f"projects/{person.project_id}/users/{person.user_id}/roles/{reader}")
    removed = admin.delete(f"projects/{person.project_id}/users/{person.user_id}/roles/{member}")
    assert removed.status_code == 204, removed.text
    assert_identity_error(validate(cloud, token), 404)
    assert_identity_error(login(cloud, credential), 401)


def test_deleting_the_user_or_project_invalidates_tokens(
    cloud: CloudProcess, person: Person
) -> None:
    admin = admin_client(cloud)
    token = login_token(cloud, person.create())
    assert admin.delete(f"projects/{person.project_id}").status_code == 204
    assert_identity_error(validate(cloud, token), 404)

    other = _other_person(cloud)
    credential = other.create()
    token = login_token(cloud, credential)
    assert admin.delete(f"users/{other.user_id}").status_code == 204
    assert_identity_error(validate(cloud, token), 404)
    assert_identity_error(login(cloud, credential), 401)


def test_deleting_a_delegated_role_drops_it_from_the_credential(
    cloud: CloudProcess, person: Person
) -> None:
    admin = admin_client(cloud)
    custom = _admin_create(admin, "roles", "role", {"name": f"custom-{uuid.uuid4().hex[:8]}"})
    admin.put(f"projects/{person.project_id}/users/{person.user_id}/roles/{custom}")
    api = person.api()
    credential = person.create(api, roles=[{"id": custom}])
    token = login_token(cloud, credential)
    assert admin.delete(f"roles/{custom}").status_code == 204
    assert_identity_error(validate(cloud, token), 404)
    shown = api.get(f"{person.collection}/{credential['id']}").json()["application_credential"]
    assert shown["roles"] == []


def test_an_expired_credential_cannot_log_in(cloud: CloudProcess, person: Person) -> None:
    expires = datetime.now(UTC) + timedelta(seconds=3)
    credential = person.create(expires_at=expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    assert credential["expires_at"].startswith(expires.strftime("%Y-%m-%dT%H:%M:%S"))
    response = login(cloud, credential)
    assert response.status_code == 201, response.text
    token_expiry = datetime.fromisoformat(response.json()["token"]["expires_at"])
    assert token_expiry <= expires + timedelta(seconds=1)  # never outlives its credential
    deadline = time.monotonic() + EXPIRY_WAIT_S
    while login(cloud, credential).status_code == 201:
        assert time.monotonic() < deadline, "the credential never expired"
        time.sleep(0.2)
    assert_identity_error(login(cloud, credential), 401)
    assert_identity_error(validate(cloud, response.headers["X-Subject-Token"]), 404)


def test_expiry_in_the_past_is_refused(person: Person) -> None:
    api = person.api()
    body = {"application_credential": {"name": "late", "expires_at": "2001-01-01T00:00:00"}}
    assert_identity_error(api.post(person.collection, json=body), 400)
    assert api.get(person.collection).json()["application_credentials"] == []


# -- access rules ------------------------------------------------------------------------

RULE = {"service": "compute", "method": "GET", "path": "/v2.1/servers"}


def test_access_rules_are_the_users_and_shared_between_credentials(
    cloud: CloudProcess, person: Person
) -> None:
    api = person.api()
    first = person.create(api, access_rules=[RULE])
    rule_id = first["access_rules"][0]["id"]
    again = person.create(api, access_rules=[dict(RULE)])  # identical: the same rule
    by_id = person.create(api, access_rules=[{"id": rule_id}])
    assert again["access_rules"][0]["id"] == by_id["access_rules"][0]["id"] == rule_id
    rules = api.get(f"users/{person.user_id}/access_rules").json()["access_rules"]
    assert [(r["id"], r["service"], r["method"], r["path"]) for r in rules] == [
        (rule_id, "compute", "GET", "/v2.1/servers")
    ]
    filtered = api.get(f"users/{person.user_id}/access_rules", params={"service": "image"})
    assert filtered.json()["access_rules"] == []
    shown = api.get(f"users/{person.user_id}/access_rules/{rule_id}").json()["access_rule"]
    assert shown["path"] == "/v2.1/servers" and shown["links"]["self"].endswith(rule_id)


def test_an_access_rule_in_use_cannot_be_deleted(cloud: CloudProcess, person: Person) -> None:
    api = person.api()
    credential = person.create(api, access_rules=[RULE])
    rule = f"users/{person.user_id}/access_rules/{credential['access_rules'][0]['id']}"
    assert_identity_error(api.delete(rule), 403)
    assert api.delete(f"{person.collection}/{credential['id']}").status_code == 204
    assert api.get(rule).status_code == 200  # a rule outlives the credentials naming it
    assert api.delete(rule).status_code == 204
    assert_identity_error(api.get(rule), 404)


def test_access_rules_of_others_are_hidden(cloud: CloudProcess, person: Person) -> None:
    credential = person.create(access_rules=[RULE])
    stranger = _other_person(cloud)
    api = stranger.api()
    assert_identity_error(api.get(f"users/{person.user_id}/access_rules"), 403)
    unknown = api.post(
        stranger.collection,
        json={"application_credential": {"name": "x", "access_rules": credential["access_rules"]}},
    )
    assert_identity_error(unknown, 404)  # someone else's rule id is no rule of theirs
    assert api.get(stranger.collection).json()["application_credentials"] == []


# -- bad input and notifications ---------------------------------------------------------

MALFORMED: list[tuple[bytes, str]] = [
    (b"{not json", "JSON"),
    (b"{}", "application_credential"),
    (b'{"application_credential": {}}', "name"),
    (b'{"application_credential": {"name": 7}}', "name"),
    (b'{"application_credential": {"name": ""}}', "name"),
    (b'{"application_credential": {"name": "a", "roles": "member"}}', "roles"),
    (b'{"application_credential": {"name": "a", "roles": [{}]}}', "roles"),
    (b'{"application_credential": {"name": "a", "roles": [{"nick": "x"}]}}', "roles"),
    (b'{"application_credential": {"name": "a", "unrestricted": "yes"}}', "unrestricted"),
    (b'{"application_credential": {"name": "a", "expires_at": "tomorrow"}}', "expires_at"),
    (b'{"application_credential": {"name": "a", "secret": 5}}', "secret"),
    (b'{"application_credential": {"name": "a", "colour": "red"}}', "colour"),
    (
        b'{"application_credential": {"name": "a", "access_rules": '
        b'[{"service": "compute", "method": "FETCH", "path": "/x"}]}}',
        "access_rules",
    ),
    (
        b'{"application_credential": {"name": "a", "access_rules": '
        b'[{"service": "compute", "method": "GET", "path": "no-slash"}]}}',
        "access_rules",
    ),
    (
        b'{"application_credential": {"name": "a", "access_rules": [{"service": "compute"}]}}',
        "access_rules",
    ),
]


@pytest.mark.parametrize(("body", "fragment"), MALFORMED)
def test_malformed_create_is_400_and_writes_nothing(
    person: Person, body: bytes, fragment: str
) -> None:
    api = person.api()
    response = api.post(
        person.collection, content=body, headers={"Content-Type": "application/json"}
    )
    assert fragment in assert_identity_error(response, 400)["message"]
    assert api.get(person.collection).json()["application_credentials"] == []


def test_malformed_login_is_400(cloud: CloudProcess) -> None:
    bodies = [
        {"auth": {"identity": {"methods": ["application_credential"]}}},
        app_cred_auth(secret="s"),
        app_cred_auth(id="x"),
        app_cred_auth(name="n", secret="s"),
        app_cred_auth(name="n", secret="s", user={"name": "someone"}),
        app_cred_auth(id="x", secret=5),
    ]
    for body in bodies:
        assert_identity_error(post_token(cloud, body), 400)


def test_changes_are_notified_without_the_secret(cloud: CloudProcess, person: Person) -> None:
    api = person.api()
    credential = person.create(api)
    api.delete(f"{person.collection}/{credential['id']}")
    for event in ("created", "deleted"):
        found = [
            n
            for n in cloud.notifications(f"identity.application_credential.{event}")
            if n["payload"]["resource_info"] == credential["id"]
        ]
        assert len(found) == 1, event
        assert found[0]["payload"]["initiator"]["user_id"] == person.user_id
        assert credential["secret"] not in str(found[0])
