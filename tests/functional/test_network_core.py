"""The network service's core on a real cloud: networks, subnets, ports and security groups
through the `openstack` CLI and plain HTTP; listings as Neutron answers them; tenants that
never see each other; bad input refused with Neutron's body and nothing written; and IPAM
that never hands out one address twice under concurrent creates (SQLite and PostgreSQL)."""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def alt(cloud: CloudProcess) -> NetworkClient:
    client, _ = member_of_new_project(cloud, "netalt")
    return client


def test_discovery_catalog_and_extensions(cloud: CloudProcess, demo: NetworkClient) -> None:
    versions = httpx.get(f"{cloud.url}/networking/", timeout=10).json()["versions"]
    assert [v["id"] for v in versions] == ["v2.0"]
    catalog = cloud.openstack("catalog", "show", "network", "-f", "json")
    assert catalog["name"] == "neutron"
    aliases = {e["alias"] for e in demo.list("extensions")}
    assert {"external-net", "provider", "binding", "security-group"} <= aliases
    assert "extra_dhcp_opt" not in aliases
    assert_neutron_error(demo.request("GET", "extensions/no-such"), 404, "ExtensionNotFound")


def test_cli_network_subnet_port_and_security_groups(cloud: CloudProcess) -> None:
    def osc(*args: str) -> Any:
        return cloud.openstack(*args, "-f", "json", cloud="onestack-demo")

    network = osc("network", "create", "cli-net", "--description", "made by the CLI")
    assert network["mtu"] == 1450 and network["status"] == "ACTIVE"
    assert network["provider:network_type"] == "vxlan" and network["provider:segmentation_id"]
    subnet = osc(
        "subnet", "create", "cli-sub", "--network", "cli-net", "--subnet-range", "10.9.0.0/24"
    )
    assert subnet["gateway_ip"] == "10.9.0.1"
    assert subnet["allocation_pools"] == [{"start": "10.9.0.2", "end": "10.9.0.254"}]
    group = (
        osc("security group", "create", "web")
        if False
        else osc("security", "group", "create", "web")
    )
    rule = osc(
        "security", "group", "rule", "create", "web", "--protocol", "tcp", "--dst-port", "80:81"
    )
    assert (rule["port_range_min"], rule["port_range_max"]) == (80, 81)
    port = osc("port", "create", "cli-port", "--network", "cli-net", "--security-group", "web")
    assert port["mac_address"].startswith("fa:16:3e:")
    assert port["fixed_ips"][0]["ip_address"] == "10.9.0.2"
    assert port["security_group_ids"] == [group["id"]] and port["status"] == "DOWN"
    shown = osc("network", "show", "cli-net")
    assert shown["subnets"] == [subnet["id"]]
    cloud.openstack("network", "set", "--name", "cli-net2", "cli-net", cloud="onestack-demo")
    assert "cli-net2" in [n["Name"] for n in osc("network", "list")]
    cloud.openstack("port", "delete", "cli-port", cloud="onestack-demo")
    cloud.openstack("subnet", "delete", "cli-sub", cloud="onestack-demo")
    cloud.openstack("network", "delete", "cli-net2", cloud="onestack-demo")
    assert "cli-net2" not in [n["Name"] for n in osc("network", "list")]


def test_default_security_group_rules(demo: NetworkClient) -> None:
    (group,) = [g for g in demo.list("security-groups") if g["name"] == "default"]
    other = demo.create("security-groups", "security_group", name="not-default")
    renamed = {"security_group": {"name": "default"}}
    assert_neutron_error(demo.request("PUT", f"security-groups/{other['id']}", json=renamed), 409)
    second = demo.request("POST", "security-groups", json=renamed)
    assert_neutron_error(second, 409, "SecurityGroupDefaultAlreadyExists")
    demo.delete("security-groups", other["id"])
    rules = {
        (r["direction"], r["ethertype"], r["remote_group_id"])
        for r in group["security_group_rules"]
    }
    assert rules == {
        ("egress", "IPv4", None),
        ("egress", "IPv6", None),
        ("ingress", "IPv4", group["id"]),
        ("ingress", "IPv6", group["id"]),
    }
    response = demo.request("DELETE", f"security-groups/{group['id']}")
    assert_neutron_error(response, 409)


def test_lists_filter_sort_select_fields_and_page(demo: NetworkClient) -> None:
    made = [demo.create("networks", "network", name=f"page-{i}") for i in range(3)]
    for network in made:
        assert demo.request("PUT", f"networks/{network['id']}/tags/paged").status_code == 201
    listed = demo.list("networks", tags="paged", sort_key="name", sort_dir="desc")
    names = [n["name"] for n in listed]
    assert names == ["page-2", "page-1", "page-0"]
    assert [n["id"] for n in demo.list("networks", name="page-1")] == [made[1]["id"]]
    assert demo.list("networks", name="page-1", fields="name") == [{"name": "page-1"}]
    params = {"limit": 2, "sort_key": "name", "tags": "paged"}
    first = demo.request("GET", "networks", params=params).json()
    assert [n["name"] for n in first["networks"]] == ["page-0", "page-1"]
    (link,) = [link for link in first["networks_links"] if link["rel"] == "next"]
    second = httpx.get(link["href"], headers={"X-Auth-Token": demo.token}, timeout=10).json()
    assert [n["name"] for n in second["networks"]] == ["page-2"]
    assert_neutron_error(demo.request("GET", "networks", params={"sort_dir": "up"}), 400)
    for network in made:
        demo.delete("networks", network["id"])


def test_tenants_never_see_each_other(
    admin: NetworkClient, demo: NetworkClient, alt: NetworkClient
) -> None:
    network = demo.create("networks", "network", name="demo-only")
    subnet = demo.create(
        "subnets", "subnet", network_id=network["id"], cidr="10.20.0.0/24", ip_version=4
    )
    port = demo.create("ports", "port", network_id=network["id"])
    for collection, item in (("networks", network), ("subnets", subnet), ("ports", port)):
        assert_neutron_error(alt.request("GET", f"{collection}/{item['id']}"), 404)
        assert_neutron_error(alt.request("DELETE", f"{collection}/{item['id']}"), 404)
        assert item["id"] not in {i["id"] for i in alt.list(collection)}
        assert item["id"] in {i["id"] for i in admin.list(collection)}
    (group,) = [g for g in demo.list("security-groups") if g["name"] == "default"]
    assert_neutron_error(alt.request("GET", f"security-groups/{group['id']}"), 404)
    rule_id = group["security_group_rules"][0]["id"]
    assert_neutron_error(alt.request("DELETE", f"security-group-rules/{rule_id}"), 404)
    assert group["id"] not in {g["id"] for g in alt.list("security-groups")}
    refused = alt.request("POST", "ports", json={"port": {"network_id": network["id"]}})
    assert_neutron_error(refused, 404, "NetworkNotFound")
    shared = admin.create("networks", "network", name="everyone", shared=True)
    assert shared["id"] in {n["id"] for n in alt.list("networks")}
    assert_neutron_error(alt.request("DELETE", f"networks/{shared['id']}"), 403)
    owned_by_alt = alt.create("ports", "port", network_id=shared["id"])
    borrowed = {"port": {"network_id": shared["id"], "security_groups": [group["id"]]}}
    assert_neutron_error(alt.request("POST", "ports", json=borrowed), 404, "SecurityGroupNotFound")
    assert owned_by_alt["id"] not in {p["id"] for p in demo.list("ports")}
    refused = demo.request("POST", "networks", json={"network": {"name": "x", "shared": True}})
    assert_neutron_error(refused, 403)
    alt.delete("ports", owned_by_alt["id"])
    admin.delete("networks", shared["id"])
    demo.delete("ports", port["id"])
    demo.delete("networks", network["id"])


def _subnet(**fields: Any) -> tuple[str, dict[str, Any]]:
    return "subnets", {"subnet": {"network_id": "{net}", **fields}}


def _port(**fields: Any) -> tuple[str, dict[str, Any]]:
    return "ports", {"port": {"network_id": "{net}", **fields}}


def _rule(**fields: Any) -> tuple[str, dict[str, Any]]:
    return "security-group-rules", {"security_group_rule": {"security_group_id": "{sg}", **fields}}


BAD_INPUT = [
    (_subnet(cidr="10.30.0.128/25"), 400),  # overlaps the network's subnet
    (_subnet(cidr="10.30.0.1/24"), 400),  # host bits set
    (_subnet(cidr="10.31.0.0/24", gateway_ip="9.9.9.9"), 400),
    (_port(fixed_ips=[{"ip_address": "10.99.0.5"}]), 400),  # outside every subnet
    (_port(fixed_ips=[{"ip_address": "10.30.0.5"}]), 409),  # taken
    (_port(mac_address="{mac}"), 409),
    (_port(bogus=1), 400),
    (_port(security_groups=["nope"]), 404),
    (_port(device_owner="network:router_interface"), 403),  # a router's port, for admins
    (("ports", {"port": {"network_id": "not-a-network"}}), 404),
    (("networks", {"network": {"name": 5, "admin_state_up": "maybe"}}), 400),
    (("networks", {"network": {"provider:network_type": "gre"}}), 403),
    (_rule(direction="in"), 400),
    (_rule(direction="ingress", protocol="tcp", port_range_min=90, port_range_max=80), 400),
    (_rule(direction="ingress", port_range_min=80), 400),  # ports without a protocol
    (_rule(direction="ingress", protocol="icmp", remote_ip_prefix="::/0"), 400),
    (_rule(direction="egress"), 409),  # the new group's own egress rule
]


def _filled(document: Any, values: dict[str, str]) -> Any:
    if isinstance(document, dict):
        return {k: _filled(v, values) for k, v in document.items()}
    if isinstance(document, list):
        return [_filled(v, values) for v in document]
    if isinstance(document, str) and document.startswith("{") and document.endswith("}"):
        return values[document[1:-1]]
    return document


def test_bad_input_is_refused_and_writes_nothing(demo: NetworkClient) -> None:
    network = demo.create("networks", "network", name="bad-input")
    demo.create("subnets", "subnet", network_id=network["id"], cidr="10.30.0.0/24", ip_version=4)
    taken = demo.create(
        "ports", "port", network_id=network["id"], fixed_ips=[{"ip_address": "10.30.0.5"}]
    )
    group = demo.create("security-groups", "security_group", name="bad-input")
    values = {"net": network["id"], "mac": taken["mac_address"], "sg": group["id"]}
    before = {c: demo.list(c) for c in ("networks", "subnets", "ports", "security-group-rules")}
    for (collection, body), status in BAD_INPUT:
        response = demo.request("POST", collection, json=_filled(body, values))
        assert_neutron_error(response, status)
    malformed = demo.request(
        "POST", "networks", content=b'{"network": ', headers={"Content-Type": "application/json"}
    )
    assert_neutron_error(malformed, 400, "HTTPBadRequest")
    after = {c: demo.list(c) for c in ("networks", "subnets", "ports", "security-group-rules")}
    assert after == before


def test_concurrent_creates_never_share_an_address(demo: NetworkClient) -> None:
    network = demo.create("networks", "network", name="ipam-race")
    subnet = demo.create(
        "subnets", "subnet", network_id=network["id"], cidr="10.40.0.0/27", ip_version=4
    )
    body = {"port": {"network_id": network["id"]}}

    def create(_: int) -> httpx.Response:
        return demo.request("POST", "ports", json=body)

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(create, range(29)))
    made = [r.json()["port"] for r in answers if r.status_code == 201]
    refused = [r for r in answers if r.status_code != 201]
    addresses = [p["fixed_ips"][0]["ip_address"] for p in made]
    assert len(addresses) == len(set(addresses))
    assert len(made) == 29, [r.text for r in refused]  # the pool holds exactly 29
    full = demo.request("POST", "ports", json=body)
    assert_neutron_error(full, 409, "IpAddressGenerationFailure")
    assert subnet["gateway_ip"] not in addresses


def test_notifications_name_the_resource(cloud: CloudProcess, demo: NetworkClient) -> None:
    network = demo.create("networks", "network", name="noted")
    demo.delete("networks", network["id"])
    created = cloud.notifications("network.create.end")
    deleted = cloud.notifications("network.delete.end")
    assert network["id"] in {n["payload"]["network"]["id"] for n in created}
    assert network["id"] in {n["payload"]["network"]["id"] for n in deleted}
    assert {n["publisher_id"].split(".")[0] for n in created} == {"network"}


def test_bulk_creates_make_all_or_nothing(demo: NetworkClient) -> None:
    body = {"networks": [{"name": "bulk-1"}, {"name": "bulk-2"}]}
    response = demo.request("POST", "networks", json=body)
    assert response.status_code == 201, response.text
    made = response.json()["networks"]
    assert [n["name"] for n in made] == ["bulk-1", "bulk-2"]
    ports = {"ports": [{"network_id": made[0]["id"]}, {"network_id": "no-such-network"}]}
    assert_neutron_error(demo.request("POST", "ports", json=ports), 404, "NetworkNotFound")
    assert demo.list("ports", network_id=made[0]["id"]) == []
    for network in made:
        demo.delete("networks", network["id"])


def test_ipv6_subnets_hand_out_addresses(demo: NetworkClient) -> None:
    network = demo.create("networks", "network", name="v6")
    subnet = demo.create(
        "subnets", "subnet", network_id=network["id"], cidr="fd00:1::/64", ip_version=6
    )
    assert subnet["gateway_ip"] == "fd00:1::1"
    assert subnet["allocation_pools"][0]["start"] == "fd00:1::2"
    port = demo.create("ports", "port", network_id=network["id"])
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "fd00:1::2"}]
    demo.delete("ports", port["id"])
    demo.delete("networks", network["id"])
