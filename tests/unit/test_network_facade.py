"""The facade compute calls, over a real SQLite database and a real network agent on the
no-op dataplane: requests checked before anything is written, ports made (idempotently)
or bound, plugged to ACTIVE by the agent, addresses reported, and everything undone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onestack.common import migrate
from onestack.common.agent import Agent, agent_kind
from onestack.common.bus import LocalBus, Notifier
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.ownership import Ownership
from onestack.network import errors
from onestack.network.drivers.noop import NoopDataplane
from onestack.network.manager import Caller, NetworkManager
from onestack.settings import NetworkSettings

DEMO = RequestContext(
    user_id="u1", user_domain_id="default", roles=frozenset({"member"}), project_id="demo"
)
OTHER = RequestContext(
    user_id="u2", user_domain_id="default", roles=frozenset({"member"}), project_id="other"
)


@pytest.fixture
def dataplane() -> NoopDataplane:
    return NoopDataplane()


@pytest.fixture
def network(tmp_path: Path, dataplane: NoopDataplane) -> Iterator[NetworkManager]:
    url = f"sqlite:///{tmp_path / 'onestack.db'}"
    migrate.upgrade(url)
    db = Database(url)
    notifier = Notifier(LocalBus(), "network")
    manager = NetworkManager(db, NetworkSettings(), notifier, dataplane=dataplane)
    agent = Agent(
        "network", Ownership(db, agent_kind("network")), manager.agent_handlers(), poll_s=0.05
    )
    agent.start()
    manager.set_waker(agent.wake)
    yield manager
    agent.stop()
    db.dispose()


@pytest.fixture
def private(network: NetworkManager) -> dict[str, Any]:
    net = network.networks.create(Caller(DEMO), {"name": "private"})
    body = {"network_id": net["id"], "cidr": "10.0.0.0/26", "ip_version": 4}
    network.subnets.create(Caller(DEMO), body)
    return net


def test_a_server_gets_ports_plugged_and_addresses(
    network: NetworkManager, private: dict[str, Any], dataplane: NoopDataplane
) -> None:
    requests = [{"uuid": private["id"]}, {"uuid": private["id"], "fixed_ip": "10.0.0.40"}]
    network.validate_requests(DEMO, requests, "demo")
    ports = network.allocate_for_server(DEMO, "server-1", "demo", "host-a", requests, ["default"])
    assert [p["status"] for p in ports] == ["DOWN", "DOWN"]
    assert ports[1]["fixed_ips"][0]["ip_address"] == "10.0.0.40"
    assert {p["device_owner"] for p in ports} == {"compute:nova"}
    assert {p["binding:host_id"] for p in ports} == {"host-a"}
    assert set(ports[0]["binding:vif_details"]) >= {"bridge_name", "netns", "devname"}
    again = network.allocate_for_server(DEMO, "server-1", "demo", "host-a", requests, ["default"])
    assert [p["id"] for p in again] == [p["id"] for p in ports]
    plugged = network.plug_vifs("server-1", timeout_s=10)
    assert {p["status"] for p in plugged} == {"ACTIVE"}
    assert set(dataplane.plugged) == {p["id"] for p in ports}
    addresses = network.addresses_for(["server-1", "server-2"])
    assert addresses["server-2"] == {}
    (entries,) = addresses["server-1"].values()
    assert {e["addr"] for e in entries} == {"10.0.0.2", "10.0.0.40"}
    assert {e["OS-EXT-IPS:type"] for e in entries} == {"fixed"}
    network.deallocate_for_server("server-1")
    assert network.ports_of("server-1") == []
    assert network.ports.list(Caller(DEMO)) == []
    deadline = time.monotonic() + 10  # the agent unplugs what was deleted
    while dataplane.plugged and time.monotonic() < deadline:
        time.sleep(0.05)
    assert dataplane.plugged == {}


def test_a_users_port_is_bound_then_only_unbound(
    network: NetworkManager, private: dict[str, Any]
) -> None:
    mine = network.ports.create(Caller(DEMO), {"network_id": private["id"]})
    requests = [{"port": mine["id"]}]
    network.validate_requests(DEMO, requests, "demo")
    (bound,) = network.allocate_for_server(DEMO, "server-2", "demo", "host-a", requests, [])
    assert (bound["id"], bound["device_id"]) == (mine["id"], "server-2")
    with pytest.raises(errors.PortInUse):
        network.validate_requests(DEMO, requests, "demo")
    network.deallocate_for_server("server-2")
    kept = network.ports.get(Caller(DEMO), mine["id"])
    assert (kept["device_id"], kept["device_owner"], kept["binding:host_id"]) == ("", "", "")


def test_bad_requests_are_refused_before_anything_is_written(
    network: NetworkManager, private: dict[str, Any]
) -> None:
    network.ports.create(
        Caller(DEMO), {"network_id": private["id"], "fixed_ips": [{"ip_address": "10.0.0.9"}]}
    )
    cases = [
        ([{"uuid": "missing"}], errors.NetworkNotFound),
        ([{"port": "missing"}], errors.PortNotFound),
        ([{"uuid": private["id"], "fixed_ip": "10.0.0.9"}], errors.IpAddressAlreadyAllocated),
        ([{"uuid": private["id"], "fixed_ip": "192.168.0.9"}], errors.FixedIpNotValid),
    ]
    for requests, error in cases:
        with pytest.raises(error):
            network.validate_requests(DEMO, requests, "demo")
    with pytest.raises(errors.NetworkNotFound):  # another tenant's network is invisible
        network.validate_requests(OTHER, [{"uuid": private["id"]}], "other")
    assert len(network.ports.list(Caller(DEMO))) == 1


def test_auto_picks_the_only_network_and_refuses_two(
    network: NetworkManager, private: dict[str, Any]
) -> None:
    (port,) = network.allocate_for_server(DEMO, "server-3", "demo", "host-a", "auto", [])
    assert port["network_id"] == private["id"]
    assert network.allocate_for_server(DEMO, "server-4", "demo", "host-a", "none", []) == []
    network.networks.create(Caller(DEMO), {"name": "second"})
    with pytest.raises(errors.NetworkAmbiguous):
        network.validate_requests(DEMO, "auto", "demo")


def test_plugging_gives_up_at_its_deadline(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'onestack.db'}"
    migrate.upgrade(url)
    db = Database(url)
    lonely = NetworkManager(db, NetworkSettings(), Notifier(LocalBus(), "network"))  # no agent
    net = lonely.networks.create(Caller(DEMO), {"name": "n"})
    lonely.allocate_for_server(DEMO, "server-5", "demo", "h", [{"uuid": net["id"]}], [])
    with pytest.raises(errors.VifPlugTimeout):
        lonely.plug_vifs("server-5", timeout_s=0.3)
    db.dispose()


def test_ensure_project_defaults_makes_one_default_group(network: NetworkManager) -> None:
    network.ensure_project_defaults("demo")
    network.ensure_project_defaults("demo")
    groups = network.security_groups.list(Caller(DEMO))
    assert [g["name"] for g in groups] == ["default"]
    assert len(groups[0]["security_group_rules"]) == 4
