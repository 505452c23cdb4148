"""Domain-specific configuration through plain HTTP (the CLI has no command for it): create,
read by group and option, merge, delete, defaults, the allowed groups and options, the secret
LDAP password never read back, and who may do what."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import IdentityClient, admin_client, assert_identity_error
from tests.functional.personas import DEMO, identity_client

CONFIG = {
    "identity": {"driver": "ldap"},
    "ldap": {"url": "ldap://myserver:389/", "user_tree_dn": "ou=Users,dc=example,dc=org"},
}


@pytest.fixture
def domain(cloud: CloudProcess) -> str:
    body = {"domain": {"name": f"configured-{uuid.uuid4().hex[:8]}"}}
    return admin_client(cloud).post("domains", json=body).json()["domain"]["id"]


def _put(api: IdentityClient, domain_id: str, config: dict[str, Any]) -> Any:
    return api.put(f"domains/{domain_id}/config", json={"config": config})


def test_create_read_merge_and_delete(cloud: CloudProcess, domain: str) -> None:
    api = admin_client(cloud)
    created = _put(api, domain, CONFIG)
    assert created.status_code == 201, created.text
    assert created.json()["config"] == CONFIG
    assert _put(api, domain, CONFIG).status_code == 200  # replacing is not creating
    base = f"domains/{domain}/config"
    assert api.get(base).json()["config"] == CONFIG
    assert api.get(f"{base}/ldap").json()["config"] == {"ldap": CONFIG["ldap"]}
    assert api.get(f"{base}/ldap/url").json()["config"] == {"url": "ldap://myserver:389/"}

    merged = api.patch(f"{base}/ldap", json={"config": {"ldap": {"url": "ldap://other/"}}})
    assert merged.status_code == 200, merged.text
    assert merged.json()["config"]["ldap"]["user_tree_dn"] == "ou=Users,dc=example,dc=org"
    one = api.patch(f"{base}/ldap/url", json={"config": {"url": "ldap://third/"}})
    assert one.json()["config"]["ldap"]["url"] == "ldap://third/"  # the whole config, as Keystone

    assert api.delete(f"{base}/ldap/url").status_code == 204
    assert_identity_error(api.get(f"{base}/ldap/url"), 404)
    assert api.delete(base).status_code == 204
    assert_identity_error(api.get(base), 404)


def test_the_ldap_password_is_kept_but_never_shown(cloud: CloudProcess, domain: str) -> None:
    api = admin_client(cloud)
    config = {"ldap": {"url": "ldap://x/", "password": "s3cret"}}
    assert _put(api, domain, config).json()["config"] == {"ldap": {"url": "ldap://x/"}}
    assert "password" not in api.get(f"domains/{domain}/config/ldap").json()["config"]["ldap"]


def test_defaults_are_published(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    defaults = api.get("domains/config/default").json()["config"]
    assert {"identity", "ldap"} <= set(defaults) and defaults["identity"]["driver"] == "sql"
    assert api.get("domains/config/ldap/default").json()["config"]["ldap"]["url"]
    assert api.get("domains/config/identity/driver/default").json()["config"] == {"driver": "sql"}
    assert_identity_error(api.get("domains/config/nova/default"), 403)


@pytest.mark.parametrize(
    ("config", "status"),
    [
        ({"nova": {"x": "y"}}, 403),  # a group a domain cannot configure
        ({"ldap": {"not_an_option": "y"}}, 403),
        ({}, 400),
        ({"ldap": {}}, 400),
        ({"ldap": "url"}, 400),
    ],
    ids=["group", "option", "empty", "empty-group", "not-an-object"],
)
def test_bad_configs_are_refused_and_nothing_is_stored(
    cloud: CloudProcess, domain: str, config: dict[str, Any], status: int
) -> None:
    api = admin_client(cloud)
    assert_identity_error(_put(api, domain, config), status)
    assert_identity_error(api.get(f"domains/{domain}/config"), 404)


def test_unknown_domain_is_404_and_members_may_not(cloud: CloudProcess, domain: str) -> None:
    api = admin_client(cloud)
    assert_identity_error(_put(api, "no-such-domain", CONFIG), 404)
    demo = identity_client(cloud, DEMO)
    assert_identity_error(_put(demo, domain, CONFIG), 403)
    assert_identity_error(demo.get(f"domains/{domain}/config"), 403)
