"""Floating IPs: an address of a `router:external` network (held by a port of its own,
device_owner network:floatingip, so IPAM's index covers it), associated with a port whose
subnet reaches that network through a router with its gateway there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.network import errors
from onestack.network.manager import views
from onestack.network.manager.base import (
    Caller,
    NetworkBase,
    NetworkDeps,
    drop_tags,
    get_network,
    new_id,
    now,
    owner_for,
    stamp,
    tags_of,
)
from onestack.network.manager.ports import FLOATING_IP, ROUTER_INTERFACE, PortRecords, get_port
from onestack.network.manager.quota import NetworkQuotas
from onestack.network.models import FloatingIp, Port, Router


def render(session: Session, rows: list[FloatingIp]) -> list[dict[str, Any]]:
    tags = tags_of(session, [f.floating_ip_id for f in rows])
    return [views.floating_ip(f, _details(session, f), tags[f.floating_ip_id]) for f in rows]


def _details(session: Session, fip: FloatingIp) -> dict[str, Any] | None:
    port = session.get(Port, fip.port_id) if fip.port_id else None
    if port is None:
        return None
    return {
        "name": port.name,
        "network_id": port.network_id,
        "mac_address": port.mac_address,
        "admin_state_up": port.admin_state_up,
        "status": port.status,
        "device_id": port.device_id,
        "device_owner": port.device_owner,
    }


def get_floating_ip(session: Session, caller: Caller | None, fip_id: str) -> FloatingIp:
    fip = session.get(FloatingIp, fip_id)
    if fip is None or (caller is not None and not caller.owns(fip.project_id)):
        raise errors.FloatingIPNotFound(fip_id)
    return fip


class FloatingIpRecords(NetworkBase):
    def __init__(self, deps: NetworkDeps, quotas: NetworkQuotas, ports: PortRecords) -> None:
        super().__init__(deps)
        self.quotas = quotas
        self.ports = ports
        # Told each router whose floating IPs changed (the manager points it at the sync).
        self.router_changed: Callable[[str | None], None] = lambda router_id: None

    def list(self, caller: Caller) -> list[dict[str, Any]]:
        with self.db.reader() as session:
            rows = [f for f in session.scalars(select(FloatingIp)) if caller.owns(f.project_id)]
            return render(session, rows)

    def get(self, caller: Caller | None, fip_id: str) -> dict[str, Any]:
        with self.db.reader() as session:
            return render(session, [get_floating_ip(session, caller, fip_id)])[0]

    def create(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        project_id = owner_for(caller, body)
        network_id = str(body["floating_network_id"])
        with self.db.reader() as session:
            network = get_network(session, caller, network_id)
            if not network.external:
                raise errors.BadFloatingIpRequest(
                    f"Network {network_id} is not a valid external network."
                )
            if body.get("port_id"):
                self._association(session, caller, project_id, network_id, body)
        self.quotas.claim(project_id, "floatingip")
        fip_id = new_id()
        port = self.ports.create(None, self._port_body(fip_id, network_id, body), project_id="")
        try:
            with self.writing() as session:
                moment = now()
                row = FloatingIp(
                    floating_ip_id=fip_id,
                    project_id=project_id,
                    name="",
                    description=body.get("description") or "",
                    floating_network_id=network_id,
                    floating_port_id=port["id"],
                    floating_ip_address=port["fixed_ips"][0]["ip_address"],
                    status="DOWN",
                    created_at=moment,
                    updated_at=moment,
                    revision_number=1,
                )
                session.add(row)
                session.flush()
                if body.get("port_id"):
                    self._associate(session, caller, row, body)
        except Exception:
            self.ports.delete(None, port["id"], by_service=True)  # a failed create keeps nothing
            raise
        self.quotas.recheck(project_id, "floatingip", lambda: self._remove(fip_id))
        created = self.get(None, fip_id)
        self.notify(caller, "create", "floatingip", created)
        self.router_changed(created.get("router_id"))
        return created

    def _port_body(self, fip_id: str, network_id: str, body: dict[str, Any]) -> dict[str, Any]:
        fixed: dict[str, Any] = {}
        if body.get("subnet_id"):
            fixed["subnet_id"] = body["subnet_id"]
        if body.get("floating_ip_address"):
            fixed["ip_address"] = body["floating_ip_address"]
        port: dict[str, Any] = {
            "network_id": network_id,
            "device_id": fip_id,
            "device_owner": FLOATING_IP,
        }
        if fixed:
            port["fixed_ips"] = [fixed]
        return port

    def update(self, caller: Caller, fip_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        with self.writing() as session:
            row = get_floating_ip(session, caller, fip_id)
            before = row.router_id
            if "description" in changes:
                stamp(row, description=changes["description"] or "")
            if "port_id" in changes:
                if changes["port_id"]:
                    self._associate(session, caller, row, changes)
                else:
                    stamp(row, port_id=None, fixed_ip_address=None, router_id=None, status="DOWN")
        updated = self.get(None, fip_id)
        self.notify(caller, "update", "floatingip", updated)
        for router_id in {before, updated.get("router_id")}:
            self.router_changed(router_id)
        return updated

    def _associate(
        self, session: Session, caller: Caller | None, row: FloatingIp, body: dict[str, Any]
    ) -> None:
        fixed, router_id = self._association(
            session, caller, row.project_id, row.floating_network_id, body
        )
        port_id = str(body["port_id"])
        taken = session.scalar(
            select(FloatingIp).where(
                FloatingIp.port_id == port_id, FloatingIp.floating_ip_id != row.floating_ip_id
            )
        )
        if taken is not None:
            raise errors.FloatingIPPortAlreadyAssociated(port_id, taken.floating_ip_address)
        stamp(row, port_id=port_id, fixed_ip_address=fixed, router_id=router_id, status="ACTIVE")
        session.flush()

    def _association(
        self,
        session: Session,
        caller: Caller | None,
        project_id: str,
        network_id: str,
        body: dict[str, Any],
    ) -> tuple[str, str]:
        """The fixed address and router an association would use; the errors Neutron gives."""
        port = get_port(session, caller, str(body["port_id"]))
        if port.project_id != project_id:
            raise errors.PortNotFound(port.port_id)
        fixed = _fixed_address(port, body.get("fixed_ip_address"))
        subnet_id = next(a.subnet_id for a in port.fixed_ips if a.ip_address == fixed)
        router_id = _router_between(session, subnet_id, network_id)
        if router_id is None:
            raise errors.ExternalGatewayForFloatingIPNotFound(subnet_id, network_id, port.port_id)
        return fixed, router_id

    def _remove(self, fip_id: str) -> None:
        with self.writing() as session:
            row = session.get(FloatingIp, fip_id)
            if row is None:
                return
            port_id = row.floating_port_id
            session.delete(row)
        self.ports.delete(None, port_id, by_service=True, quiet=True)

    def delete(self, caller: Caller, fip_id: str) -> None:
        with self.writing() as session:
            row = get_floating_ip(session, caller, fip_id)
            body = render(session, [row])[0]
            port_id = row.floating_port_id
            drop_tags(session, fip_id)
            session.delete(row)
        self.ports.delete(None, port_id, by_service=True)
        self.notify(caller, "delete", "floatingip", body)
        self.router_changed(body.get("router_id"))


def _fixed_address(port: Port, asked: Any) -> str:
    v4 = [a.ip_address for a in port.fixed_ips if ":" not in a.ip_address]
    if asked is not None:
        if asked not in [a.ip_address for a in port.fixed_ips]:
            raise errors.BadFloatingIpRequest(
                f"Port {port.port_id} does not have fixed ip {asked}."
            )
        return str(asked)
    if not v4:
        raise errors.BadFloatingIpRequest(
            f"No IPv4 address found on port {port.port_id} to associate with a floating IP."
        )
    if len(v4) > 1:
        raise errors.BadFloatingIpRequest(
            f"Port {port.port_id} has multiple fixed IPv4 addresses. Must provide a specific "
            "IPv4 address when assigning a floating IP."
        )
    return v4[0]


def _router_between(session: Session, subnet_id: str, external_network_id: str) -> str | None:
    """A router with an interface on the subnet and its gateway on the external network."""
    interfaces = session.scalars(select(Port).where(Port.device_owner == ROUTER_INTERFACE))
    for port in interfaces:
        if subnet_id in {a.subnet_id for a in port.fixed_ips}:
            router = session.get(Router, port.device_id)
            if router is not None and router.gateway_network_id == external_network_id:
                return router.router_id
    return None
