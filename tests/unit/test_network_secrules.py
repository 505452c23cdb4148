"""Security group rules reach the dataplane: a plugged port carries its groups' rules (remote
groups expanded to the members' addresses), and a rule added or removed plugs it again with
the new set. Over a real SQLite database and a real network agent on the no-op dataplane."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from onestack.common import migrate
from onestack.common.agent import Agent, agent_kind
from onestack.common.bus import LocalBus, Notifier
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.ownership import Ownership
from onestack.network.drivers import SecurityRule
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
    yield manager
    agent.stop()
    db.dispose()


@pytest.fixture
def server_ports(network: NetworkManager) -> list[dict[str, Any]]:
    net = network.networks.create(Caller(DEMO), {"name": "private"})
    body = {"network_id": net["id"], "cidr": "10.0.0.0/26", "ip_version": 4}
    network.subnets.create(Caller(DEMO), body)
    requests = [{"uuid": net["id"], "fixed_ip": "10.0.0.10"}]
    ports = network.allocate_for_server(DEMO, "s1", "demo", "host-a", requests, ["default"])
    ports += network.allocate_for_server(
        DEMO, "s2", "demo", "host-a", [{"uuid": net["id"], "fixed_ip": "10.0.0.11"}], ["default"]
    )
    network.plug_vifs("s1", timeout_s=DEADLINE_S)
    network.plug_vifs("s2", timeout_s=DEADLINE_S)
    return ports


def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        assert time.monotonic() < deadline, f"not within {DEADLINE_S}s: {what}"
        time.sleep(0.05)


def test_plugged_port_carries_the_default_groups_rules_expanded(
    network: NetworkManager, server_ports: list[dict[str, Any]], dataplane: NoopDataplane
) -> None:
    rules = dataplane.plugged[server_ports[0]["id"]].security_rules

    ingress_v4 = [r for r in rules if r.direction == "ingress" and r.ethertype == "IPv4"]
    assert ingress_v4 == [SecurityRule("ingress", remote=("10.0.0.10/32", "10.0.0.11/32"))]
    assert SecurityRule("egress") in rules


def test_a_rule_added_then_removed_reaches_the_plugged_port(
    network: NetworkManager, server_ports: list[dict[str, Any]], dataplane: NoopDataplane
) -> None:
    port_id = server_ports[0]["id"]
    group_id = server_ports[0]["security_groups"][0]
    ssh = SecurityRule("ingress", "tcp", 22, 22, ("0.0.0.0/0",))

    rule = network.security_groups.create_rule(
        Caller(DEMO),
        {"security_group_id": group_id, "direction": "ingress", "protocol": "tcp",
         "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0"},
    )  # fmt: skip
    eventually(lambda: ssh in dataplane.plugged[port_id].security_rules, "the rule is plugged")

    network.security_groups.delete_rule(Caller(DEMO), rule["id"])
    eventually(lambda: ssh not in dataplane.plugged[port_id].security_rules, "and unplugged")
