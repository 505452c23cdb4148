"""Stored policy blobs (/v3/policies) through the real CLI and plain HTTP: the admin keeps
documents with a type, readers read them, members may not write, bad input is a 400."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import admin_client, assert_identity_error
from tests.functional.personas import DEMO, identity_client


def test_the_cli_creates_shows_updates_and_deletes_a_policy(
    cloud: CloudProcess, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"compute:start": "rule:owner"}))
    created = cloud.openstack(
        "policy", "create", "--type", "application/json", str(rules), "-f", "json"
    )
    assert json.loads(created["rules"]) == {"compute:start": "rule:owner"}
    listed = cloud.openstack("policy", "list", "-f", "json")
    assert created["id"] in {p["ID"] for p in listed}
    cloud.openstack("policy", "set", "--type", "text/plain", created["id"])
    shown = cloud.openstack("policy", "show", created["id"], "-f", "json")
    assert shown["type"] == "text/plain"
    cloud.openstack("policy", "delete", created["id"])
    assert_identity_error(admin_client(cloud).get(f"policies/{created['id']}"), 404)


def test_extra_attributes_are_kept_and_type_filters(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    body = {"policy": {"type": "application/x-kept", "blob": "{}", "purpose": "test"}}
    response = api.post("policies", json=body)
    assert response.status_code == 201, response.text
    policy = response.json()["policy"]
    assert policy["purpose"] == "test" and policy["links"]["self"].endswith(policy["id"])
    listed = api.get("policies", params={"type": "application/x-kept"}).json()["policies"]
    assert [p["id"] for p in listed] == [policy["id"]]
    assert (
        api.patch(f"policies/{policy['id']}", json={"policy": {"blob": "[]"}}).json()["policy"][
            "blob"
        ]
        == "[]"
    )


def test_members_may_not_write_policies(cloud: CloudProcess) -> None:
    demo = identity_client(cloud, DEMO)
    body = {"policy": {"type": "application/json", "blob": "{}"}}
    assert_identity_error(demo.post("policies", json=body), 403)
    assert_identity_error(demo.get("policies"), 403)


@pytest.mark.parametrize(
    "body",
    [
        {"policy": {"blob": "{}"}},
        {"policy": {"type": "application/json"}},
        {"policy": {"type": 5, "blob": "{}"}},
        {"policy": {"type": "", "blob": "{}"}},
        {"policies": {"type": "application/json", "blob": "{}"}},
    ],
    ids=["no-type", "no-blob", "type-not-text", "empty-type", "wrong-envelope"],
)
def test_malformed_policies_are_400_and_write_nothing(cloud: CloudProcess, body: dict) -> None:
    api = admin_client(cloud)
    before = api.get("policies").json()["policies"]
    assert_identity_error(api.post("policies", json=body), 400)
    assert api.get("policies").json()["policies"] == before


def test_an_unknown_policy_is_404(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    assert_identity_error(api.get("policies/nope"), 404)
    assert_identity_error(api.patch("policies/nope", json={"policy": {"blob": "x"}}), 404)
    assert_identity_error(api.delete("policies/nope"), 404)
