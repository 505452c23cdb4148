"""Plugging ports: the network agent's work. `request()` queues one `network.plug` work row
per port (in the database, so a lost wake costs only the agent's poll) and wakes the agent;
the agent's handler wires the port through the dataplane driver and marks it ACTIVE. Deleting
a bound port queues `network.unplug` in its transaction; its handler removes the device.
A change of security group rules queues `network.replug` for each plugged port it reaches
(`replug_groups`); plugs of one port run one at a time, reading the port under its lock. After
a plug, the port's network's DHCP server is synced (`dhcp_changed`, set by the facade).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from onestack.common.ownership import Work
from onestack.network.drivers import SecurityRule, Segment, Vif
from onestack.network.manager import secrules, views
from onestack.network.manager.base import NetworkBase, NetworkDeps, stamp, tags_of
from onestack.network.models import Network, Port

PLUG = "network.plug"
UNPLUG = "network.unplug"
REPLUG = "network.replug"
POLL_S = 0.05


class Plugging(NetworkBase):
    def __init__(self, deps: NetworkDeps) -> None:
        super().__init__(deps)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        # Called with a network's id after one of its ports was plugged.
        self.dhcp_changed: Callable[[str], None] = lambda network_id: None

    def request(self, port_ids: list[str]) -> None:
        """Queue the plugging of each port (already queued ones stay queued) and wake."""
        for port_id in port_ids:
            try:
                with self.db.transaction() as session:
                    self.deps.ownership.enqueue(session, PLUG, port_id)
            except IntegrityError:  # queued already: one plug is enough
                pass
        self.deps.waker.wake()

    def replug_groups(self, group_ids: list[str]) -> None:
        """Rules changed: plug again every plugged port they reach, with the new rules."""
        with self.db.reader() as session:
            port_ids = secrules.plugged_ports_of(session, group_ids)
        # A work row of its own per change: a plug already under way may have read the old
        # rules, so this one must not fold into it.
        for port_id in port_ids:
            with self.db.transaction() as session:
                self.deps.ownership.enqueue(session, REPLUG, f"{port_id}/{uuid.uuid4().hex[:12]}")
        if port_ids:
            self.deps.waker.wake()

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

    def run_unplug(self, work: Work) -> None:
        """The agent's handler for a deleted port: its device goes (idempotent)."""
        self.deps.dataplane.unplug(work.resource_id)

    def run_work(self, work: Work) -> None:
        """The agent's handler: plug the port if it still exists, give its network's DHCP
        server its address, then mark it ACTIVE (a guest asking at once is answered)."""
        network_id = self._plug(work.resource_id)
        if network_id is not None:
            self.dhcp_changed(network_id)
            self._mark_active(work.resource_id)

    def run_replug(self, work: Work) -> None:
        """The agent's handler for changed rules: plug the port again with what is now."""
        self._plug(work.resource_id.split("/")[0])

    def _plug(self, port_id: str) -> str | None:
        """Plug with the port's state read under its lock (so the last plug to run has read
        the last change); its network's id, None when the port is gone."""
        with self._lock(port_id):
            with self.db.reader() as session:
                port = session.get(Port, port_id)
                if port is None:
                    return None
                network = session.get(Network, port.network_id)
                rules = secrules.rules_for(session, port)
                vif = _vif(port, network, rules)  # type: ignore[arg-type]
            self.deps.dataplane.plug(vif)
        return vif.segment.network_id

    def _lock(self, port_id: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(port_id, threading.Lock())

    def _mark_active(self, port_id: str) -> None:
        with self.writing() as session:
            port = session.get(Port, port_id)
            if port is None:
                return
            stamp(port, status="ACTIVE")
            session.flush()
            body = views.port(port, tags_of(session, [port.port_id])[port.port_id])
        self.notify(None, "update", "port", body)


def _vif(port: Port, network: Network, rules: tuple[SecurityRule, ...]) -> Vif:
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
        security_rules=rules,
    )
