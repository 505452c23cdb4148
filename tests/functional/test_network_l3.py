"""Routers, floating IPs, quotas and the start-up networks on a real cloud: the bootstrap's
public/private/router1, router interfaces (a subnet once), floating IPs that need a router
with its gateway on their network, and quotas from unified limits refusing with 409."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.functional.cloud import CloudProcess
from tests.functional.network_api import (
    NetworkClient,
    as_user,
    assert_neutron_error,
    member_of_new_project,
)


@pytest.fixture(scope="module")
def demo(cloud: CloudProcess) -> NetworkClient:
    return as_user(cloud, "demo")


@pytest.fixture(scope="module")
def admin(cloud: CloudProcess) -> NetworkClient:
    return as_user(cloud, "admin")


def _named(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (found,) = [i for i in items if i["name"] == name]
    return found


def test_the_cloud_starts_with_public_private_and_router1(
    cloud: CloudProcess, demo: NetworkClient, admin: NetworkClient
) -> None:
    public = _named(demo.list("networks"), "public")
    assert public["router:external"] and not public["shared"]
    assert public["provider:network_type"] == "flat"
    # As in Neutron, tenants see an external network but not its subnets (unless shared).
    assert "public-subnet" not in {s["name"] for s in demo.list("subnets")}
    subnet = _named(admin.list("subnets"), "public-subnet")
    assert (subnet["cidr"], subnet["gateway_ip"], subnet["enable_dhcp"]) == (
        "172.24.4.0/24",
        "172.24.4.1",
        False,
    )
    assert subnet["allocation_pools"] == [{"start": "172.24.4.2", "end": "172.24.4.254"}]
    private = _named(demo.list("subnets"), "private-subnet")
    assert private["cidr"] == "10.0.0.0/26"
    router = _named(demo.list("routers"), "router1")
    assert router["external_gateway_info"]["network_id"] == public["id"]
    interfaces = demo.list("ports", device_id=router["id"], device_owner="network:router_interface")
    assert [p["fixed_ips"][0]["ip_address"] for p in interfaces] == ["10.0.0.1"]
    cloud.restart()  # a second start adds nothing
    again = as_user(cloud, "demo")
    assert len([n for n in again.list("networks") if n["name"] == "private"]) == 1
    assert len([r for r in again.list("routers") if r["name"] == "router1"]) == 1


def test_cli_router_and_floating_ip(cloud: CloudProcess) -> None:
    def osc(*args: str, json: bool = True) -> Any:
        tail = ("-f", "json") if json else ()
        return cloud.openstack(*args, *tail, cloud="onestack-demo")

    osc("network", "create", "l3-net")
    osc("subnet", "create", "l3-sub", "--network", "l3-net", "--subnet-range", "10.50.0.0/24")
    router = osc("router", "create", "l3-router")
    osc("router", "set", "--external-gateway", "public", "l3-router", json=False)
    osc("router", "add", "subnet", "l3-router", "l3-sub", json=False)
    port = osc("port", "create", "l3-port", "--network", "l3-net")
    fip = osc("floating", "ip", "create", "public", "--port", "l3-port")
    assert fip["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]
    assert fip["router_id"] == router["id"] and fip["status"] == "ACTIVE"
    assert fip["floating_ip_address"].startswith("172.24.4.")
    osc("floating", "ip", "unset", "--port", fip["id"], json=False)
    assert osc("floating", "ip", "show", fip["id"])["port_id"] is None
    osc("floating", "ip", "delete", fip["id"], json=False)
    osc("port", "delete", "l3-port", json=False)
    osc("router", "remove", "subnet", "l3-router", "l3-sub", json=False)
    osc("router", "delete", "l3-router", json=False)
    assert "l3-router" not in [r["Name"] for r in osc("router", "list")]


def test_router_interfaces_and_their_refusals(demo: NetworkClient) -> None:
    network = demo.create("networks", "network", name="ri-net")
    subnet = demo.create(
        "subnets", "subnet", network_id=network["id"], cidr="10.60.0.0/24", ip_version=4
    )
    router = demo.create("routers", "router", name="ri-router")
    path = f"routers/{router['id']}"
    added = demo.request("PUT", f"{path}/add_router_interface", json={"subnet_id": subnet["id"]})
    assert added.status_code == 200, added.text
    port = demo.show("ports", "port", added.json()["port_id"])
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.60.0.1"}]
    assert port["device_owner"] == "network:router_interface"
    deadline = time.monotonic() + 15  # the network agent makes the router, its ports go ACTIVE
    while demo.show("ports", "port", port["id"])["status"] != "ACTIVE":
        assert time.monotonic() < deadline, "the router's interface never went ACTIVE"
        time.sleep(0.1)
    twice = demo.request("PUT", f"{path}/add_router_interface", json={"subnet_id": subnet["id"]})
    assert_neutron_error(twice, 400)
    assert_neutron_error(demo.request("DELETE", f"ports/{port['id']}"), 409)
    assert_neutron_error(demo.request("DELETE", path), 409, "RouterInUse")
    assert_neutron_error(demo.request("DELETE", f"subnets/{subnet['id']}"), 409, "SubnetInUse")
    removed = demo.request(
        "PUT", f"{path}/remove_router_interface", json={"subnet_id": subnet["id"]}
    )
    assert removed.status_code == 200, removed.text
    assert_neutron_error(
        demo.request("PUT", f"{path}/remove_router_interface", json={"subnet_id": subnet["id"]}),
        404,
    )
    demo.delete("routers", router["id"])
    demo.delete("networks", network["id"])


def test_floating_ips_need_an_external_network_and_a_gateway(
    cloud: CloudProcess, demo: NetworkClient
) -> None:
    public = _named(demo.list("networks"), "public")
    network = demo.create("networks", "network", name="fip-net")
    demo.create("subnets", "subnet", network_id=network["id"], cidr="10.70.0.0/24", ip_version=4)
    port = demo.create("ports", "port", network_id=network["id"])
    before = demo.list("floatingips")
    internal = {"floatingip": {"floating_network_id": network["id"]}}
    assert_neutron_error(demo.request("POST", "floatingips", json=internal), 400)
    unreachable = {"floatingip": {"floating_network_id": public["id"], "port_id": port["id"]}}
    response = demo.request("POST", "floatingips", json=unreachable)
    assert_neutron_error(response, 404, "ExternalGatewayForFloatingIPNotFound")
    assert demo.list("floatingips") == before
    alt, _ = member_of_new_project(cloud, "fipalt")
    router1 = _named(demo.list("routers"), "router1")
    assert_neutron_error(alt.request("GET", f"routers/{router1['id']}"), 404, "RouterNotFound")
    grab = alt.request("PUT", f"routers/{router1['id']}/add_router_interface", json={})
    assert_neutron_error(grab, 404)
    fip = alt.create("floatingips", "floatingip", floating_network_id=public["id"])
    taken_by_alt = {"port": {"network_id": network["id"]}}
    assert_neutron_error(alt.request("POST", "ports", json=taken_by_alt), 404)
    stolen = alt.request(
        "PUT", f"floatingips/{fip['id']}", json={"floatingip": {"port_id": port["id"]}}
    )
    assert_neutron_error(stolen, 404)
    assert_neutron_error(demo.request("GET", f"floatingips/{fip['id']}"), 404)
    alt.delete("floatingips", fip["id"])
    demo.delete("ports", port["id"])
    demo.delete("networks", network["id"])


def test_quotas_come_from_unified_limits(cloud: CloudProcess, admin: NetworkClient) -> None:
    client, project_id = member_of_new_project(cloud, "netquota")
    for resource in ("network", "security_group"):
        cloud.openstack(
            "registered", "limit", "create", "--service", "network", "--region", "RegionOne",
            "--default-limit", "-1", resource,
        )  # fmt: skip
    cloud.openstack("quota", "set", "--networks", "1", project_id)
    quota = admin.request("GET", f"quotas/{project_id}").json()["quota"]
    assert quota["network"] == 1 and quota["port"] == -1
    client.create("networks", "network", name="only-one")
    over = client.request("POST", "networks", json={"network": {"name": "second"}})
    assert_neutron_error(over, 409, "OverQuota")
    assert [n["name"] for n in client.list("networks") if n["project_id"] == project_id] == [
        "only-one"
    ]
    details = admin.request("GET", f"quotas/{project_id}/details").json()["quota"]
    assert details["network"] == {"limit": 1, "used": 1, "reserved": 0}
    refused = client.request("PUT", f"quotas/{project_id}", json={"quota": {"network": 5}})
    assert_neutron_error(refused, 403)
    assert admin.request("DELETE", f"quotas/{project_id}").status_code == 204
    client.create("networks", "network", name="second")
    unregistered = admin.request("PUT", f"quotas/{project_id}", json={"quota": {"router": 2}})
    assert_neutron_error(unregistered, 400, "NoRegisteredLimit")


def test_concurrent_creates_never_pass_a_limit(cloud: CloudProcess, admin: NetworkClient) -> None:
    client, project_id = member_of_new_project(cloud, "netquota2")
    cloud.openstack(
        "registered", "limit", "create", "--service", "network", "--region", "RegionOne",
        "--default-limit", "-1", "router",
    )  # fmt: skip
    cloud.openstack("quota", "set", "--routers", "3", project_id)

    def create(index: int) -> httpx.Response:
        return client.request("POST", "routers", json={"router": {"name": f"r{index}"}})

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(create, range(8)))
    assert {r.status_code for r in answers} <= {201, 409}
    for refused in (r for r in answers if r.status_code == 409):
        assert_neutron_error(refused, 409, "OverQuota")
    assert len(client.list("routers")) <= 3
    assert len(client.list("routers")) == sum(r.status_code == 201 for r in answers)
