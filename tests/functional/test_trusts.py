"""Trusts (OS-TRUST) through the real CLI and plain HTTP: a trustor delegates roles on a project
to a trustee, who gets trust-scoped tokens (impersonating or not) that die with the trust, its
uses, its trustor's role; redelegation narrows; strangers see nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import (
    IdentityClient,
    admin_client,
    assert_identity_error,
    post_token,
    validate,
)

TRUSTS = "OS-TRUST/trusts"


@dataclass
class Person:
    user_id: str
    name: str
    password: str


@dataclass
class Parties:
    trustor: Person
    trustee: Person
    stranger: Person
    project_id: str
    member_role_id: str


def _person(api: IdentityClient, prefix: str) -> Person:
    name, password = f"{prefix}-{uuid.uuid4().hex[:8]}", "Trust-pass-1"
    made = api.post("users", json={"user": {"name": name, "password": password}})
    assert made.status_code == 201, made.text
    return Person(made.json()["user"]["id"], name, password)


@pytest.fixture
def parties(cloud: CloudProcess) -> Parties:
    api = admin_client(cloud)
    project = api.post("projects", json={"project": {"name": f"trusted-{uuid.uuid4().hex[:8]}"}})
    project_id = project.json()["project"]["id"]
    member = api.get("roles", params={"name": "member"}).json()["roles"][0]["id"]
    trustor = _person(api, "trustor")
    assert (
        api.put(f"projects/{project_id}/users/{trustor.user_id}/roles/{member}").status_code == 204
    )
    return Parties(trustor, _person(api, "trustee"), _person(api, "stranger"), project_id, member)


def _login(cloud: CloudProcess, who: Person, scope: Any = None) -> httpx.Response:
    user = {"name": who.name, "domain": {"id": "default"}, "password": who.password}
    auth: dict[str, Any] = {"identity": {"methods": ["password"], "password": {"user": user}}}
    if scope is not None:
        auth["scope"] = scope
    return post_token(cloud, {"auth": auth})


def _client(cloud: CloudProcess, who: Person, scope: Any = None) -> IdentityClient:
    response = _login(cloud, who, scope)
    assert response.status_code == 201, response.text
    return IdentityClient(cloud, response.headers["X-Subject-Token"])


def _trust(parties: Parties, **fields: Any) -> dict[str, Any]:
    return {
        "trust": {
            "trustor_user_id": parties.trustor.user_id,
            "trustee_user_id": parties.trustee.user_id,
            "project_id": parties.project_id,
            "impersonation": True,
            "roles": [{"name": "member"}],
            **fields,
        }
    }


def _create(cloud: CloudProcess, parties: Parties, **fields: Any) -> dict[str, Any]:
    response = _client(cloud, parties.trustor).post(TRUSTS, json=_trust(parties, **fields))
    assert response.status_code == 201, response.text
    return response.json()["trust"]


def _trust_token(cloud: CloudProcess, who: Person, trust_id: str) -> httpx.Response:
    return _login(cloud, who, {"OS-TRUST:trust": {"id": trust_id}})


def test_the_cli_creates_lists_shows_and_deletes_a_trust(cloud: CloudProcess) -> None:
    admin = admin_client(cloud)
    trustee = _person(admin, "cli-trustee")
    created = cloud.openstack(
        "trust", "create", "--project", "admin", "--role", "member", "--impersonate",
        "admin", trustee.user_id, "-f", "json",
    )  # fmt: skip
    assert created["trustee_user_id"] == trustee.user_id, created
    assert created.get("impersonation", created.get("is_impersonation")) is True, created
    assert created["id"] in {t["ID"] for t in cloud.openstack("trust", "list", "-f", "json")}
    shown = cloud.openstack("trust", "show", created["id"], "-f", "json")
    assert shown["project_id"] == created["project_id"]
    cloud.openstack("trust", "delete", created["id"])
    assert_identity_error(admin.get(f"{TRUSTS}/{created['id']}"), 404)


def test_an_impersonating_trust_token_acts_as_the_trustor(
    cloud: CloudProcess, parties: Parties
) -> None:
    trust = _create(cloud, parties)
    assert trust["roles"][0]["name"] == "member" and trust["remaining_uses"] is None

    response = _trust_token(cloud, parties.trustee, trust["id"])

    assert response.status_code == 201, response.text
    token = response.json()["token"]
    assert token["user"]["id"] == parties.trustor.user_id
    assert token["project"]["id"] == parties.project_id
    assert token["OS-TRUST:trust"] == {
        "id": trust["id"],
        "impersonation": True,
        "trustor_user": {"id": parties.trustor.user_id},
        "trustee_user": {"id": parties.trustee.user_id},
    }
    # member implies reader: the trust's roles come with what they imply.
    assert {r["name"] for r in token["roles"]} == {"member", "reader"}
    subject = response.headers["X-Subject-Token"]
    assert validate(cloud, subject).json()["token"]["OS-TRUST:trust"]["id"] == trust["id"]


def test_a_plain_trust_token_acts_as_the_trustee(cloud: CloudProcess, parties: Parties) -> None:
    trust = _create(cloud, parties, impersonation=False)
    token = _trust_token(cloud, parties.trustee, trust["id"]).json()["token"]
    assert token["user"]["id"] == parties.trustee.user_id
    assert token["OS-TRUST:trust"]["impersonation"] is False


def test_uses_run_out(cloud: CloudProcess, parties: Parties) -> None:
    trust = _create(cloud, parties, remaining_uses=1)
    assert _trust_token(cloud, parties.trustee, trust["id"]).status_code == 201
    assert_identity_error(_trust_token(cloud, parties.trustee, trust["id"]), 403)


def test_deleting_the_trust_or_the_trustors_role_ends_its_tokens(
    cloud: CloudProcess, parties: Parties
) -> None:
    admin = admin_client(cloud)
    first, second = _create(cloud, parties), _create(cloud, parties)
    tokens = [
        _trust_token(cloud, parties.trustee, t["id"]).headers["X-Subject-Token"]
        for t in (first, second)
    ]
    trustor = _client(cloud, parties.trustor)
    assert trustor.delete(f"{TRUSTS}/{first['id']}").status_code == 204
    assert_identity_error(validate(cloud, tokens[0]), 404)
    assert validate(cloud, tokens[1]).status_code == 200
    grant = f"projects/{parties.project_id}/users/{parties.trustor.user_id}/roles/"
    assert admin.delete(grant + parties.member_role_id).status_code == 204
    assert_identity_error(validate(cloud, tokens[1]), 404)


def test_only_the_trustee_uses_and_only_the_parties_see_a_trust(
    cloud: CloudProcess, parties: Parties
) -> None:
    trust = _create(cloud, parties)
    assert_identity_error(_trust_token(cloud, parties.stranger, trust["id"]), 403)
    stranger = _client(cloud, parties.stranger)
    assert_identity_error(stranger.get(f"{TRUSTS}/{trust['id']}"), 403)
    assert_identity_error(stranger.get(TRUSTS), 403)
    mine = {"trustee_user_id": parties.trustee.user_id}
    listed = _client(cloud, parties.trustee).get(TRUSTS, params=mine).json()["trusts"]
    assert [t["id"] for t in listed] == [trust["id"]]
    roles = _client(cloud, parties.trustee).get(f"{TRUSTS}/{trust['id']}/roles").json()["roles"]
    assert [r["id"] for r in roles] == [parties.member_role_id]


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"expires_at": "2000-01-01T00:00:00Z"}, 400),
        ({"expires_at": "tomorrow"}, 400),
        ({"remaining_uses": 0}, 400),
        ({"roles": [{"name": "admin"}]}, 403),  # the trustor does not hold it
        ({"roles": [{"name": "no-such-role"}]}, 404),
        ({"trustee_user_id": "no-such-user"}, 404),
        ({"impersonation": "yes"}, 400),
    ],
    ids=["past", "not-a-date", "no-uses", "unheld-role", "unknown-role", "unknown-trustee",
         "not-a-bool"],
)  # fmt: skip
def test_bad_trusts_are_refused_and_nothing_is_written(
    cloud: CloudProcess, parties: Parties, fields: dict[str, Any], status: int
) -> None:
    trustor = _client(cloud, parties.trustor)
    assert_identity_error(trustor.post(TRUSTS, json=_trust(parties, **fields)), status)
    mine = {"trustor_user_id": parties.trustor.user_id}
    assert trustor.get(TRUSTS, params=mine).json()["trusts"] == []


def test_only_the_trustor_creates_a_trust(cloud: CloudProcess, parties: Parties) -> None:
    stranger = _client(cloud, parties.stranger)
    assert_identity_error(stranger.post(TRUSTS, json=_trust(parties)), 403)


def test_a_trust_token_cannot_be_rescoped(cloud: CloudProcess, parties: Parties) -> None:
    trust = _create(cloud, parties)
    subject = _trust_token(cloud, parties.trustee, trust["id"]).headers["X-Subject-Token"]
    body = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": subject}},
            "scope": {"project": {"id": parties.project_id}},
        }
    }
    assert_identity_error(post_token(cloud, body), 403)


def test_an_expiring_trust_bounds_its_tokens(cloud: CloudProcess, parties: Parties) -> None:
    soon = datetime.now(UTC) + timedelta(minutes=5)
    trust = _create(cloud, parties, expires_at=soon.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    token = _trust_token(cloud, parties.trustee, trust["id"]).json()["token"]
    expires = datetime.fromisoformat(token["expires_at"].replace("Z", "+00:00"))
    assert expires <= soon


def test_redelegation_narrows_and_counts_down(cloud: CloudProcess, parties: Parties) -> None:
    admin = admin_client(cloud)
    onward = _person(admin, "onward")
    parent = _create(cloud, parties, allow_redelegation=True, redelegation_count=2)
    assert parent["redelegation_count"] == 2
    subject = _trust_token(cloud, parties.trustee, parent["id"]).headers["X-Subject-Token"]
    as_trustee = IdentityClient(cloud, subject)
    child_body = _trust(parties, impersonation=False, allow_redelegation=True)
    child_body["trust"].update(
        trustor_user_id=parties.trustee.user_id, trustee_user_id=onward.user_id
    )
    # An impersonating parent's token acts as the trustor, who may not speak for the trustee.
    assert_identity_error(as_trustee.post(TRUSTS, json=child_body), 403)

    plain = _create(cloud, parties, impersonation=False, allow_redelegation=True)
    subject = _trust_token(cloud, parties.trustee, plain["id"]).headers["X-Subject-Token"]
    child = IdentityClient(cloud, subject).post(TRUSTS, json=child_body)
    assert child.status_code == 201, child.text
    assert child.json()["trust"]["redelegated_trust_id"] == plain["id"]
    assert child.json()["trust"]["redelegation_count"] == 2  # the default 3, one used

    closed = _create(cloud, parties, impersonation=False)
    subject = _trust_token(cloud, parties.trustee, closed["id"]).headers["X-Subject-Token"]
    assert_identity_error(IdentityClient(cloud, subject).post(TRUSTS, json=child_body), 403)
