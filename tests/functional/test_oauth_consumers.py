"""OAuth 1.0a consumers (OS-OAUTH1) through the real CLI and plain HTTP: the secret is shown
once and never again, the description changes, the secret cannot be set, members may not."""

from __future__ import annotations

from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import admin_client, assert_identity_error
from tests.functional.personas import DEMO, identity_client

BASE = "OS-OAUTH1/consumers"


def test_the_cli_creates_lists_updates_and_deletes_a_consumer(cloud: CloudProcess) -> None:
    created = cloud.openstack("consumer", "create", "--description", "an app", "-f", "json")
    assert created["secret"] and created["description"] == "an app"
    listed = cloud.openstack("consumer", "list", "-f", "json")
    assert created["id"] in {c["ID"] for c in listed}
    cloud.openstack("consumer", "set", "--description", "renamed", created["id"])
    shown = cloud.openstack("consumer", "show", created["id"], "-f", "json")
    assert shown["description"] == "renamed" and "secret" not in shown
    cloud.openstack("consumer", "delete", created["id"])
    assert_identity_error(admin_client(cloud).get(f"{BASE}/{created['id']}"), 404)


def test_the_secret_is_generated_and_shown_once(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    response = api.post(BASE, json={"consumer": {"description": "once"}})
    assert response.status_code == 201, response.text
    consumer = response.json()["consumer"]
    assert len(consumer["secret"]) >= 32
    assert "secret" not in api.get(f"{BASE}/{consumer['id']}").json()["consumer"]
    assert all("secret" not in c for c in api.get(BASE).json()["consumers"])
    refused = api.patch(f"{BASE}/{consumer['id']}", json={"consumer": {"secret": "mine"}})
    assert_identity_error(refused, 400)
    assert_identity_error(api.post(BASE, json={"consumer": {"secret": "mine"}}), 400)
    assert_identity_error(api.post(BASE, json={"consumer": {"description": 5}}), 400)


def test_members_may_not_manage_consumers(cloud: CloudProcess) -> None:
    demo = identity_client(cloud, DEMO)
    assert_identity_error(demo.post(BASE, json={"consumer": {}}), 403)
    assert_identity_error(demo.get(BASE), 403)
    assert_identity_error(admin_client(cloud).delete(f"{BASE}/nope"), 404)
