"""Regions, services and endpoints through the real CLI, openstacksdk and plain HTTP: CRUD,
Keystone's rules, what token catalogs show, policy, errors and notifications."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import (
    IdentityClient,
    admin_client,
    assert_create_refused,
    assert_identity_error,
    issue,
    project_scope,
)


def _create(api: IdentityClient, kind: str, **fields: Any) -> dict[str, Any]:
    response = api.post(f"{kind}s", json={kind: fields})
    assert response.status_code == 201, response.text
    return response.json()[kind]


def _catalog_urls(api: IdentityClient) -> set[str]:
    """Every URL in the catalog of the caller's token, as a client discovers endpoints."""
    catalog = api.get("auth/catalog").json()["catalog"]
    return {e["url"] for service in catalog for e in service["endpoints"]}


def _token_catalog_urls(cloud: CloudProcess) -> set[str]:
    token = issue(cloud, "admin", project_scope("admin"))
    response = IdentityClient(cloud, token).get("auth/tokens", headers={"X-Subject-Token": token})
    return {e["url"] for s in response.json()["token"]["catalog"] for e in s["endpoints"]}


def test_region_journey_with_the_cli(cloud: CloudProcess) -> None:
    cloud.openstack("region", "create", "--description", "Europe", "eu")
    child = cloud.openstack(
        "region", "create", "--parent-region", "eu", "--description", "Paris", "eu-west",
        "-f", "json",
    )  # fmt: skip
    assert child["region"] == "eu-west" and child["parent_region"] == "eu"
    children = cloud.openstack("region", "list", "--parent-region", "eu", "-f", "json")
    assert [r["Region"] for r in children] == ["eu-west"]
    cloud.openstack("region", "set", "--description", "Paris 2", "eu-west")
    shown = cloud.openstack("region", "show", "eu-west", "-f", "json")
    assert shown["description"] == "Paris 2"
    # A region with child regions cannot be deleted; its children first.
    assert cloud.openstack("region", "delete", "eu", check=False).returncode != 0
    cloud.openstack("region", "delete", "eu-west")
    cloud.openstack("region", "delete", "eu")
    regions = {r["Region"] for r in cloud.openstack("region", "list", "-f", "json")}
    assert "eu" not in regions and "eu-west" not in regions and "RegionOne" in regions


def test_service_and_endpoint_journey_with_the_cli(cloud: CloudProcess) -> None:
    service = cloud.openstack(
        "service", "create", "--name", "heat", "--description", "Orchestration service",
        "orchestration", "-f", "json",
    )  # fmt: skip
    assert service["type"] == "orchestration" and service["name"] == "heat" and service["enabled"]
    url = "http://orchestration.example:8004/v1"
    endpoint = cloud.openstack(
        "endpoint", "create", "--region", "RegionOne", "orchestration", "public", url, "-f", "json"
    )
    assert endpoint["region"] == "RegionOne" and endpoint["url"] == url
    assert endpoint["service_id"] == service["id"] and endpoint["interface"] == "public"
    listed = cloud.openstack("endpoint", "list", "--service", "orchestration", "-f", "json")
    assert [(e["URL"], e["Service Name"]) for e in listed] == [(url, "heat")]
    catalog = cloud.openstack("catalog", "list", "-f", "json")
    assert "orchestration" in {entry["Type"] for entry in catalog}
    cloud.openstack("service", "set", "--disable", "orchestration")
    catalog = cloud.openstack("catalog", "list", "-f", "json")
    assert "orchestration" not in {entry["Type"] for entry in catalog}
    assert "identity" in {entry["Type"] for entry in catalog}
    cloud.openstack("service", "delete", "orchestration")
    assert cloud.openstack("endpoint", "show", endpoint["id"], check=False).returncode != 0


def test_catalog_with_openstacksdk(cloud: CloudProcess) -> None:
    conn = cloud.sdk()
    try:
        region = conn.identity.create_region(id="sdk-region", description="sdk")
        assert conn.identity.get_region("sdk-region").description == "sdk"
        service = conn.identity.create_service(type="sdk-type", name="sdk-svc")
        assert [s.id for s in conn.identity.services(type="sdk-type")] == [service.id]
        assert [s.id for s in conn.identity.services(name="sdk-svc")] == [service.id]
        endpoint = conn.identity.create_endpoint(
            service_id=service.id, interface="internal", url="http://sdk:1", region_id=region.id
        )
        found = list(conn.identity.endpoints(service_id=service.id, interface="internal"))
        assert [e.id for e in found] == [endpoint.id]
        assert [e.id for e in conn.identity.endpoints(region_id="sdk-region")] == [endpoint.id]
        updated = conn.identity.update_endpoint(endpoint, url="http://sdk:2", is_enabled=False)
        assert updated.url == "http://sdk:2" and updated.is_enabled is False
        conn.identity.update_service(service, description="changed")
        assert conn.identity.get_service(service.id).description == "changed"
        conn.identity.delete_endpoint(endpoint)
        conn.identity.delete_service(service)
        conn.identity.delete_region(region)
        assert list(conn.identity.services(type="sdk-type")) == []
    finally:
        conn.close()


def test_disabled_endpoint_leaves_the_catalog(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    service = _create(api, "service", type="toggle-type", name="toggle")
    url = "http://toggle.example/v1"
    endpoint = _create(api, "endpoint", service_id=service["id"], interface="public", url=url)
    assert url in _catalog_urls(api) and url in _token_catalog_urls(cloud)
    api.patch(f"endpoints/{endpoint['id']}", json={"endpoint": {"enabled": False}})
    assert url not in _catalog_urls(api) and url not in _token_catalog_urls(cloud)
    api.patch(f"endpoints/{endpoint['id']}", json={"endpoint": {"enabled": True}})
    assert url in _catalog_urls(api)


def test_region_rules(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    generated = _create(api, "region", description="no id given")
    assert len(generated["id"]) == 32 and generated["parent_region_id"] is None
    put = api.put("regions/put-made", json={"region": {"description": "by PUT"}})
    assert put.status_code == 201 and put.json()["region"]["id"] == "put-made"
    assert_identity_error(api.post("regions", json={"region": {"id": "put-made"}}), 409)
    missing = api.post("regions", json={"region": {"id": "orphan", "parent_region_id": "nope"}})
    assert "nope" in assert_identity_error(missing, 404)["message"]
    assert api.get("regions/orphan").status_code == 404
    _create(api, "region", id="top")
    _create(api, "region", id="middle", parent_region_id="top")
    cycle = api.patch("regions/top", json={"region": {"parent_region_id": "middle"}})
    assert "circular" in assert_identity_error(cycle, 400)["message"]
    assert api.get("regions/top").json()["region"]["parent_region_id"] is None
    self_parent = api.patch("regions/top", json={"region": {"parent_region_id": "top"}})
    assert_identity_error(self_parent, 400)


def test_region_with_children_or_endpoints_cannot_be_deleted(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    _create(api, "region", id="busy-parent")
    _create(api, "region", id="busy-child", parent_region_id="busy-parent")
    error = assert_identity_error(api.delete("regions/busy-parent"), 409)
    assert "busy-child" in error["message"]
    service = _create(api, "service", type="busy-type")
    endpoint = _create(
        api,
        "endpoint",
        service_id=service["id"],
        interface="admin",
        url="http://busy/",
        region_id="busy-child",
    )
    error = assert_identity_error(api.delete("regions/busy-child"), 403)
    assert "endpoints" in error["message"]
    assert api.get("regions/busy-child").status_code == 200
    api.delete(f"endpoints/{endpoint['id']}")
    assert api.delete("regions/busy-child").status_code == 204
    assert api.delete("regions/busy-parent").status_code == 204
    assert_identity_error(api.get("regions/busy-parent"), 404)


def test_deleting_a_service_deletes_its_endpoints(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    service = _create(api, "service", type="doomed-type")
    for interface in ("public", "internal"):
        _create(api, "endpoint", service_id=service["id"], interface=interface, url="http://d/")
    assert len(api.get("endpoints", params={"service_id": service["id"]}).json()["endpoints"]) == 2
    assert api.delete(f"services/{service['id']}").status_code == 204
    assert api.get("endpoints", params={"service_id": service["id"]}).json()["endpoints"] == []


def test_endpoint_references(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    service = _create(api, "service", type="ref-type", colour="green")
    assert api.get(f"services/{service['id']}").json()["service"]["colour"] == "green"
    body = {"service_id": service["id"], "interface": "public", "url": "http://r/"}
    no_service = api.post("endpoints", json={"endpoint": {**body, "service_id": "nosvc"}})
    assert "service" in assert_identity_error(no_service, 400)["message"]
    no_region = api.post("endpoints", json={"endpoint": {**body, "region_id": "noregion"}})
    assert "region" in assert_identity_error(no_region, 400)["message"]
    assert api.get("endpoints", params={"service_id": service["id"]}).json()["endpoints"] == []
    no_service = {**body, "service_id": "nosvc", "region": "never-made"}
    assert_identity_error(api.post("endpoints", json={"endpoint": no_service}), 400)
    assert_identity_error(api.get("regions/never-made"), 404)
    # The legacy `region` attribute creates its region, as Keystone does for old clients.
    legacy = _create(api, "endpoint", **body, region="legacy-region")
    assert legacy["region_id"] == "legacy-region" and legacy["region"] == "legacy-region"
    assert api.get("regions/legacy-region").status_code == 200
    moved = api.patch(f"endpoints/{legacy['id']}", json={"endpoint": {"region_id": "gone"}})
    assert_identity_error(moved, 400)
    assert api.get(f"endpoints/{legacy['id']}").json()["endpoint"]["region_id"] == "legacy-region"


MALFORMED = [
    ("regions", b'{"region": {"description": 5}}', "region.description"),
    ("regions", b'{"region": {"id": ""}}', "region.id"),
    ("regions", b'{"regions": {}}', "region"),
    ("services", b'{"service": {}}', "service.type"),
    ("services", b'{"service": {"type": "x", "enabled": "yes"}}', "service.enabled"),
    ("services", b'{"service": {"type": ""}}', "service.type"),
    ("services", b'{"service": {"type": "x"}, "extra": 1}', "extra"),
    ("endpoints", b'{"endpoint": {"interface": "public", "url": "http://x/"}}', "service_id"),
    (
        "endpoints",
        b'{"endpoint": {"interface": "sideways", "url": "http://x/", "service_id": "s"}}',
        "endpoint.interface",
    ),
    (
        "endpoints",
        b'{"endpoint": {"interface": "public", "url": "", "service_id": "s"}}',
        "endpoint.url",
    ),
    ("endpoints", b'{"endpoint": {"interface": "public", "service_id": "s"}}', "endpoint.url"),
    (
        "endpoints",
        b'{"endpoint": {"interface": "public", "url": "http://x/", '
        b'"service_id": "s", "enabled": null}}',
        "enabled",
    ),
    ("endpoints", b"{not json", "not valid JSON"),
]


@pytest.mark.parametrize(("collection", "body", "fragment"), MALFORMED)
def test_malformed_create_is_400_and_writes_nothing(
    cloud: CloudProcess, collection: str, body: bytes, fragment: str
) -> None:
    api = admin_client(cloud)
    assert_create_refused(api, collection, body, fragment)


@pytest.mark.parametrize("collection", ["regions", "services", "endpoints"])
def test_empty_update_is_400(cloud: CloudProcess, collection: str) -> None:
    api = admin_client(cloud)
    item = {"regions": "RegionOne"}.get(collection) or api.get(collection).json()[collection][0][
        "id"
    ]
    kind = collection[:-1]
    assert_identity_error(api.patch(f"{collection}/{item}", json={kind: {}}), 400)


@pytest.mark.parametrize("collection", ["regions", "services", "endpoints"])
def test_unknown_is_404_and_no_token_is_401(cloud: CloudProcess, collection: str) -> None:
    api = admin_client(cloud)
    kind = collection[:-1]
    error = assert_identity_error(api.get(f"{collection}/nosuchthing"), 404)
    assert error["message"] == f"Could not find {kind}: nosuchthing."
    assert_identity_error(api.patch(f"{collection}/nosuchthing", json={kind: {"x": 1}}), 404)
    assert_identity_error(api.delete(f"{collection}/nosuchthing"), 404)
    assert_identity_error(IdentityClient(cloud, "").get(collection), 401)
    assert_identity_error(IdentityClient(cloud, "not-a-token").get(collection), 401)


def test_member_cannot_manage_the_catalog(cloud: CloudProcess) -> None:
    demo = IdentityClient(cloud, issue(cloud, "demo", project_scope("demo")))
    assert "RegionOne" in {r["id"] for r in demo.get("regions").json()["regions"]}
    assert demo.get("regions/RegionOne").status_code == 200
    assert_identity_error(demo.post("regions", json={"region": {"id": "mine"}}), 403)
    assert_identity_error(demo.patch("regions/RegionOne", json={"region": {"x": 1}}), 403)
    assert_identity_error(demo.delete("regions/RegionOne"), 403)
    assert_identity_error(demo.post("services", json={"service": {"type": "mine"}}), 403)
    assert_identity_error(demo.get("services"), 403)
    service_id = admin_client(cloud).get("services", params={"type": "identity"}).json()
    service_id = service_id["services"][0]["id"]
    assert_identity_error(demo.patch(f"services/{service_id}", json={"service": {"x": 1}}), 403)
    assert_identity_error(demo.delete(f"services/{service_id}"), 403)
    body = {"service_id": service_id, "interface": "public", "url": "http://evil/"}
    assert_identity_error(demo.post("endpoints", json={"endpoint": body}), 403)
    endpoint_id = admin_client(cloud).get("endpoints").json()["endpoints"][0]["id"]
    assert_identity_error(demo.delete(f"endpoints/{endpoint_id}"), 403)
    # Members still find every endpoint through their token's catalog.
    assert any(s["type"] == "identity" for s in demo.get("auth/catalog").json()["catalog"])


def test_catalog_changes_are_notified(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    region = _create(api, "region", id="noisy-region")
    service = _create(api, "service", type="noisy-type")
    endpoint = _create(
        api, "endpoint", service_id=service["id"], interface="public", url="http://n/"
    )
    api.patch("regions/noisy-region", json={"region": {"description": "x"}})
    api.patch(f"services/{service['id']}", json={"service": {"enabled": False}})
    api.patch(f"endpoints/{endpoint['id']}", json={"endpoint": {"url": "http://m/"}})
    api.delete(f"endpoints/{endpoint['id']}")
    api.delete(f"services/{service['id']}")
    api.delete("regions/noisy-region")
    ids = {"region": region["id"], "service": service["id"], "endpoint": endpoint["id"]}
    for kind, resource_id in ids.items():
        for event in ("created", "updated", "deleted"):
            found = [
                n
                for n in cloud.notifications(f"identity.{kind}.{event}")
                if n["payload"]["resource_info"] == resource_id
            ]
            assert len(found) == 1, (kind, event)
            assert found[0]["payload"]["initiator"]["user_id"]


def test_restart_keeps_registrations_and_repoints_identity(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    service = _create(api, "service", type="kept-type")
    _create(api, "endpoint", service_id=service["id"], interface="public", url="http://kept/")
    cloud.restart()
    api = admin_client(cloud)
    urls = _catalog_urls(api)
    assert "http://kept/" in urls and f"{cloud.identity_url}" in urls
    identity = api.get("services", params={"type": "identity"}).json()["services"]
    assert len(identity) == 1
    endpoints = api.get("endpoints", params={"service_id": identity[0]["id"]}).json()
    assert sorted(e["interface"] for e in endpoints["endpoints"]) == ["admin", "internal", "public"]


def test_endpoint_urls_are_filled_in_for_the_token(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    service = _create(api, "service", type="templated-type")
    for template in ("http://tmpl/v1/$(project_id)s", "http://tmpl/v2/%(tenant_id)s"):
        _create(api, "endpoint", service_id=service["id"], interface="public", url=template)
    project_id = api.get("auth/tokens", headers={"X-Subject-Token": api.token}).json()
    project_id = project_id["token"]["project"]["id"]
    urls = _catalog_urls(api)
    assert {f"http://tmpl/v1/{project_id}", f"http://tmpl/v2/{project_id}"} <= urls
    # A domain-scoped token has no project to fill in: Keystone leaves those endpoints out.
    domain_api = IdentityClient(cloud, issue(cloud, "admin", {"domain": {"id": "default"}}))
    domain_urls = _catalog_urls(domain_api)
    assert not {u for u in domain_urls if u.startswith("http://tmpl/")}
    assert cloud.identity_url in domain_urls
