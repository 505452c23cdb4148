"""DHCP reaches the dataplane: on a dataplane that carries traffic, plugging a server's port
gives its network one DHCP port (network:dhcp, an address from IPAM) and a DHCP server that
answers every port of the network; on one that does not (noop), no DHCP port is made. Over a
real SQLite database and a real network agent, from the start-up bootstrap."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from onestack.common import migrate
from onestack.common.agent import Agent, agent_kind
from onestack.common.bus import LocalBus, Notifier
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.ownership import Ownership
from onestack.network.drivers.noop import NoopDataplane
from onestack.network.manager import Caller, NetworkManager
from onestack.settings import NetworkSettings

DEMO = RequestContext(
    user_id="u1", user_domain_id="default", roles=frozenset({"member"}), project_id="demo"
)
DEADLINE_S = 10.0


class TrafficDataplane(NoopDataplane):
    """The no-op driver claiming to carry traffic, as linuxbridge does."""

    carries_traffic = True


def cloud(tmp_path: Path, dataplane: NoopDataplane) -> Iterator[NetworkManager]:
    url = f"sqlite:///{tmp_path / 'onestack.db'}"
    migrate.upgrade(url)
    db = Database(url)
    manager = NetworkManager(
        db, NetworkSettings(), Notifier(LocalBus(), "network"), dataplane=dataplane
    )
    agent = Agent(
        "network", Ownership(db, agent_kind("network")), manager.agent_handlers(), poll_s=0.05
    )
    agent.start()
    manager.set_waker(agent.wake)
    manager.bootstrap("admin", "demo", [])
    yield manager
    agent.stop()
    db.dispose()


@pytest.fixture
def dataplane() -> TrafficDataplane:
    return TrafficDataplane()


@pytest.fixture
def network(tmp_path: Path, dataplane: NoopDataplane) -> Iterator[NetworkManager]:
    yield from cloud(tmp_path, dataplane)


def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        assert time.monotonic() < deadline, f"not within {DEADLINE_S}s: {what}"
        time.sleep(0.05)


def boot(network: NetworkManager, server_id: str) -> dict:
    (private,) = [n for n in network.networks.list(Caller(DEMO)) if n["name"] == "private"]
    requests = [{"uuid": private["id"]}]
    (port,) = network.allocate_for_server(DEMO, server_id, "demo", "host1", requests, [])
    network.plug_vifs(server_id, DEADLINE_S)
    return port


def dhcp_ports(network: NetworkManager, network_id: str) -> list[dict]:
    ports = network.ports.list(Caller(DEMO))
    return [
        p for p in ports if p["device_owner"] == "network:dhcp" and p["network_id"] == network_id
    ]


def test_plugged_ports_are_served_by_one_dhcp_port(
    network: NetworkManager, dataplane: TrafficDataplane
) -> None:
    first, second = boot(network, "server-1"), boot(network, "server-2")
    net_id = first["network_id"]
    wanted = {(p["mac_address"], p["fixed_ips"][0]["ip_address"]) for p in (first, second)}

    def served() -> set[tuple[str, str]]:
        spec = dataplane.dhcp.get(net_id)
        return {(h.mac_address, h.ip_address) for h in spec.hosts} if spec else set()

    eventually(lambda: wanted <= served(), "both servers' ports served")
    (dhcp_port,) = dhcp_ports(network, net_id)
    spec = dataplane.dhcp[net_id]
    (subnet,) = spec.subnets
    dhcp_ip = dhcp_port["fixed_ips"][0]["ip_address"]
    assert spec.server_ips == ((subnet.subnet_id, dhcp_ip),)
    # Every other port of the network is answered (the router's leg too, as in Neutron).
    assert {ip for _, ip in served() - wanted} == {subnet.gateway_ip}
    assert dhcp_ip not in {h.ip_address for h in spec.hosts}
    assert all(h.hostname == "host-" + h.ip_address.replace(".", "-") for h in spec.hosts)


def test_a_dataplane_without_traffic_gets_no_dhcp_port(tmp_path: Path) -> None:
    dataplane = NoopDataplane()
    for network in cloud(tmp_path, dataplane):
        port = boot(network, "server-1")
        assert dhcp_ports(network, port["network_id"]) == []
        assert dataplane.dhcp == {}
