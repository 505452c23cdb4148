"""Plugging ports: the network agent's work. `request()` queues one `network.plug` work row
per port (in the database, so a lost wake costs only the agent's poll) and wakes the agent;
the agent's handler wires the port through the dataplane driver and marks it ACTIVE. Deleting
a bound port queues `network.unplug` in its transaction; its handler removes the device.
"""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onestack.common.ownership import Work
from onestack.network.drivers import RouterSpec, Segment, Vif
from onestack.network.manager import views
from onestack.network.manager.base import NetworkBase, stamp, tags_of
from onestack.network.models import Network, Port, Router, Subnet

PLUG = "network.plug"
UNPLUG = "network.unplug"
ROUTER = "network.router"
ROUTER_OWNERS = ("network:router_interface", "network:router_gateway")
POLL_S = 0.05


class Plugging(NetworkBase):
    def request(self, port_ids: list[str]) -> None:
        """Queue the plugging of each port (already queued ones stay queued) and wake."""
        for port_id in port_ids:
            self._enqueue(PLUG, port_id)
        self.deps.waker.wake()

    def request_router(self, router_id: str) -> None:
        """Queue making the router on the host what its records say (or removing it)."""
        self._enqueue(ROUTER, router_id)
        self.deps.waker.wake()

    def _enqueue(self, kind: str, resource_id: str) -> None:
        try:
            with self.db.transaction() as session:
                self.deps.ownership.enqueue(session, kind, resource_id)
        except IntegrityError:  # queued already: the one run reads the records then
            pass

    def wait_active(self, port_ids: list[str], timeout_s: float) -> bool:
        """Whether every port is ACTIVE before the deadline (polled, never slept through)."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self.db.reader() as session:
                statuses = set(
                    session.scalars(select(Port.status).where(Port.port_id.in_(port_ids)))
                )
            if statuses <= {"ACTIVE"}:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_S)

    def run_router(self, work: Work) -> None:
        """The agent's handler for a router: ensure it as recorded (its ports then ACTIVE),
        or remove it when its record is gone."""
        router_id = work.resource_id
        with self.db.reader() as session:
            router = session.get(Router, router_id)
            ports = list(
                session.scalars(
                    select(Port).where(
                        Port.device_id == router_id, Port.device_owner.in_(ROUTER_OWNERS)
                    )
                )
            )
            spec = _router_spec(session, router, ports) if router is not None else None
        if spec is None:
            self.deps.dataplane.remove_router(router_id)
            return
        self.deps.dataplane.ensure_router(spec)
        with self.writing() as session:
            for port in session.scalars(select(Port).where(Port.device_id == router_id)):
                if port.status != "ACTIVE":
                    stamp(port, status="ACTIVE")

    def run_unplug(self, work: Work) -> None:
        """The agent's handler for a deleted port: its device goes (idempotent)."""
        self.deps.dataplane.unplug(work.resource_id)

    def run_work(self, work: Work) -> None:
        """The agent's handler: plug the port if it still exists, then mark it ACTIVE."""
        with self.db.reader() as session:
            port = session.get(Port, work.resource_id)
            if port is None:
                return
            network = session.get(Network, port.network_id)
            vif = _vif(port, network)  # type: ignore[arg-type]
        self.deps.dataplane.plug(vif)
        with self.writing() as session:
            port = session.get(Port, work.resource_id)
            if port is None:
                return
            stamp(port, status="ACTIVE")
            session.flush()
            body = views.port(port, tags_of(session, [port.port_id])[port.port_id])
        self.notify(None, "update", "port", body)


def _router_spec(session: Session, router: Router, ports: list[Port]) -> RouterSpec:
    gateway = [
        a.ip_address for p in ports if p.device_owner.endswith("gateway") for a in p.fixed_ips
    ]
    interfaces = []
    for port in ports:
        if port.device_owner.endswith("interface"):
            for allocation in port.fixed_ips:
                subnet = session.get(Subnet, allocation.subnet_id)
                cidr = subnet.cidr if subnet is not None else ""
                interfaces.append((port.port_id, cidr, allocation.ip_address))
    return RouterSpec(router.router_id, tuple(gateway), router.enable_snat, tuple(interfaces))


def _vif(port: Port, network: Network) -> Vif:
    details = port.vif_details or {}
    segment = Segment(
        network_id=network.network_id,
        network_type=network.network_type,
        physical_network=network.physical_network,
        segmentation_id=network.segmentation_id,
        mtu=network.mtu,
    )
    return Vif(
        port_id=port.port_id,
        segment=segment,
        mac_address=port.mac_address,
        fixed_ips=tuple((a.subnet_id, a.ip_address) for a in port.fixed_ips),
        device_owner=port.device_owner,
        devname=details.get("devname", f"tap{port.port_id[:11]}"),
        bridge_name=details.get("bridge_name", f"brq{network.network_id[:11]}"),
        security_group_ids=tuple(g.group_id for g in port.security_groups),
        port_security_enabled=port.port_security_enabled,
    )
