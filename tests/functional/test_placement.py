"""Placement at /placement on a real cloud: version discovery and microversions, resource
providers, inventories, allocations (with generations), usages, resource classes and
allocation candidates over plain HTTP; the osc-placement CLI once; errors in placement's body;
the cloud admin and the service role only; parallel claims over HTTP never overcommit."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import admin_client, post_token
from tests.functional.personas import ADMIN, DEMO, token

LATEST = {"OpenStack-API-Version": "placement latest"}
NODE = {
    "VCPU": {"total": 2, "allocation_ratio": 16.0, "max_unit": 2},
    "MEMORY_MB": {"total": 2048, "allocation_ratio": 1.5, "reserved": 512, "max_unit": 2048},
    "DISK_GB": {"total": 20, "max_unit": 20},
}


class Placement:
    """Plain HTTP to /placement with one token, at one microversion."""

    def __init__(self, cloud: CloudProcess, auth: str | None, version: str = "latest") -> None:
        self.base = f"{cloud.url}/placement"
        self.headers = {"OpenStack-API-Version": f"placement {version}"}
        if auth is not None:
            self.headers["X-Auth-Token"] = auth

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return httpx.request(method, f"{self.base}{path}", headers=headers, timeout=30, **kwargs)

    def at(self, version: str) -> Placement:
        other = Placement.__new__(Placement)
        other.base = self.base
        other.headers = {**self.headers, "OpenStack-API-Version": f"placement {version}"}
        return other

    def provider(self, name: str, inventories: dict[str, Any] | None = None) -> str:
        made = self.request("POST", "/resource_providers", json={"name": name})
        assert made.status_code == 200, made.text
        rp = made.json()
        if inventories is not None:
            body = {"resource_provider_generation": rp["generation"], "inventories": inventories}
            put = self.request("PUT", f"/resource_providers/{rp['uuid']}/inventories", json=body)
            assert put.status_code == 200, put.text
        return rp["uuid"]

    def claim(
        self, consumer: str, rp: str, resources: dict[str, int], generation: int | None = None
    ) -> httpx.Response:
        body = {
            "allocations": {rp: {"resources": resources}},
            "project_id": "p1",
            "user_id": "u1",
            "consumer_generation": generation,
            "consumer_type": "INSTANCE",
        }
        return self.request("PUT", f"/allocations/{consumer}", json=body)

    def usages(self, rp: str) -> dict[str, int]:
        return self.request("GET", f"/resource_providers/{rp}/usages").json()["usages"]


def assert_placement_error(response: httpx.Response, status: int, code: str | None = None) -> str:
    """`status` in placement's body, with the request's id; returns the detail."""
    assert response.status_code == status, response.text
    (error,) = response.json()["errors"]
    assert error["status"] == status and error["title"] and error["detail"]
    assert error["request_id"] == response.headers["x-openstack-request-id"]
    if code is not None:
        assert error["code"] == code
    return error["detail"]


@pytest.fixture(scope="module")
def admin(cloud: CloudProcess) -> Placement:
    return Placement(cloud, token(cloud, ADMIN))


def service_user_token(cloud: CloudProcess) -> str:
    """A user holding only the `service` role on a project of its own (nova's service user)."""
    api = admin_client(cloud)
    project = api.post("projects", json={"project": {"name": "svc", "domain_id": "default"}})
    user = {"name": "nova-svc", "domain_id": "default", "password": "svc-pass-1"}
    user_id = api.post("users", json={"user": user}).json()["user"]["id"]
    roles = api.get("roles", params={"name": "service"}).json()["roles"]
    role_id = (
        roles[0]["id"]
        if roles
        else api.post("roles", json={"role": {"name": "service"}}).json()["role"]["id"]
    )
    project_id = project.json()["project"]["id"]
    assert api.put(f"projects/{project_id}/users/{user_id}/roles/{role_id}").status_code == 204
    login = {"name": "nova-svc", "domain": {"id": "default"}, "password": "svc-pass-1"}
    auth = {"identity": {"methods": ["password"], "password": {"user": login}}}
    response = post_token(cloud, {"auth": {**auth, "scope": {"project": {"id": project_id}}}})
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


def test_version_document_and_microversion_negotiation(cloud: CloudProcess) -> None:
    anonymous = Placement(cloud, None)
    root = anonymous.request("GET", "/")
    assert root.status_code == 200
    (version,) = root.json()["versions"]
    assert (version["min_version"], version["max_version"]) == ("1.0", "1.39")
    assert root.headers["openstack-api-version"] == "placement 1.39"
    assert "openstack-api-version" in root.headers["vary"].lower()
    bare = httpx.get(f"{cloud.url}/placement", timeout=30)  # as keystoneauth discovers it
    assert bare.status_code == 200 and bare.json()["versions"][0]["id"] == "v1.0"
    assert bare.headers["openstack-api-version"] == "placement 1.0"
    assert_placement_error(anonymous.at("1.40").request("GET", "/"), 406)
    assert_placement_error(anonymous.at("one.two").request("GET", "/"), 400)
    assert_placement_error(anonymous.request("GET", "/resource_providers"), 401)


def test_catalog_lists_placement(cloud: CloudProcess) -> None:
    entry = cloud.openstack("catalog", "show", "placement", "-f", "json")
    assert entry["type"] == "placement"
    assert any(e["url"] == f"{cloud.url}/placement" for e in entry["endpoints"])


def test_provider_lifecycle(admin: Placement) -> None:
    rp = admin.provider("host-life")
    shown = admin.request("GET", f"/resource_providers/{rp}").json()
    assert shown["name"] == "host-life" and shown["generation"] == 0
    assert shown["root_provider_uuid"] == rp and shown["parent_provider_uuid"] is None
    assert {"rel": "self", "href": f"/placement/resource_providers/{rp}"} in shown["links"]
    old = admin.at("1.0").request("POST", "/resource_providers", json={"name": "host-old"})
    assert old.status_code == 201 and not old.content
    assert old.headers["location"].startswith("/placement/resource_providers/")
    assert (
        "root_provider_uuid"
        not in admin.at("1.0").request("GET", f"/resource_providers/{rp}").json()
    )

    duplicate = admin.request("POST", "/resource_providers", json={"name": "host-life"})
    assert_placement_error(duplicate, 409, "placement.duplicate_name")
    renamed = admin.request("PUT", f"/resource_providers/{rp}", json={"name": "host-renamed"})
    assert renamed.json()["name"] == "host-renamed" and renamed.json()["generation"] == 1
    listed = admin.request("GET", "/resource_providers", params={"name": "host-renamed"}).json()
    assert [p["uuid"] for p in listed["resource_providers"]] == [rp]

    assert admin.request("DELETE", f"/resource_providers/{rp}").status_code == 204
    missing = admin.request("GET", f"/resource_providers/{rp}")
    assert rp in assert_placement_error(missing, 404, "placement.undefined_code")


def test_inventories_follow_generations_and_allocations(admin: Placement) -> None:
    rp = admin.provider("host-inv", NODE)
    listed = admin.request("GET", f"/resource_providers/{rp}/inventories").json()
    assert listed["resource_provider_generation"] == 1
    assert listed["inventories"]["MEMORY_MB"] == {
        "total": 2048,
        "reserved": 512,
        "min_unit": 1,
        "max_unit": 2048,
        "step_size": 1,
        "allocation_ratio": 1.5,
    }
    added = admin.request(
        "POST", f"/resource_providers/{rp}/inventories", json={"resource_class": "VGPU", "total": 2}
    )
    assert added.status_code == 201 and added.json()["resource_provider_generation"] == 2
    again = admin.request(
        "POST", f"/resource_providers/{rp}/inventories", json={"resource_class": "VGPU", "total": 2}
    )
    assert_placement_error(again, 409)
    assert admin.request("DELETE", f"/resource_providers/{rp}/inventories/VGPU").status_code == 204
    stale = {"resource_provider_generation": 0, "inventories": {}}
    put = admin.request("PUT", f"/resource_providers/{rp}/inventories", json=stale)
    assert_placement_error(put, 409, "placement.concurrent_update")
    one = {"resource_provider_generation": 3, "total": 40, "max_unit": 40}
    updated = admin.request("PUT", f"/resource_providers/{rp}/inventories/DISK_GB", json=one)
    assert updated.status_code == 200 and updated.json()["resource_provider_generation"] == 4

    consumer = str(uuid.uuid4())
    assert admin.claim(consumer, rp, {"VCPU": 2, "DISK_GB": 30}).status_code == 204
    shrink = {"resource_provider_generation": 5, "total": 20, "max_unit": 20}
    refused = admin.request("PUT", f"/resource_providers/{rp}/inventories/DISK_GB", json=shrink)
    assert_placement_error(refused, 409, "placement.inventory.inuse")
    gone = admin.request("DELETE", f"/resource_providers/{rp}/inventories/VCPU")
    assert_placement_error(gone, 409, "placement.inventory.inuse")
    busy = admin.request("DELETE", f"/resource_providers/{rp}")
    assert_placement_error(busy, 409, "placement.resource_provider.inuse")
    assert admin.usages(rp) == {"VCPU": 2, "MEMORY_MB": 0, "DISK_GB": 30}

    assert admin.request("DELETE", f"/allocations/{consumer}").status_code == 204
    assert admin.request("DELETE", f"/resource_providers/{rp}/inventories/VCPU").status_code == 204
    assert admin.request("DELETE", f"/resource_providers/{rp}").status_code == 204


def test_allocations_capacity_consumer_generations_and_usages(admin: Placement) -> None:
    rp = admin.provider("host-alloc", NODE)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    assert admin.claim(first, rp, {"VCPU": 1, "MEMORY_MB": 2048}).status_code == 204
    shown = admin.request("GET", f"/allocations/{first}").json()
    assert shown == {
        "allocations": {rp: {"generation": 2, "resources": {"VCPU": 1, "MEMORY_MB": 2048}}},
        "project_id": "p1",
        "user_id": "u1",
        "consumer_generation": 0,
        "consumer_type": "INSTANCE",
    }
    # MEMORY_MB capacity is (2048 - 512) * 1.5 = 2304: 512 more do not fit, and nothing is written.
    full = admin.claim(second, rp, {"VCPU": 1, "MEMORY_MB": 512})
    assert "Unable to allocate inventory" in assert_placement_error(full, 409)
    assert admin.request("GET", f"/allocations/{second}").json()["allocations"] == {}
    assert_placement_error(
        admin.claim(first, rp, {"VCPU": 1}, generation=None), 409, "placement.concurrent_update"
    )
    assert admin.claim(first, rp, {"VCPU": 2, "MEMORY_MB": 256}, generation=0).status_code == 204
    breaks_units = admin.claim(second, rp, {"VCPU": 3})
    assert "max_unit" in assert_placement_error(breaks_units, 400)

    assert admin.usages(rp) == {"VCPU": 2, "MEMORY_MB": 256, "DISK_GB": 0}
    held = admin.request("GET", f"/resource_providers/{rp}/allocations").json()
    assert held["allocations"] == {first: {"resources": {"VCPU": 2, "MEMORY_MB": 256}}}
    by_project = admin.request("GET", "/usages", params={"project_id": "p1"})
    assert by_project.json()["usages"]["INSTANCE"]["consumer_count"] >= 1
    old = admin.at("1.9").request("GET", "/usages", params={"project_id": "p1", "user_id": "u1"})
    assert old.json()["usages"]["VCPU"] >= 2
    assert admin.request("DELETE", f"/allocations/{first}").status_code == 204
    assert_placement_error(admin.request("DELETE", f"/allocations/{first}"), 404)


def test_allocation_candidates_most_free_first(admin: Placement) -> None:
    busy, idle = admin.provider("cand-busy", NODE), admin.provider("cand-idle", NODE)
    assert admin.claim(str(uuid.uuid4()), busy, {"VCPU": 2, "MEMORY_MB": 2000}).status_code == 204
    found = admin.request(
        "GET", "/allocation_candidates", params={"resources": "VCPU:1,MEMORY_MB:256"}
    ).json()
    ours = [next(iter(r["allocations"])) for r in found["allocation_requests"]]
    assert ours.index(idle) < ours.index(busy)
    assert found["provider_summaries"][busy]["resources"]["MEMORY_MB"] == {
        "capacity": 2304,
        "used": 2000,
    }
    too_big = admin.request("GET", "/allocation_candidates", params={"resources": "MEMORY_MB:400"})
    assert busy not in too_big.json()["provider_summaries"]
    fits = admin.request("GET", "/resource_providers", params={"resources": "MEMORY_MB:400"})
    names = {p["name"] for p in fits.json()["resource_providers"]}
    assert "cand-idle" in names and "cand-busy" not in names
    bad = admin.request("GET", "/allocation_candidates", params={"resources": "VCPU:x"})
    assert_placement_error(bad, 400, "placement.query.bad_value")


def test_resource_classes(admin: Placement) -> None:
    names = [
        c["name"] for c in admin.request("GET", "/resource_classes").json()["resource_classes"]
    ]
    assert {"VCPU", "MEMORY_MB", "DISK_GB", "PCI_DEVICE", "SRIOV_NET_VF"} <= set(names)
    assert admin.request("GET", "/resource_classes/VCPU").json()["name"] == "VCPU"
    made = admin.request("POST", "/resource_classes", json={"name": "CUSTOM_GOLD"})
    assert made.status_code == 201
    assert admin.request("PUT", "/resource_classes/CUSTOM_GOLD").status_code == 204
    assert_placement_error(admin.request("POST", "/resource_classes", json={"name": "GOLD"}), 400)
    assert admin.request("DELETE", "/resource_classes/CUSTOM_GOLD").status_code == 204
    assert_placement_error(admin.request("GET", "/resource_classes/CUSTOM_GOLD"), 404)
    assert_placement_error(admin.at("1.1").request("GET", "/resource_classes"), 404)


def test_traits_on_providers_filter_lists_and_candidates(admin: Placement) -> None:
    assert admin.request("PUT", "/traits/CUSTOM_FAST").status_code == 201
    assert admin.request("PUT", "/traits/CUSTOM_FAST").status_code == 204
    assert_placement_error(admin.request("PUT", "/traits/FAST"), 400)
    listed = admin.request("GET", "/traits", params={"name": "startswith:CUSTOM_"}).json()
    assert "CUSTOM_FAST" in listed["traits"]
    fast, plain = admin.provider("trait-fast", NODE), admin.provider("trait-plain", NODE)
    body = {"resource_provider_generation": 1, "traits": ["CUSTOM_FAST", "STORAGE_DISK_SSD"]}
    put = admin.request("PUT", f"/resource_providers/{fast}/traits", json=body)
    assert put.json() == {
        "traits": ["CUSTOM_FAST", "STORAGE_DISK_SSD"],
        "resource_provider_generation": 2,
    }
    stale = admin.request("PUT", f"/resource_providers/{fast}/traits", json=body)
    assert_placement_error(stale, 409, "placement.concurrent_update")

    query = {"resources": "VCPU:1", "required": "CUSTOM_FAST"}
    found = admin.request("GET", "/allocation_candidates", params=query).json()
    assert list(found["provider_summaries"]) == [fast]
    assert found["provider_summaries"][fast]["traits"] == ["CUSTOM_FAST", "STORAGE_DISK_SSD"]
    without = admin.request("GET", "/resource_providers", params={"required": "!CUSTOM_FAST"})
    uuids = {p["uuid"] for p in without.json()["resource_providers"]}
    assert plain in uuids and fast not in uuids
    assert_placement_error(admin.request("DELETE", "/traits/CUSTOM_FAST"), 409)
    assert admin.request("DELETE", f"/resource_providers/{fast}/traits").status_code == 204
    assert admin.request("DELETE", "/traits/CUSTOM_FAST").status_code == 204
    assert_placement_error(admin.request("GET", "/traits/CUSTOM_FAST"), 404)


def test_only_admins_and_services_use_placement(cloud: CloudProcess, admin: Placement) -> None:
    demo = Placement(cloud, token(cloud, DEMO))
    assert_placement_error(demo.request("GET", "/resource_providers"), 403)
    assert_placement_error(demo.request("POST", "/resource_providers", json={"name": "x"}), 403)
    service = Placement(cloud, service_user_token(cloud))
    rp = service.provider("host-by-service")
    assert admin.request("GET", f"/resource_providers/{rp}").status_code == 200


def test_parallel_claims_over_http_never_overcommit(admin: Placement) -> None:
    rp = admin.provider("host-race", {"VCPU": {"total": 4, "max_unit": 4}})
    with ThreadPoolExecutor(max_workers=8) as pool:
        claims = [pool.submit(admin.claim, str(uuid.uuid4()), rp, {"VCPU": 1}) for _ in range(16)]
        statuses = sorted(c.result().status_code for c in claims)
    assert statuses == [204] * 4 + [409] * 12
    assert admin.usages(rp) == {"VCPU": 4}


def test_cli_resource_provider_list(cloud: CloudProcess, admin: Placement) -> None:
    rp = admin.provider("host-cli")
    listed = cloud.openstack("resource", "provider", "list", "-f", "json")
    assert {"uuid": rp, "name": "host-cli"}.items() <= next(
        p for p in listed if p["uuid"] == rp
    ).items()


def test_openstacksdk_reads_and_writes_providers(cloud: CloudProcess) -> None:
    conn = cloud.sdk()
    made = conn.placement.create_resource_provider(name="host-sdk")
    assert made.generation == 0
    assert made.id in {rp.id for rp in conn.placement.resource_providers()}
    classes = {rc.name for rc in conn.placement.resource_classes()}
    assert "MEMORY_MB" in classes
    conn.placement.delete_resource_provider(made)
    assert made.id not in {rp.id for rp in conn.placement.resource_providers()}


def test_no_server_errors(cloud: CloudProcess) -> None:
    assert cloud.server_errors() == []
