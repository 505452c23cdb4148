"""Routers reach the dataplane: the agent syncs a router whenever it, its interfaces or its
floating IPs change, asking for exactly its legs, its external leg (with the public gateway
for the host) and its floating IPs; a deleted router is removed. Over a real SQLite
database and a real network agent on the no-op dataplane, from the start-up bootstrap."""

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
from onestack.network.drivers import FloatingIp, RouterSpec
from onestack.network.drivers.noop import NoopDataplane
from onestack.network.manager import Caller, NetworkManager
from onestack.settings import NetworkSettings

DEMO = RequestContext(
    user_id="u1", user_domain_id="default", roles=frozenset({"member"}), project_id="demo"
)
DEADLINE_S = 10.0


@pytest.fixture
def dataplane() -> NoopDataplane:
    return NoopDataplane()


@pytest.fixture
def network(tmp_path: Path, dataplane: NoopDataplane) -> Iterator[NetworkManager]:
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


def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        assert time.monotonic() < deadline, f"not within {DEADLINE_S}s: {what}"
        time.sleep(0.05)


def router1(network: NetworkManager, dataplane: NoopDataplane) -> RouterSpec:
    (found,) = [r for r in network.routers.list(Caller(DEMO)) if r["name"] == "router1"]
    eventually(lambda: bool(dataplane.routers.get(found["id"], RouterSpec("")).legs), "synced")
    return dataplane.routers[found["id"]]


def test_the_bootstrap_router_is_synced_with_legs_and_gateway(
    network: NetworkManager, dataplane: NoopDataplane
) -> None:
    spec = router1(network, dataplane)

    assert [(leg.cidr, leg.ip) for leg in spec.legs] == [("10.0.0.0/26", "10.0.0.1")]
    assert spec.external is not None and spec.external.cidr == "172.24.4.0/24"
    assert spec.external_gateway == "172.24.4.1"
    assert spec.enable_snat
    public = dataplane.segments[spec.external.network_id]
    assert public.host_address == "172.24.4.1/24"
    assert dataplane.segments[spec.legs[0].network_id].host_address is None


def test_floating_ip_association_reaches_the_router(
    network: NetworkManager, dataplane: NoopDataplane
) -> None:
    spec = router1(network, dataplane)
    port = network.ports.create(Caller(DEMO), {"network_id": spec.legs[0].network_id})
    fixed = port["fixed_ips"][0]["ip_address"]
    fip = network.floating_ips.create(
        Caller(DEMO), {"floating_network_id": spec.external.network_id, "port_id": port["id"]}
    )
    wanted = FloatingIp(fip["floating_ip_address"], fixed)
    eventually(lambda: dataplane.routers[spec.router_id].floating_ips == (wanted,), "associated")

    network.floating_ips.update(Caller(DEMO), fip["id"], {"port_id": None})

    eventually(lambda: dataplane.routers[spec.router_id].floating_ips == (), "disassociated")


def test_a_deleted_router_is_removed_from_the_host(
    network: NetworkManager, dataplane: NoopDataplane
) -> None:
    spec = router1(network, dataplane)
    subnet_id = network.ports.get(Caller(DEMO), spec.legs[0].port_id)["fixed_ips"][0]["subnet_id"]
    network.routers.remove_interface(Caller(DEMO), spec.router_id, {"subnet_id": subnet_id})
    eventually(lambda: dataplane.routers[spec.router_id].legs == (), "interface removed")

    network.routers.delete(Caller(DEMO), spec.router_id)

    eventually(lambda: spec.router_id not in dataplane.routers, "router removed")
