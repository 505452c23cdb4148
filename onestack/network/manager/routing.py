"""Routers on the host: any change of a router, its interfaces or its floating IPs queues a
`network.router` work row; the agent's handler reads the router back whole and asks the
dataplane for exactly that (`ensure_router`, its legs' segments first, the external one with
its gateway address for the host), or `remove_router` when it is gone.

Each change queues its own row (a change made while a sync runs must not fold into it), and
syncs of one router run one at a time, each reading the database only once it holds the
router's lock: so the last sync to run has read the last change."""

from __future__ import annotations

import ipaddress
import threading
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.common.ownership import Work
from onestack.network.drivers import FloatingIp as FloatingIpSpec
from onestack.network.drivers import RouterLeg, RouterSpec, Segment
from onestack.network.manager.base import NetworkBase, NetworkDeps, stamp
from onestack.network.manager.routers import gateway_port, interface_ports
from onestack.network.models import FloatingIp, Network, Port, Router, Subnet

SYNC = "network.router"


class RouterSync(NetworkBase):
    def __init__(self, deps: NetworkDeps) -> None:
        super().__init__(deps)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def request(self, router_id: str | None) -> None:
        """Queue a sync of the router and wake the agent."""
        if not router_id:
            return
        with self.db.transaction() as session:
            self.deps.ownership.enqueue(session, SYNC, f"{router_id}/{uuid.uuid4().hex[:12]}")
        self.deps.waker.wake()

    def run_work(self, work: Work) -> None:
        """The agent's handler: the host's router becomes what the database says."""
        router_id = work.resource_id.split("/")[0]
        with self._lock(router_id):
            with self.db.reader() as session:
                found = router_spec(session, router_id)
            if found is None:
                self.deps.dataplane.remove_router(router_id)
                return
            spec, segments = found
            for segment in segments:
                self.deps.dataplane.ensure_segment(segment)
            self.deps.dataplane.ensure_router(spec)
            self._ports_active(router_id)

    def _ports_active(self, router_id: str) -> None:
        """The router's ports are ACTIVE once it exists on the host, as Neutron's L3 agent
        reports them (clients such as Tempest wait for that)."""
        with self.writing() as session:
            for port in session.scalars(select(Port).where(Port.device_id == router_id)):
                if port.status != "ACTIVE":
                    stamp(port, status="ACTIVE")

    def _lock(self, router_id: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(router_id, threading.Lock())


def router_spec(session: Session, router_id: str) -> tuple[RouterSpec, list[Segment]] | None:
    """The router as the dataplane sees it, with the segments its legs need; None if gone."""
    router = session.get(Router, router_id)
    if router is None:
        return None
    legs = [leg for port in interface_ports(session, router_id) for leg in _legs(session, port)]
    segments = [_segment(session, leg.network_id) for leg in legs]
    external, next_hop = None, None
    gateway = gateway_port(session, router_id)
    if gateway is not None and (outside := _legs(session, gateway)):
        external = outside[0]
        subnet = _subnet_of(session, gateway, external.ip)
        next_hop = subnet.gateway_ip
        host = f"{next_hop}/{ipaddress.ip_network(subnet.cidr).prefixlen}" if next_hop else None
        segments.append(_segment(session, external.network_id, host))
    spec = RouterSpec(
        router_id=router_id,
        gateway_ips=(external.ip,) if external else (),
        enable_snat=router.enable_snat,
        interfaces=tuple((leg.port_id, leg.cidr, leg.ip) for leg in legs),
        legs=tuple(legs),
        external=external,
        external_gateway=next_hop,
        floating_ips=_floating_ips(session, router_id),
    )
    return spec, segments


def _legs(session: Session, port: Port) -> list[RouterLeg]:
    """One leg per IPv4 address of the port (the driver's iptables are IPv4)."""
    legs = []
    for allocation in port.fixed_ips:
        subnet = session.get(Subnet, allocation.subnet_id)
        if subnet is not None and subnet.ip_version == 4:
            legs.append(
                RouterLeg(port.port_id, port.network_id, subnet.cidr, allocation.ip_address)
            )
    return legs


def _subnet_of(session: Session, port: Port, ip: str) -> Subnet:
    (allocation,) = [a for a in port.fixed_ips if a.ip_address == ip]
    return session.get(Subnet, allocation.subnet_id)  # type: ignore[return-value]


def _segment(session: Session, network_id: str, host_address: str | None = None) -> Segment:
    network = session.get(Network, network_id)
    assert network is not None  # a port's network outlives it
    return Segment(
        network_id=network.network_id,
        network_type=network.network_type,
        physical_network=network.physical_network,
        segmentation_id=network.segmentation_id,
        mtu=network.mtu,
        host_address=host_address,
    )


def _floating_ips(session: Session, router_id: str) -> tuple[FloatingIpSpec, ...]:
    query = select(FloatingIp).where(
        FloatingIp.router_id == router_id, FloatingIp.fixed_ip_address.is_not(None)
    )
    rows = sorted(session.scalars(query), key=lambda row: row.floating_ip_address)
    return tuple(FloatingIpSpec(r.floating_ip_address, r.fixed_ip_address or "") for r in rows)
