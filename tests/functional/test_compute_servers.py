"""The compute API on the fake driver, as users drive it: the real CLI once per command family,
openstacksdk and plain HTTP for the rest. Discovery and microversions, flavors, keypairs, the
server lifecycle and its state checks, listing, tenant isolation, quotas, the bad-input table
(nothing left behind), notifications and a 100-server create."""

from __future__ import annotations

import base64
import hashlib
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.functional.cloud import CloudProcess
from tests.functional.compute_api import ComputeClient, assert_compute_error, make_image
from tests.functional.image_api import ImageClient, wait_for
from tests.functional.personas import ADMIN, DEMO, image_client


@pytest.fixture(scope="module")
def admin(cloud: CloudProcess) -> ComputeClient:
    return ComputeClient(cloud, ADMIN.user, ADMIN.project)


@pytest.fixture(scope="module")
def demo(cloud: CloudProcess) -> ComputeClient:
    return ComputeClient(cloud, DEMO.user, DEMO.project)


@pytest.fixture(scope="module")
def demo_images(cloud: CloudProcess) -> ImageClient:
    return image_client(cloud, DEMO)


@pytest.fixture(scope="module")
def image_id(demo_images: ImageClient) -> str:
    return make_image(demo_images, name="boot-me")


@pytest.fixture(scope="module")
def other(cloud: CloudProcess) -> ComputeClient:
    """A member of another project."""
    name = f"other-{uuid.uuid4().hex[:6]}"
    cloud.openstack("project", "create", name)
    cloud.openstack("user", "create", "--password", "secret-pass", "--project", name, name)
    cloud.openstack("role", "add", "--user", name, "--project", name, "member")
    conn = _connect(cloud, name, "secret-pass", name)
    return ComputeClient(cloud, token=conn.auth_token)


def _connect(cloud: CloudProcess, user: str, password: str, project: str) -> Any:
    import openstack

    return openstack.connect(
        auth_url=cloud.identity_url,
        username=user,
        password=password,
        project_name=project,
        user_domain_name="Default",
        project_domain_name="Default",
    )


def _server_count(client: ComputeClient) -> int:
    return len(client.request("GET", "servers").json()["servers"])


def _boot(client: ComputeClient, image_id: str, **fields: Any) -> dict[str, Any]:
    response = client.create_server(imageRef=image_id, **fields)
    assert response.status_code == 202, response.text
    return client.wait_status(response.json()["server"]["id"], "ACTIVE")


# -- discovery and microversions -------------------------------------------------------------


def test_catalog_and_version_discovery(cloud: CloudProcess) -> None:
    endpoints = cloud.openstack("endpoint", "list", "--service", "compute", "-f", "json")
    assert {e["URL"] for e in endpoints} == {f"{cloud.url}/compute/v2.1"}
    root = httpx.get(f"{cloud.url}/compute/", timeout=30)
    assert root.status_code == 200
    assert {v["id"] for v in root.json()["versions"]} == {"v2.0", "v2.1"}
    version = httpx.get(f"{cloud.url}/compute/v2.1/", timeout=30).json()["version"]
    assert (version["min_version"], version["version"]) == ("2.1", "2.96")


@pytest.mark.parametrize(
    ("headers", "status", "echo"),
    [
        ({}, 200, "2.1"),
        ({"OpenStack-API-Version": "compute latest"}, 200, "2.96"),
        ({"X-OpenStack-Nova-API-Version": "2.53"}, 200, "2.53"),
        ({"OpenStack-API-Version": "compute 2.97"}, 406, None),
        ({"OpenStack-API-Version": "compute 2.x"}, 400, None),
    ],
)
def test_microversion_negotiation(
    admin: ComputeClient, headers: dict[str, str], status: int, echo: str | None
) -> None:
    response = httpx.get(
        f"{admin.base}/flavors", headers={"X-Auth-Token": admin.token, **headers}, timeout=30
    )
    assert response.status_code == status, response.text
    if echo is None:
        assert_compute_error(response, status, "notAcceptable" if status == 406 else "badRequest")
        return
    assert response.headers["OpenStack-API-Version"] == f"compute {echo}"
    assert response.headers["X-OpenStack-Nova-API-Version"] == echo
    assert "OpenStack-API-Version" in response.headers["Vary"]


def test_no_token_is_401_in_novas_body(cloud: CloudProcess) -> None:
    response = httpx.get(f"{cloud.url}/compute/v2.1/servers", timeout=30)
    assert_compute_error(response, 401, "unauthorized")


# -- flavors ---------------------------------------------------------------------------------


def test_cli_flavors_devstack_set_create_and_delete(cloud: CloudProcess) -> None:
    listed = {f["Name"]: f for f in cloud.openstack("flavor", "list", "-f", "json")}
    assert listed["m1.tiny"]["RAM"] == 512 and listed["m1.tiny"]["ID"] == "1"
    assert listed["m1.nano"]["ID"] == "42" and listed["m1.micro"]["ID"] == "84"
    assert listed["m1.xlarge"]["VCPUs"] == 8
    made = cloud.openstack(
        "flavor",
        "create",
        "--ram",
        "256",
        "--vcpus",
        "2",
        "--disk",
        "3",
        "--private",
        "--property",
        "hw:cpu_policy=shared",
        "f.cli",
        "-f",
        "json",
    )
    assert made["os-flavor-access:is_public"] is False
    shown = cloud.openstack("flavor", "show", "f.cli", "-f", "json")
    assert shown["properties"] == {"hw:cpu_policy": "shared"}
    cloud.openstack("flavor", "unset", "--property", "hw:cpu_policy", "f.cli")
    assert cloud.openstack("flavor", "show", "f.cli", "-f", "json")["properties"] == {}
    cloud.openstack("flavor", "delete", "f.cli")
    assert cloud.openstack("flavor", "show", "f.cli", check=False).returncode != 0


def test_private_flavors_are_seen_by_the_projects_they_are_shared_with(
    cloud: CloudProcess, admin: ComputeClient, demo: ComputeClient
) -> None:
    body = {"flavor": {"name": "secret", "ram": 64, "vcpus": 1, "disk": 0, "id": 7001,
                       "os-flavor-access:is_public": False}}  # fmt: skip
    assert_compute_error(demo.request("POST", "flavors", json=body), 403, "forbidden")
    assert admin.request("POST", "flavors", json=body).json()["flavor"]["id"] == "7001"
    assert_compute_error(demo.request("GET", "flavors/7001"), 404, "itemNotFound")
    assert_compute_error(admin.request("POST", "flavors", json=body), 409, "conflictingRequest")
    demo_project = cloud.openstack("project", "show", "demo", "-f", "json")["id"]
    share = {"addTenantAccess": {"tenant": demo_project}}
    assert_compute_error(demo.request("POST", "flavors/7001/action", json=share), 403, "forbidden")
    shared = admin.request("POST", "flavors/7001/action", json=share)
    assert shared.json()["flavor_access"] == [{"flavor_id": "7001", "tenant_id": demo_project}]
    assert demo.request("GET", "flavors/7001").status_code == 200
    again = admin.request("POST", "flavors/7001/action", json=share)
    assert_compute_error(again, 409, "conflictingRequest")
    unshare = {"removeTenantAccess": {"tenant": demo_project}}
    assert admin.request("POST", "flavors/7001/action", json=unshare).status_code == 200
    gone = admin.request("POST", "flavors/7001/action", json=unshare)
    assert_compute_error(gone, 404, "itemNotFound")
    assert_compute_error(admin.request("GET", "flavors/1/os-flavor-access"), 404, "itemNotFound")
    assert admin.request("DELETE", "flavors/7001").status_code == 202


# -- keypairs --------------------------------------------------------------------------------


def _ed25519_public() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    raw = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return raw.decode() + " me@host"


def _md5_fingerprint(public_key: str) -> str:
    digest = hashlib.md5(base64.b64decode(public_key.split()[1])).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


def test_cli_keypair_import_shows_novas_fingerprint(cloud: CloudProcess, tmp_path: Path) -> None:
    public = _ed25519_public()
    (tmp_path / "k.pub").write_text(public)
    made = cloud.openstack(
        "keypair",
        "create",
        "--public-key",
        str(tmp_path / "k.pub"),
        "cli-key",
        "-f",
        "json",
        cloud="onestack-demo",
    )
    assert made["fingerprint"] == _md5_fingerprint(public)
    listed = cloud.openstack("keypair", "list", "-f", "json", cloud="onestack-demo")
    assert [k["Name"] for k in listed] == ["cli-key"]
    cloud.openstack("keypair", "delete", "cli-key", cloud="onestack-demo")


def test_keypairs_generated_below_292_and_per_user(
    cloud: CloudProcess, demo: ComputeClient, other: ComputeClient
) -> None:
    old = ComputeClient(cloud, DEMO.user, DEMO.project, version="2.2", token=demo.token)
    made = old.request("POST", "os-keypairs", json={"keypair": {"name": "gen"}})
    assert made.status_code == 201, made.text
    assert made.json()["keypair"]["private_key"].startswith("-----BEGIN")
    assert made.json()["keypair"]["type"] == "ssh"
    refused = demo.request("POST", "os-keypairs", json={"keypair": {"name": "gen2"}})
    assert_compute_error(refused, 400, "badRequest")
    assert_compute_error(other.request("GET", "os-keypairs/gen"), 404, "itemNotFound")
    bad = demo.request("POST", "os-keypairs", json={"keypair": {"name": "x", "public_key": "no"}})
    assert_compute_error(bad, 400, "badRequest")
    assert demo.request("DELETE", "os-keypairs/gen").status_code == 204


# -- the server lifecycle --------------------------------------------------------------------


def test_cli_server_lifecycle(cloud: CloudProcess, demo: ComputeClient, image_id: str) -> None:
    def cli(*args: str) -> Any:
        return cloud.openstack(*args, cloud="onestack-demo")

    made = cloud.openstack(
        "server",
        "create",
        "--image",
        image_id,
        "--flavor",
        "m1.tiny",
        "--nic",
        "none",
        "--wait",
        "cli-vm",
        "-f",
        "json",
        cloud="onestack-demo",
    )
    assert made["status"] == "ACTIVE"
    server_id = made["id"]
    listed = cloud.openstack("server", "list", "-f", "json", cloud="onestack-demo")
    assert server_id in [s["ID"] for s in listed]
    for command, status in [
        ("stop", "SHUTOFF"),
        ("start", "ACTIVE"),
        ("pause", "PAUSED"),
        ("unpause", "ACTIVE"),
        ("suspend", "SUSPENDED"),
        ("resume", "ACTIVE"),
    ]:
        cli("server", command, server_id)
        assert demo.wait_status(server_id, status)["status"] == status
    cli("server", "reboot", "--hard", server_id)
    assert demo.wait_status(server_id, "ACTIVE")["OS-EXT-STS:power_state"] == 1
    cli("server", "reboot", server_id)
    demo.wait_status(server_id, "ACTIVE")
    log = cli("console", "log", "show", server_id).stdout
    assert "onestack-guest: ready: cli-vm" in log
    assert cli("console", "log", "show", "--lines", "1", server_id).stdout.count("\n") == 1
    cli("server", "delete", "--wait", server_id)
    demo.wait_gone(server_id)


def test_cli_limits_zones_and_hypervisors(cloud: CloudProcess) -> None:
    limits = cloud.openstack("limits", "show", "--absolute", "-f", "json", cloud="onestack-demo")
    assert {row["Name"] for row in limits} >= {"max_total_instances", "instances_used"}
    zones = cloud.openstack("availability", "zone", "list", "--compute", "-f", "json")
    assert zones[0]["Zone Name"] == "nova"
    hypervisors = cloud.openstack("hypervisor", "list", "-f", "json")
    assert [h["Hypervisor Type"] for h in hypervisors] == ["fake"]
    services = cloud.openstack("compute", "service", "list", "-f", "json")
    assert [s["Binary"] for s in services] == ["nova-compute"]


def test_state_checks_refuse_with_novas_message(demo: ComputeClient, image_id: str) -> None:
    server = _boot(demo, image_id, name="states")
    assert demo.action(server["id"], {"os-stop": None}).status_code == 202
    demo.wait_status(server["id"], "SHUTOFF")
    message = assert_compute_error(
        demo.action(server["id"], {"os-stop": None}), 409, "conflictingRequest"
    )
    assert message == f"Cannot 'stop' instance {server['id']} while it is in vm_state stopped"
    assert_compute_error(demo.action(server["id"], {"pause": None}), 409, "conflictingRequest")
    soft = demo.action(server["id"], {"reboot": {"type": "SOFT"}})
    assert_compute_error(soft, 409, "conflictingRequest")
    assert_compute_error(demo.action(server["id"], {"nope": None}), 400, "badRequest")
    assert demo.request("DELETE", f"servers/{server['id']}").status_code == 204
    demo.wait_gone(server["id"])


def test_server_fields_by_microversion_and_role(
    cloud: CloudProcess, admin: ComputeClient, demo: ComputeClient, image_id: str
) -> None:
    server = _boot(demo, image_id, name="fields", metadata={"a": "b"}, description="d")
    assert server["flavor"]["original_name"] == "m1.nano" and server["flavor"]["ram"] == 128
    assert server["metadata"] == {"a": "b"} and server["description"] == "d"
    assert server["OS-EXT-AZ:availability_zone"] == "nova"
    assert server["tags"] == [] and server["locked"] is False and server["progress"] == 100
    assert "OS-EXT-SRV-ATTR:host" not in server
    old = ComputeClient(cloud, DEMO.user, DEMO.project, version="2.1", token=demo.token)
    assert old.server(server["id"])["flavor"]["id"] == "42"
    seen_by_admin = admin.server(server["id"])
    host = seen_by_admin["OS-EXT-SRV-ATTR:host"]
    expected = hashlib.sha224((server["tenant_id"] + host).encode()).hexdigest()
    assert server["hostId"] == expected
    renamed = demo.request("PUT", f"servers/{server['id']}", json={"server": {"name": "x2"}})
    assert renamed.json()["server"]["name"] == "x2"
    assert demo.request("DELETE", f"servers/{server['id']}").status_code == 204


def test_listing_filters_pages_and_reservations(
    admin: ComputeClient, demo: ComputeClient, image_id: str
) -> None:
    made = demo.create_server(
        imageRef=image_id, name="many", min_count=3, max_count=3, return_reservation_id=True
    )
    assert made.status_code == 202, made.text
    reservation = made.json()["reservation_id"]
    mine = demo.request("GET", "servers/detail", params={"reservation_id": reservation})
    servers = mine.json()["servers"]
    assert sorted(s["name"] for s in servers) == ["many-1", "many-2", "many-3"]
    for server in servers:
        demo.wait_status(server["id"], "ACTIVE")
    page = demo.request("GET", "servers", params={"limit": 2, "name": "^many-"}).json()
    assert len(page["servers"]) == 2 and page["servers_links"][0]["rel"] == "next"
    rest = demo.request(
        "GET", "servers", params={"name": "^many-", "marker": page["servers"][-1]["id"]}
    ).json()
    assert len(rest["servers"]) == 1 and "servers_links" not in rest
    newest_first = [s["id"] for s in page["servers"] + rest["servers"]]
    assert sorted(newest_first) == sorted(s["id"] for s in servers)
    assert (
        demo.request("GET", "servers", params={"status": "SHUTOFF", "name": "^many-"}).json()[
            "servers"
        ]
        == []
    )
    assert_compute_error(
        demo.request("GET", "servers", params={"marker": "nope"}), 400, "badRequest"
    )
    everyone = admin.request("GET", "servers", params={"all_tenants": "1", "name": "^many-"})
    assert len(everyone.json()["servers"]) == 3
    assert admin.request("GET", "servers", params={"name": "^many-"}).json()["servers"] == []
    for server in servers:
        demo.request("DELETE", f"servers/{server['id']}")
    for server in servers:
        demo.wait_gone(server["id"])


def test_tenants_never_see_each_others_servers(
    demo: ComputeClient, other: ComputeClient, image_id: str
) -> None:
    server = _boot(demo, image_id, name="private")
    for method, path in [("GET", ""), ("DELETE", ""), ("GET", "/ips"), ("GET", "/os-interface")]:
        assert_compute_error(
            other.request(method, f"servers/{server['id']}{path}"), 404, "itemNotFound"
        )
    assert_compute_error(other.action(server["id"], {"os-stop": None}), 404, "itemNotFound")
    assert server["id"] not in [s["id"] for s in other.request("GET", "servers").json()["servers"]]
    assert other.request("GET", "servers", params={"all_tenants": "1"}).status_code == 403
    assert demo.request("DELETE", f"servers/{server['id']}").status_code == 204


def test_no_valid_host_is_an_error_with_a_fault(cloud: CloudProcess, admin: ComputeClient) -> None:
    # More disk than the fake host has (disk is not under quota, as in Nova).
    huge = {"flavor": {"name": "huge", "ram": 64, "vcpus": 1, "disk": 500_000, "id": "huge"}}
    assert admin.request("POST", "flavors", json=huge).status_code == 200
    admin_images = image_client(cloud, ADMIN)
    made = admin.create_server(imageRef=make_image(admin_images), flavorRef="huge", name="nowhere")
    assert made.status_code == 202, made.text
    server = admin.wait_status(made.json()["server"]["id"], "ERROR")
    assert server["fault"]["message"].startswith("No valid host was found.")
    assert admin.request("DELETE", f"servers/{server['id']}").status_code == 204
    admin.wait_gone(server["id"])


def test_the_fake_driver_stands_in_for_any_hypervisor(
    demo: ComputeClient, demo_images: ImageClient
) -> None:
    qemu_only = make_image(demo_images, name="qemu-marked", hypervisor_type="qemu")
    made = demo.create_server(imageRef=qemu_only, name="anywhere")
    assert made.status_code == 202, made.text
    server = demo.wait_status(made.json()["server"]["id"], "ACTIVE")
    assert demo.request("DELETE", f"servers/{server['id']}").status_code == 204
    demo.wait_gone(server["id"])


# -- bad input: a 4xx in Nova's body, nothing written -----------------------------------------


def test_bad_input_table_leaves_nothing_behind(
    demo: ComputeClient, demo_images: ImageClient, image_id: str
) -> None:
    kernel = make_image(demo_images, name="kernel", disk_format="aki", container_format="aki")
    big = make_image(demo_images, name="big", min_ram=4096)
    wide = make_image(demo_images, name="wide", min_disk=50)
    queued = demo_images.create(name="queued", disk_format="raw", container_format="bare")["id"]
    before = _server_count(demo)
    cases: list[tuple[dict[str, Any], int]] = [
        ({"imageRef": str(uuid.uuid4())}, 400),
        ({"imageRef": image_id, "flavorRef": "nope"}, 400),
        ({"imageRef": image_id, "key_name": "missing"}, 400),
        ({"imageRef": kernel}, 400),
        ({"imageRef": queued}, 400),
        ({"imageRef": big}, 400),
        ({"imageRef": wide, "flavorRef": "1"}, 400),
        ({"imageRef": image_id, "networks": [{"uuid": str(uuid.uuid4())}]}, 400),
        ({"imageRef": image_id, "networks": None}, 400),
        ({"imageRef": image_id, "availability_zone": "elsewhere"}, 400),
        ({"imageRef": image_id, "user_data": "not base64!"}, 400),
        ({"imageRef": image_id, "min_count": 3, "max_count": 2}, 400),
        ({"imageRef": image_id, "name": ""}, 400),
    ]
    for fields, status in cases:
        response = demo.create_server(**fields)
        assert_compute_error(response, status, "badRequest")
    for raw in (b"{", b"[]", b'{"server": 1}', b""):
        response = demo.request(
            "POST", "servers", content=raw, headers={"Content-Type": "application/json"}
        )
        assert_compute_error(response, 400, "badRequest")
    assert _server_count(demo) == before


# -- quotas, notifications, scale ------------------------------------------------------------


def test_instance_quota_is_a_403(cloud: CloudProcess, demo: ComputeClient, image_id: str) -> None:
    cloud.openstack(
        "registered",
        "limit",
        "create",
        "--service",
        "compute",
        "--default-limit",
        "-1",
        "servers",
    )
    cloud.openstack(
        "limit",
        "create",
        "--project",
        "demo",
        "--service",
        "compute",
        "--resource-limit",
        "0",
        "servers",
    )
    try:
        refused = demo.create_server(imageRef=image_id, name="over")
        message = assert_compute_error(refused, 403, "forbidden")
        assert message.startswith("Quota exceeded for instances")
        limits = demo.request("GET", "limits").json()["limits"]["absolute"]
        assert limits["maxTotalInstances"] == 0
    finally:
        limit_ids = cloud.openstack("limit", "list", "--project", "demo", "-f", "json")
        for limit in limit_ids:
            cloud.openstack("limit", "delete", limit["ID"])


def test_notifications_follow_the_lifecycle(
    cloud: CloudProcess, demo: ComputeClient, image_id: str
) -> None:
    server = _boot(demo, image_id, name="noted")
    demo.action(server["id"], {"os-stop": None})
    demo.wait_status(server["id"], "SHUTOFF")
    demo.request("DELETE", f"servers/{server['id']}")
    demo.wait_gone(server["id"])

    def seen(event: str) -> bool:
        return any(
            n["payload"].get("instance_id") == server["id"] for n in cloud.notifications(event)
        )

    for event in ("create.start", "create.end", "power_off.end", "delete.end"):
        wait_for(lambda event=event: seen(f"compute.instance.{event}"), event)


def test_a_hundred_servers_on_the_fake_driver(demo: ComputeClient, image_id: str) -> None:
    made = demo.create_server(
        imageRef=image_id, name="herd", min_count=100, max_count=100, return_reservation_id=True
    )
    assert made.status_code == 202, made.text
    params = {"reservation_id": made.json()["reservation_id"]}

    def all_active() -> bool:
        listed = demo.request("GET", "servers/detail", params=params).json()["servers"]
        return len(listed) == 100 and all(s["status"] == "ACTIVE" for s in listed)

    wait_for(all_active, "100 servers ACTIVE")
    for server in demo.request("GET", "servers", params=params).json()["servers"]:
        assert demo.request("DELETE", f"servers/{server['id']}").status_code == 204
    wait_for(
        lambda: demo.request("GET", "servers", params=params).json()["servers"] == [],
        "100 servers deleted",
    )


# -- networks: ports from the network service, placement allocations ---------------------------


@pytest.fixture(scope="module")
def demo_network(cloud: CloudProcess) -> str:
    conn = cloud.sdk("demo", "demo")
    network = conn.network.create_network(name=f"net-{uuid.uuid4().hex[:6]}")
    conn.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.9.0.0/24")
    return network.id


def test_sdk_server_on_a_network_gets_a_port_and_an_allocation(
    cloud: CloudProcess, demo_network: str, image_id: str
) -> None:
    conn = cloud.sdk("demo", "demo")
    server = conn.compute.create_server(
        name="netted", image_id=image_id, flavor_id="1", networks=[{"uuid": demo_network}]
    )
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=60, interval=0.2)
    [address] = next(iter(server.addresses.values()))
    assert address["addr"].startswith("10.9.0.") and address["OS-EXT-IPS:type"] == "fixed"
    [interface] = list(conn.compute.server_interfaces(server))
    assert interface.net_id == demo_network and interface.port_state == "ACTIVE"
    assert [s.id for s in conn.compute.servers(ip=r"^10\.9\.0\.")] == [server.id]
    admin = cloud.sdk()
    node = next(iter(admin.compute.hypervisors()))
    usages = admin.placement.get(f"/resource_providers/{node.id}/usages").json()["usages"]
    assert usages["MEMORY_MB"] >= 512
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=60, interval=0.2)
    assert list(conn.network.ports(device_id=server.id)) == []
    assert admin.placement.get(f"/allocations/{server.id}").json()["allocations"] == {}


def test_another_tenants_network_or_a_used_port_is_refused(
    cloud: CloudProcess, other: ComputeClient, demo_network: str, image_id: str
) -> None:
    foreign = other.create_server(imageRef=image_id, networks=[{"uuid": demo_network}])
    assert_compute_error(foreign, 400, "badRequest")
    conn = cloud.sdk("demo", "demo")
    port = conn.network.create_port(
        network_id=demo_network, device_id="elsewhere", device_owner="compute:nova"
    )
    demo = ComputeClient(cloud, DEMO.user, DEMO.project)
    before = _server_count(demo)
    used = demo.create_server(imageRef=image_id, networks=[{"port": port.id}])
    assert_compute_error(used, 409, "conflictingRequest")
    assert _server_count(demo) == before


def test_admin_views_hypervisors_services_zones_and_deleted_servers(
    cloud: CloudProcess, admin: ComputeClient, demo: ComputeClient, image_id: str
) -> None:
    old = ComputeClient(cloud, version="2.52", token=admin.token)
    [by_int] = old.request("GET", "os-hypervisors").json()["hypervisors"]
    [by_uuid] = admin.request("GET", "os-hypervisors/detail").json()["hypervisors"]
    assert isinstance(by_int["id"], int) and len(by_uuid["id"]) == 36
    assert by_uuid["state"] == "up" and by_uuid["hypervisor_type"] == "fake"
    assert admin.request("GET", f"os-hypervisors/{by_uuid['id']}").status_code == 200
    assert_compute_error(admin.request("GET", "os-hypervisors/nope"), 404, "itemNotFound")
    [service] = admin.request("GET", "os-services").json()["services"]
    assert service["state"] == "up" and service["binary"] == "nova-compute"
    for path in ("os-hypervisors", "os-services", "os-availability-zone/detail"):
        assert_compute_error(demo.request("GET", path), 403, "forbidden")
    detail = admin.request("GET", "os-availability-zone/detail").json()["availabilityZoneInfo"]
    assert service["host"] in detail[0]["hosts"]

    server = _boot(demo, image_id, name="gone")
    assert demo.request("DELETE", f"servers/{server['id']}").status_code == 204
    demo.wait_gone(server["id"])
    params = {"all_tenants": "1", "deleted": "true", "name": "^gone$"}
    [shown] = admin.request("GET", "servers/detail", params=params).json()["servers"]
    assert shown["status"] == "DELETED" and shown["OS-SRV-USG:terminated_at"]
    hidden = demo.request("GET", "servers/detail", params={"deleted": "true", "name": "^gone$"})
    assert hidden.json()["servers"] == []
