"""Credentials through the real CLI, openstacksdk and plain HTTP: CRUD, ec2 rules, encryption
at rest, who may see whose credentials, errors and notifications."""

from __future__ import annotations

import hashlib
import json
import stat
from typing import Any

import pytest
import sqlalchemy

from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import (
    IdentityClient,
    admin_client,
    assert_create_refused,
    assert_identity_error,
)
from tests.functional.personas import DEMO, identity_client


def _me(api: IdentityClient) -> dict[str, Any]:
    """The caller's token body: their user id and project id."""
    response = api.get("auth/tokens", headers={"X-Subject-Token": api.token})
    assert response.status_code == 200, response.text
    return response.json()["token"]


def _create(api: IdentityClient, **fields: Any) -> dict[str, Any]:
    response = api.post("credentials", json={"credential": fields})
    assert response.status_code == 201, response.text
    return response.json()["credential"]


def _ec2_blob(access: str, secret: str = "s3cr3t") -> str:
    return json.dumps({"access": access, "secret": secret})


def _stored_blob(cloud: CloudProcess, credential_id: str) -> str:
    """The credential's row as the database holds it, read past the API."""
    url = cloud.database_url or f"sqlite:///{cloud.state_dir}/onestack.db"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sqlalchemy.text("SELECT encrypted_blob FROM identity_credentials WHERE id = :id"),
                {"id": credential_id},
            ).scalar_one()
    finally:
        engine.dispose()


def _has_users_api(cloud: CloudProcess) -> bool:
    api = admin_client(cloud)
    return api.get(f"users/{_me(api)['user']['id']}").status_code == 200


def test_ec2_credential_journey_with_the_cli(cloud: CloudProcess) -> None:
    if not _has_users_api(cloud):
        pytest.skip("`credential create` looks the user up by name: needs the /v3/users API")
    blob = _ec2_blob("cli-access", "cli-secret")
    created = cloud.openstack(
        "credential", "create", "admin", blob, "--type", "ec2", "--project", "admin", "-f", "json"
    )
    assert created["id"] == hashlib.sha256(b"cli-access").hexdigest()
    assert created["type"] == "ec2" and json.loads(created["blob"])["secret"] == "cli-secret"
    listed = cloud.openstack("credential", "list", "--type", "ec2", "-f", "json")
    assert created["id"] in {c["ID"] for c in listed}
    cloud.openstack("credential", "delete", created["id"])
    assert cloud.openstack("credential", "show", created["id"], check=False).returncode != 0


def test_list_show_delete_with_the_cli(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    me = _me(api)
    created = _create(
        api,
        user_id=me["user"]["id"],
        type="ec2",
        project_id=me["project"]["id"],
        blob=_ec2_blob("listed-access"),
    )
    listed = cloud.openstack("credential", "list", "-f", "json")
    row = next(c for c in listed if c["ID"] == created["id"])
    assert row["Type"] == "ec2" and row["User ID"] == me["user"]["id"]
    assert json.loads(row["Data"])["access"] == "listed-access"
    shown = cloud.openstack("credential", "show", created["id"], "-f", "json")
    assert shown["project_id"] == me["project"]["id"]
    cloud.openstack("credential", "delete", created["id"])
    assert_identity_error(api.get(f"credentials/{created['id']}"), 404)


def test_credentials_with_openstacksdk(cloud: CloudProcess) -> None:
    conn = cloud.sdk()
    try:
        user_id = conn.current_user_id
        credential = conn.identity.create_credential(
            type="totp", blob="JBSWY3DPEHPK3PXP", user_id=user_id
        )
        assert conn.identity.get_credential(credential.id).blob == "JBSWY3DPEHPK3PXP"
        found = list(conn.identity.credentials(user_id=user_id, type="totp"))
        assert [c.id for c in found] == [credential.id]
        conn.identity.update_credential(credential, blob="NEWSECRET")
        assert conn.identity.get_credential(credential.id).blob == "NEWSECRET"
        conn.identity.delete_credential(credential)
        assert list(conn.identity.credentials(type="totp")) == []
    finally:
        conn.close()


def test_blob_is_encrypted_at_rest(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    secret = "plain-text-secret-never-stored"
    created = _create(api, user_id=_me(api)["user"]["id"], type="cert", blob=secret)
    stored = _stored_blob(cloud, created["id"])
    assert secret not in stored and stored
    assert api.get(f"credentials/{created['id']}").json()["credential"]["blob"] == secret
    key_dir = cloud.state_dir / "credential-keys"
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    keys = list(key_dir.iterdir())
    assert keys and all(stat.S_IMODE(k.stat().st_mode) == 0o600 for k in keys)


def test_ec2_rules(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    me = _me(api)
    base = {"user_id": me["user"]["id"], "type": "ec2", "project_id": me["project"]["id"]}
    created = _create(api, **base, blob=_ec2_blob("rule-access"))
    assert created["id"] == hashlib.sha256(b"rule-access").hexdigest()
    again = api.post("credentials", json={"credential": {**base, "blob": _ec2_blob("rule-access")}})
    assert_identity_error(again, 409)
    no_project = {**base, "blob": _ec2_blob("other")}
    del no_project["project_id"]
    error = assert_identity_error(api.post("credentials", json={"credential": no_project}), 400)
    assert "project_id" in error["message"]
    for blob in ("not json", "[1]", json.dumps({"secret": "x"})):
        response = api.post("credentials", json={"credential": {**base, "blob": blob}})
        assert "blob" in assert_identity_error(response, 400)["message"]
    # Keystone replaces the key pair in place: the id stays.
    changed = api.patch(
        f"credentials/{created['id']}", json={"credential": {"blob": _ec2_blob("new-access")}}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["credential"]["id"] == created["id"]
    assert json.loads(changed.json()["credential"]["blob"])["access"] == "new-access"
    bound = json.dumps({**json.loads(_ec2_blob("new-access")), "trust_id": "t"})
    refused = api.patch(f"credentials/{created['id']}", json={"credential": {"blob": bound}})
    assert "trust_id" in assert_identity_error(refused, 400)["message"]
    rotated = api.patch(
        f"credentials/{created['id']}",
        json={"credential": {"blob": _ec2_blob("rule-access", "rotated")}},
    )
    assert rotated.status_code == 200, rotated.text
    assert json.loads(rotated.json()["credential"]["blob"])["secret"] == "rotated"
    # An ec2 credential's id is the hash of its access key, so another type cannot become one.
    totp = _create(api, user_id=me["user"]["id"], type="totp", blob="x")
    to_ec2 = {**base, "blob": _ec2_blob("converted")}
    del to_ec2["user_id"]
    assert_identity_error(api.patch(f"credentials/{totp['id']}", json={"credential": to_ec2}), 400)
    assert api.get(f"credentials/{totp['id']}").json()["credential"]["type"] == "totp"


def test_users_manage_only_their_own(cloud: CloudProcess) -> None:
    admin, demo = admin_client(cloud), identity_client(cloud, DEMO)
    demo_id, admin_id = _me(demo)["user"]["id"], _me(admin)["user"]["id"]
    # user_id defaults to the caller.
    mine = _create(demo, type="totp", blob="demo-secret")
    assert mine["user_id"] == demo_id
    theirs = _create(admin, user_id=admin_id, type="totp", blob="admin-secret")
    listed = demo.get("credentials").json()["credentials"]
    assert {c["user_id"] for c in listed} == {demo_id}
    assert demo.get("credentials", params={"user_id": admin_id}).json()["credentials"] == []
    assert_identity_error(demo.get(f"credentials/{theirs['id']}"), 403)
    patch = {"credential": {"blob": "stolen"}}
    assert_identity_error(demo.patch(f"credentials/{theirs['id']}", json=patch), 403)
    assert_identity_error(demo.delete(f"credentials/{theirs['id']}"), 403)
    for_admin = {"credential": {"user_id": admin_id, "type": "totp", "blob": "x"}}
    assert_identity_error(demo.post("credentials", json=for_admin), 403)
    handover = {"credential": {"user_id": admin_id}}
    assert_identity_error(demo.patch(f"credentials/{mine['id']}", json=handover), 403)
    # The cloud admin sees and manages everyone's.
    assert demo_id in {c["user_id"] for c in admin.get("credentials").json()["credentials"]}
    assert admin.get(f"credentials/{mine['id']}").json()["credential"]["blob"] == "demo-secret"
    updated = demo.patch(f"credentials/{mine['id']}", json={"credential": {"blob": "v2"}})
    assert updated.json()["credential"]["blob"] == "v2"
    assert demo.delete(f"credentials/{mine['id']}").status_code == 204
    assert admin.get(f"credentials/{theirs['id']}").json()["credential"]["blob"] == "admin-secret"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"credential": {"type": "totp"}}', "credential.blob"),
        (b'{"credential": {"blob": "x"}}', "credential.type"),
        (b'{"credential": {"type": "totp", "blob": {"a": 1}}}', "credential.blob"),
        (b'{"credential": {"type": "", "blob": "x"}}', "credential.type"),
        (b'{"credential": {"type": "totp", "blob": "x", "user_id": 5}}', "credential.user_id"),
        (b'{"credential": {"type": "totp", "blob": "x", "user_id": "nobody"}}', "nobody"),
        (b'{"credential": {"type": "totp", "blob": "x", "project_id": "noproj"}}', "noproj"),
        (b'{"credential": {"type": "totp", "blob": "x"}, "more": 1}', "more"),
    ],
)
def test_malformed_create_is_400_and_writes_nothing(
    cloud: CloudProcess, body: bytes, fragment: str
) -> None:
    api = admin_client(cloud)
    assert_create_refused(api, "credentials", body, fragment)


def test_malformed_update_is_400(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    created = _create(api, user_id=_me(api)["user"]["id"], type="totp", blob="keep")
    path = f"credentials/{created['id']}"
    for change in ({}, {"blob": None}, {"type": 3}, {"user_id": "nobody"}):
        assert_identity_error(api.patch(path, json={"credential": change}), 400)
    assert api.get(path).json()["credential"]["blob"] == "keep"


def test_unknown_is_404_and_no_token_is_401(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    error = assert_identity_error(api.get("credentials/nosuchcred"), 404)
    assert error["message"] == "Could not find credential: nosuchcred."
    assert_identity_error(api.patch("credentials/nosuchcred", json={"credential": {"x": 1}}), 404)
    assert_identity_error(api.delete("credentials/nosuchcred"), 404)
    assert_identity_error(IdentityClient(cloud, "").get("credentials"), 401)


def test_credential_changes_are_notified(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    created = _create(api, user_id=_me(api)["user"]["id"], type="totp", blob="noisy")
    api.patch(f"credentials/{created['id']}", json={"credential": {"blob": "louder"}})
    api.delete(f"credentials/{created['id']}")
    for event in ("created", "updated", "deleted"):
        found = [
            n
            for n in cloud.notifications(f"identity.credential.{event}")
            if n["payload"]["resource_info"] == created["id"]
        ]
        assert len(found) == 1, event
        assert found[0]["payload"]["initiator"]["user_id"]
        assert "louder" not in json.dumps(found[0]) and "noisy" not in json.dumps(found[0])


def test_credentials_survive_a_restart(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    created = _create(api, user_id=_me(api)["user"]["id"], type="totp", blob="kept-secret")
    keys_before = sorted(p.name for p in (cloud.state_dir / "credential-keys").iterdir())
    cloud.restart()
    api = admin_client(cloud)
    assert api.get(f"credentials/{created['id']}").json()["credential"]["blob"] == "kept-secret"
    assert sorted(p.name for p in (cloud.state_dir / "credential-keys").iterdir()) == keys_before
