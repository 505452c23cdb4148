"""EC2 credentials (OS-EC2) with the real CLI, and POST /v3/ec2tokens with requests signed by
botocore, passed on the way an EC2/S3 front end passes them: good signatures get a token,
tampered, stale, deleted or foreign ones do not."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import botocore.auth
import httpx
import pytest
from botocore.auth import S3SigV4Auth, SigV2Auth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import (
    IdentityClient,
    admin_client,
    assert_identity_error,
    validate,
)
from tests.functional.personas import DEMO, identity_client

EC2_URL = "http://ec2.cloud.example:8788/"
S3_URL = "http://s3.cloud.example:8080/bucket/some%20key"


# -- what a client signs and a front end passes on ----------------------------------------


def front_end_body(aws: AWSRequest, access: str) -> dict[str, Any]:
    """The ec2tokens body an EC2/S3 API front end builds from the request it received."""
    prepared = aws.prepare()
    body = prepared.body or b""
    body = body.encode() if isinstance(body, str) else body
    split = urlsplit(prepared.url)
    params = dict(parse_qsl(split.query, keep_blank_values=True))
    if isinstance(aws.data, dict):  # form POST: the params are in the body
        params.update(parse_qsl(body.decode(), keep_blank_values=True))
    headers = dict(prepared.headers.items())
    authorization = headers.get("Authorization", "")
    signature = (
        authorization.rpartition("Signature=")[2]
        or params.get("X-Amz-Signature")
        or params.pop("Signature", None)
    )
    return {
        "credentials": {
            "access": access,
            "signature": signature,
            "host": split.netloc,
            "verb": prepared.method,
            "path": split.path or "/",
            "params": params,
            "headers": headers,
            "body_hash": hashlib.sha256(body).hexdigest(),
        }
    }


def v4_header(access: str, secret: str, url: str = EC2_URL, signer=SigV4Auth) -> dict[str, Any]:
    aws = AWSRequest(method="POST", url=url, data={"Action": "DescribeInstances"})
    signer(Credentials(access, secret), "ec2", "RegionOne").add_auth(aws)
    return front_end_body(aws, access)


def v4_s3(access: str, secret: str) -> dict[str, Any]:
    aws = AWSRequest(method="PUT", url=S3_URL, data=b"object data")
    S3SigV4Auth(Credentials(access, secret), "s3", "RegionOne").add_auth(aws)
    return front_end_body(aws, access)


def v4_query(access: str, secret: str) -> dict[str, Any]:
    aws = AWSRequest(method="GET", url=EC2_URL, params={"Action": "DescribeRegions"})
    SigV4QueryAuth(Credentials(access, secret), "ec2", "RegionOne", expires=300).add_auth(aws)
    return front_end_body(aws, access)


def v2(access: str, secret: str) -> dict[str, Any]:
    aws = AWSRequest(method="GET", url=EC2_URL, params={"Action": "DescribeImages"})
    SigV2Auth(Credentials(access, secret)).add_auth(aws)
    return front_end_body(aws, access)


SIGNERS = {"v4-header": v4_header, "v4-s3": v4_s3, "v4-query": v4_query, "v2": v2}


def ec2tokens(cloud: CloudProcess, body: Any) -> httpx.Response:
    return httpx.post(f"{cloud.identity_url}/v3/ec2tokens", json=body, timeout=30)


# -- the cloud side -----------------------------------------------------------------------


def _me(api: IdentityClient) -> dict[str, Any]:
    response = api.get("auth/tokens", headers={"X-Subject-Token": api.token})
    assert response.status_code == 200, response.text
    return response.json()["token"]


@pytest.fixture(scope="module")
def demo(cloud: CloudProcess) -> IdentityClient:
    return identity_client(cloud, DEMO)


def create_ec2(api: IdentityClient, user_id: str, project_id: str) -> dict[str, Any]:
    path = f"users/{user_id}/credentials/OS-EC2"
    response = api.post(path, json={"tenant_id": project_id})
    assert response.status_code == 201, response.text
    return response.json()["credential"]


@pytest.fixture(scope="module")
def demo_ec2(demo: IdentityClient) -> dict[str, Any]:
    me = _me(demo)
    return create_ec2(demo, me["user"]["id"], me["project"]["id"])


# -- OS-EC2 through the CLI ---------------------------------------------------------------


def test_cli_create_list_show_delete(cloud: CloudProcess) -> None:
    created = cloud.openstack("ec2", "credentials", "create", "-f", "json")
    token = cloud.openstack("token", "issue", "-f", "json")
    assert created["user_id"] == token["user_id"]
    assert created["project_id"] == token["project_id"]
    assert len(created["access"]) == 32 and len(created["secret"]) == 32

    listed = cloud.openstack("ec2", "credentials", "list", "-f", "json")
    row = next(c for c in listed if c["Access"] == created["access"])
    assert row["Secret"] == created["secret"] and row["Project ID"] == token["project_id"]
    shown = cloud.openstack("ec2", "credentials", "show", created["access"], "-f", "json")
    assert shown["secret"] == created["secret"] and shown["project_id"] == token["project_id"]

    # The same record under /v3/credentials, found by the sha256 of the access key.
    generic = cloud.openstack("credential", "list", "--type", "ec2", "-f", "json")
    row = next(
        c for c in generic if c["ID"] == hashlib.sha256(created["access"].encode()).hexdigest()
    )
    assert json.loads(row["Data"])["secret"] == created["secret"]

    cloud.openstack("ec2", "credentials", "delete", created["access"])
    gone = cloud.openstack("ec2", "credentials", "show", created["access"], check=False)
    assert gone.returncode != 0


def test_cli_as_demo_and_the_admin_looking_on(cloud: CloudProcess) -> None:
    created = cloud.openstack("ec2", "credentials", "create", "-f", "json", cloud="onestack-demo")
    demo_token = cloud.openstack("token", "issue", "-f", "json", cloud="onestack-demo")
    assert created["user_id"] == demo_token["user_id"]
    assert created["project_id"] == demo_token["project_id"]
    listed = cloud.openstack("ec2", "credentials", "list", "-f", "json", cloud="onestack-demo")
    assert [c["Access"] for c in listed] == [created["access"]]
    # The cloud admin sees it by naming the user.
    shown = cloud.openstack(
        "ec2", "credentials", "show", created["access"], "--user", "demo", "-f", "json"
    )
    assert shown["secret"] == created["secret"]
    cloud.openstack("ec2", "credentials", "delete", created["access"], cloud="onestack-demo")
    listed = cloud.openstack("ec2", "credentials", "list", "-f", "json", cloud="onestack-demo")
    assert listed == []


def test_created_body_has_keystones_fields(demo: IdentityClient, demo_ec2: dict[str, Any]) -> None:
    me = _me(demo)
    assert demo_ec2["user_id"] == me["user"]["id"]
    assert demo_ec2["tenant_id"] == me["project"]["id"]
    assert demo_ec2["trust_id"] is None
    assert demo_ec2["links"]["self"].endswith(
        f"/v3/users/{me['user']['id']}/credentials/OS-EC2/{demo_ec2['access']}"
    )


def test_another_users_credentials_are_not_visible(
    cloud: CloudProcess, demo: IdentityClient, demo_ec2: dict[str, Any]
) -> None:
    admin = admin_client(cloud)
    admin_me, demo_id = _me(admin), _me(demo)["user"]["id"]
    theirs = create_ec2(admin, admin_me["user"]["id"], admin_me["project"]["id"])
    admin_path = f"users/{admin_me['user']['id']}/credentials/OS-EC2"

    assert_identity_error(demo.get(admin_path), 403)
    assert_identity_error(demo.get(f"{admin_path}/{theirs['access']}"), 403)
    assert_identity_error(demo.delete(f"{admin_path}/{theirs['access']}"), 403)
    assert_identity_error(demo.post(admin_path, json={"tenant_id": "x"}), 403)
    # Asked under their own user id, someone else's access key does not exist.
    assert_identity_error(demo.get(f"users/{demo_id}/credentials/OS-EC2/{theirs['access']}"), 404)
    listed = demo.get(f"users/{demo_id}/credentials/OS-EC2").json()["credentials"]
    assert [c["access"] for c in listed] == [demo_ec2["access"]]
    # The cloud admin sees everyone's.
    shown = admin.get(f"users/{demo_id}/credentials/OS-EC2/{demo_ec2['access']}")
    assert shown.status_code == 200 and shown.json()["credential"]["secret"] == demo_ec2["secret"]
    assert admin.delete(f"{admin_path}/{theirs['access']}").status_code == 204


def test_bad_create_and_unknown_are_4xx(cloud: CloudProcess, demo: IdentityClient) -> None:
    demo_id = _me(demo)["user"]["id"]
    path = f"users/{demo_id}/credentials/OS-EC2"
    before = demo.get(path).json()["credentials"]
    for body in ({}, {"tenant_id": 5}, [], "x"):
        assert_identity_error(demo.post(path, json=body), 400)
    assert_identity_error(demo.post(path, content=b"{", headers={"Content-Type": "x"}), 400)
    assert_identity_error(demo.post(path, json={"tenant_id": "nosuch"}), 404)
    assert demo.get(path).json()["credentials"] == before
    assert_identity_error(demo.get(f"{path}/nosuch"), 404)
    assert_identity_error(demo.delete(f"{path}/nosuch"), 404)
    admin = admin_client(cloud)
    assert_identity_error(admin.get("users/nosuch/credentials/OS-EC2"), 404)
    no_token = httpx.get(f"{demo.base}/{path}", timeout=30)
    assert_identity_error(no_token, 401)


# -- ec2tokens ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", SIGNERS)
def test_signed_requests_get_a_project_token(
    cloud: CloudProcess, demo: IdentityClient, demo_ec2: dict[str, Any], kind: str
) -> None:
    body = SIGNERS[kind](demo_ec2["access"], demo_ec2["secret"])
    response = ec2tokens(cloud, body)
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    me = _me(demo)
    assert token["methods"] == ["ec2credential"]
    assert token["user"]["id"] == me["user"]["id"]
    assert token["project"]["id"] == me["project"]["id"]
    assert {r["name"] for r in token["roles"]} >= {"member"}
    assert token["catalog"]
    # The token is a real one: it validates and authorizes.
    subject = response.headers["X-Subject-Token"]
    assert validate(cloud, subject).json()["token"]["methods"] == ["ec2credential"]
    assert IdentityClient(cloud, subject).get("auth/projects").status_code == 200


def test_ec2credentials_key_is_accepted(cloud: CloudProcess, demo_ec2: dict[str, Any]) -> None:
    body = {"ec2Credentials": v2(demo_ec2["access"], demo_ec2["secret"])["credentials"]}
    assert ec2tokens(cloud, body).status_code == 200


def _tampered(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    credentials = {**body["credentials"], **changes}
    return {"credentials": credentials}


@pytest.mark.parametrize("kind", SIGNERS)
def test_tampered_requests_are_refused(
    cloud: CloudProcess, demo_ec2: dict[str, Any], kind: str
) -> None:
    access, secret = demo_ec2["access"], demo_ec2["secret"]
    body = SIGNERS[kind](access, secret)
    original = body["credentials"]
    headers = {**original["headers"], "Host": "evil.example"}
    refused = [
        _tampered(body, path="/other/path"),
        _tampered(body, host="evil.example", headers=headers),
        _tampered(body, verb="DELETE"),
        SIGNERS[kind](access, "not-the-secret"),
        _tampered(body, access=uuid.uuid4().hex),
    ]
    if kind.startswith("v4"):
        changed = {**original["headers"], "X-Amz-Date": "20200101T000000Z"}
        refused.append(_tampered(body, headers=changed))
    for bad in refused:
        assert_identity_error(ec2tokens(cloud, bad), 401)


def test_stale_signature_is_refused(
    cloud: CloudProcess, demo_ec2: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    past = datetime.now(UTC) - timedelta(minutes=20)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: past)
    body = v4_header(demo_ec2["access"], demo_ec2["secret"])
    assert body["credentials"]["headers"]["X-Amz-Date"].startswith(past.strftime("%Y%m%d"))
    assert_identity_error(ec2tokens(cloud, body), 401)


def test_deleted_credential_is_refused(cloud: CloudProcess, demo: IdentityClient) -> None:
    me = _me(demo)
    created = create_ec2(demo, me["user"]["id"], me["project"]["id"])
    body = v4_header(created["access"], created["secret"])
    assert ec2tokens(cloud, body).status_code == 200
    path = f"users/{me['user']['id']}/credentials/OS-EC2/{created['access']}"
    assert demo.delete(path).status_code == 204
    assert_identity_error(ec2tokens(cloud, body), 401)


def test_credential_made_through_v3_credentials_works(
    cloud: CloudProcess, demo: IdentityClient
) -> None:
    me = _me(demo)
    access, secret = uuid.uuid4().hex, uuid.uuid4().hex
    credential = {
        "type": "ec2",
        "project_id": me["project"]["id"],
        "blob": json.dumps({"access": access, "secret": secret}),
    }
    assert demo.post("credentials", json={"credential": credential}).status_code == 201
    assert ec2tokens(cloud, v2(access, secret)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"credentials": "x"},
        {"credentials": {}},
        {"credentials": {"access": 5}},
        {"credentials": {"access": "a", "params": []}},
        {"credentials": {"access": "a", "headers": {"X": 1}}},
        {"credentials": {"access": "a"}, "other": 1},
        [],
    ],
)
def test_malformed_ec2tokens_body_is_400(cloud: CloudProcess, body: Any) -> None:
    assert_identity_error(ec2tokens(cloud, body), 400)


def test_unsigned_or_unknown_is_401(cloud: CloudProcess, demo_ec2: dict[str, Any]) -> None:
    unsigned = {"credentials": {"access": demo_ec2["access"], "host": "h", "path": "/"}}
    assert_identity_error(ec2tokens(cloud, unsigned), 401)
    assert_identity_error(ec2tokens(cloud, v2("unknown-access", "secret")), 401)


def test_disabled_user_or_project_is_refused(cloud: CloudProcess) -> None:
    admin = admin_client(cloud)
    name = f"ec2-{uuid.uuid4().hex[:8]}"
    project = admin.post("projects", json={"project": {"name": name}}).json()["project"]
    user = admin.post("users", json={"user": {"name": name, "password": "pw-" + name}})
    user_id = user.json()["user"]["id"]
    role = admin.get("roles", params={"name": "member"}).json()["roles"][0]
    grant = admin.put(f"projects/{project['id']}/users/{user_id}/roles/{role['id']}")
    assert grant.status_code == 204, grant.text
    created = create_ec2(admin, user_id, project["id"])
    body = v4_query(created["access"], created["secret"])
    assert ec2tokens(cloud, body).status_code == 200

    admin.patch(f"projects/{project['id']}", json={"project": {"enabled": False}})
    assert_identity_error(ec2tokens(cloud, body), 401)
    admin.patch(f"projects/{project['id']}", json={"project": {"enabled": True}})
    admin.patch(f"users/{user_id}", json={"user": {"enabled": False}})
    assert_identity_error(ec2tokens(cloud, body), 401)
    admin.patch(f"users/{user_id}", json={"user": {"enabled": True}})
    admin.delete(f"projects/{project['id']}/users/{user_id}/roles/{role['id']}")
    assert_identity_error(ec2tokens(cloud, body), 401)


# -- /v3/s3tokens, as Swift's s3api front end asks ----------------------------------------


def _s3tokens(
    cloud: CloudProcess, access: str, string_to_sign: bytes, signature: str
) -> httpx.Response:
    body = {
        "credentials": {
            "access": access,
            "token": base64.urlsafe_b64encode(string_to_sign).decode(),
            "signature": signature,
        }
    }
    return httpx.post(f"{cloud.identity_url}/v3/s3tokens", json=body, timeout=30)


def _v4_string_and_signature(access: str, secret: str) -> tuple[bytes, str]:
    request = AWSRequest(method="GET", url="http://s3.example/bucket/key", headers={})
    request.context["timestamp"] = "20261205T120000Z"
    auth = S3SigV4Auth(Credentials(access, secret), "s3", "RegionOne")
    canonical = auth.canonical_request(request)
    string_to_sign = auth.string_to_sign(request, canonical)
    return string_to_sign.encode(), auth.signature(string_to_sign, request)


def test_s3tokens_accepts_v2_and_v4_signatures(
    cloud: CloudProcess, demo: IdentityClient, demo_ec2: dict[str, Any]
) -> None:
    access, secret = demo_ec2["access"], demo_ec2["secret"]
    v2 = b"GET\n\n\nThu, 05 Dec 2026 12:00:00 GMT\n/bucket/key"
    v2_signature = base64.b64encode(hmac.new(secret.encode(), v2, hashlib.sha1).digest()).decode()
    for string_to_sign, signature in ((v2, v2_signature), _v4_string_and_signature(access, secret)):
        response = _s3tokens(cloud, access, string_to_sign, signature)
        assert response.status_code == 200, response.text
        token = response.json()["token"]
        assert token["project"]["id"] == _me(demo)["project"]["id"]
        assert validate(cloud, response.headers["X-Subject-Token"]).status_code == 200


def test_s3tokens_refuses_a_wrong_signature_or_key(
    cloud: CloudProcess, demo_ec2: dict[str, Any]
) -> None:
    string_to_sign, signature = _v4_string_and_signature(demo_ec2["access"], "not-the-secret")
    assert_identity_error(_s3tokens(cloud, demo_ec2["access"], string_to_sign, signature), 401)
    assert_identity_error(_s3tokens(cloud, "no-such-access", b"x", "sig"), 401)
    response = httpx.post(f"{cloud.identity_url}/v3/s3tokens", json={"credentials": {}}, timeout=30)
    assert_identity_error(response, 400)
