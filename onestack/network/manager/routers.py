"""Routers: an external gateway (a port on a `router:external` network, holding its
external_fixed_ips) and interfaces (ports holding a subnet's gateway address, device_owner
network:router_interface). A subnet is attached to a router at most once."""

from __future__ import annotations

import ipaddress
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
from onestack.network.manager.ports import (
    ROUTER_GATEWAY,
    ROUTER_INTERFACE,
    PortRecords,
    get_port,
)
from onestack.network.manager.quota import NetworkQuotas
from onestack.network.manager.subnets import get_subnet
from onestack.network.models import FloatingIp, Port, Router, Subnet


def render(session: Session, rows: list[Router]) -> list[dict[str, Any]]:
    tags = tags_of(session, [r.router_id for r in rows])
    return [views.router(r, gateway_ips(session, r.router_id), tags[r.router_id]) for r in rows]


def gateway_ips(session: Session, router_id: str) -> list[dict[str, str]]:
    port = gateway_port(session, router_id)
    if port is None:
        return []
    return [{"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in port.fixed_ips]


def gateway_port(session: Session, router_id: str) -> Port | None:
    query = select(Port).where(Port.device_id == router_id, Port.device_owner == ROUTER_GATEWAY)
    return session.scalar(query)


def interface_ports(session: Session, router_id: str) -> list[Port]:
    query = select(Port).where(Port.device_id == router_id, Port.device_owner == ROUTER_INTERFACE)
    return list(session.scalars(query))


def get_router(session: Session, caller: Caller | None, router_id: str) -> Router:
    router = session.get(Router, router_id)
    if router is None or (caller is not None and not caller.owns(router.project_id)):
        raise errors.RouterNotFound(router_id)
    return router


class RouterRecords(NetworkBase):
    def __init__(self, deps: NetworkDeps, quotas: NetworkQuotas, ports: PortRecords) -> None:
        super().__init__(deps)
        self.quotas = quotas
        self.ports = ports
        # Told each router whose host state may have changed (the manager points it at the
        # router sync).
        self.router_changed: Callable[[str], None] = lambda router_id: None

    def list(self, caller: Caller) -> list[dict[str, Any]]:
        with self.db.reader() as session:
            rows = [r for r in session.scalars(select(Router)) if caller.owns(r.project_id)]
            return render(session, rows)

    def get(self, caller: Caller | None, router_id: str) -> dict[str, Any]:
        with self.db.reader() as session:
            return render(session, [get_router(session, caller, router_id)])[0]

    def create(
        self, caller: Caller | None, body: dict[str, Any], project_id: str = ""
    ) -> dict[str, Any]:
        """A router per `body`; `caller` None is the service itself (the bootstrap)."""
        project_id = owner_for(caller, body) if caller is not None else project_id
        _refuse_unsupported(body)
        self.quotas.claim(project_id, "router")
        gateway = body.get("external_gateway_info")
        if gateway:
            self._check_external(str(gateway.get("network_id")))
        router_id = new_id()
        moment = now()
        with self.writing() as session:
            session.add(
                Router(
                    router_id=router_id,
                    project_id=project_id,
                    name=body.get("name") or "",
                    description=body.get("description") or "",
                    admin_state_up=body.get("admin_state_up", True),
                    status="ACTIVE",
                    gateway_network_id=None,
                    enable_snat=True,
                    routes=[],
                    created_at=moment,
                    updated_at=moment,
                    revision_number=1,
                )
            )
        try:
            if gateway:
                self._set_gateway(router_id, gateway)
        except Exception:
            self._remove(router_id)  # a failed create writes nothing
            raise
        self.quotas.recheck(project_id, "router", lambda: self._remove(router_id))
        created = self.get(None, router_id)
        self.notify(caller, "create", "router", created)
        self.router_changed(router_id)
        return created

    def _check_external(self, network_id: str) -> None:
        with self.db.reader() as session:
            network = get_network(session, None, network_id)
            if not network.external:
                raise errors.BadRouterRequest(f"Network {network_id} is not an external network.")

    def _set_gateway(self, router_id: str, gateway: dict[str, Any]) -> None:
        """Replace the router's gateway by one on `gateway["network_id"]`."""
        network_id = str(gateway["network_id"])
        self._check_external(network_id)
        self._clear_gateway(router_id, keep_network=network_id)
        with self.db.reader() as session:
            existing = gateway_port(session, router_id)
        if existing is None:
            body: dict[str, Any] = {
                "network_id": network_id,
                "device_id": router_id,
                "device_owner": ROUTER_GATEWAY,
            }
            if gateway.get("external_fixed_ips"):
                body["fixed_ips"] = gateway["external_fixed_ips"]
            self.ports.create(None, body, project_id="")
        with self.writing() as session:
            router = session.get(Router, router_id)
            assert router is not None
            stamp(
                router,
                gateway_network_id=network_id,
                enable_snat=gateway.get("enable_snat", True) is not False,
            )

    def _clear_gateway(self, router_id: str, keep_network: str | None = None) -> None:
        with self.db.reader() as session:
            port = gateway_port(session, router_id)
            router = session.get(Router, router_id)
            if port is None or port.network_id == keep_network:
                return
            in_use = session.scalar(
                select(FloatingIp.floating_ip_id).where(FloatingIp.router_id == router_id)
            )
            if in_use is not None and router is not None:
                raise errors.RouterExternalGatewayInUseByFloatingIp(
                    router_id, str(router.gateway_network_id)
                )
        self.ports.delete(None, port.port_id, by_service=True)
        with self.writing() as session:
            router = session.get(Router, router_id)
            if router is not None:
                stamp(router, gateway_network_id=None)

    def update(self, caller: Caller, router_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        if changes.get("routes"):
            raise errors.InvalidInput("Static routes (the extraroute extension) are not supported.")
        _refuse_unsupported(changes)
        with self.writing() as session:
            row = get_router(session, caller, router_id)
            simple = ("name", "description", "admin_state_up")
            stamp(row, **{k: changes[k] for k in simple if k in changes and changes[k] is not None})
        if "external_gateway_info" in changes:
            gateway = changes["external_gateway_info"]
            if gateway and gateway.get("network_id"):
                self._set_gateway(router_id, gateway)
            else:
                self._clear_gateway(router_id)
        updated = self.get(caller, router_id)
        self.notify(caller, "update", "router", updated)
        self.router_changed(router_id)
        return updated

    def delete(self, caller: Caller, router_id: str) -> None:
        body = self.get(caller, router_id)
        with self.db.reader() as session:
            if interface_ports(session, router_id):
                raise errors.RouterInUse(router_id)
        self._clear_gateway(router_id)
        self._remove(router_id)
        self.notify(caller, "delete", "router", body)
        self.router_changed(router_id)

    def _remove(self, router_id: str) -> None:
        with self.db.reader() as session:
            port = gateway_port(session, router_id)
        if port is not None:
            self.ports.delete(None, port.port_id, by_service=True)
        with self.writing() as session:
            row = session.get(Router, router_id)
            if row is not None:
                drop_tags(session, router_id)
                session.delete(row)

    # -- interfaces ----------------------------------------------------------------------

    def add_interface(self, caller: Caller, router_id: str, body: dict[str, Any]) -> dict[str, Any]:
        subnet_id, port_id = body.get("subnet_id"), body.get("port_id")
        if bool(subnet_id) == bool(port_id):
            raise errors.BadRouterRequest("Either subnet_id or port_id must be specified.")
        with self.db.reader() as session:
            router = get_router(session, caller, router_id)
            project_id = router.project_id
            if subnet_id:
                subnet = self._attachable_subnet(session, caller, router_id, str(subnet_id))
                if not subnet.gateway_ip:
                    raise errors.BadRouterRequest(f"Subnet {subnet_id} does not have a gateway IP.")
                network_id, gateway = subnet.network_id, subnet.gateway_ip
            else:
                port = self._attachable_port(session, caller, router_id, str(port_id))
        if subnet_id:
            made = self.ports.create(
                None,
                {
                    "network_id": network_id,
                    "fixed_ips": [{"subnet_id": subnet_id, "ip_address": gateway}],
                    "device_id": router_id,
                    "device_owner": ROUTER_INTERFACE,
                },
                project_id=project_id,
            )
        else:
            changes = {"device_id": router_id, "device_owner": ROUTER_INTERFACE}
            made = self.ports.update(None, port.port_id, changes)
        info = _interface_info(router_id, project_id, made)
        self.notifier.info("router.interface.create", {"router_interface": info})
        self.router_changed(router_id)
        return info

    def _attachable_subnet(
        self, session: Session, caller: Caller, router_id: str, subnet_id: str
    ) -> Subnet:
        subnet = get_subnet(session, caller, subnet_id)
        self._not_attached(session, router_id, subnet)
        return subnet

    def _not_attached(self, session: Session, router_id: str, subnet: Subnet) -> None:
        cidr = ipaddress.ip_network(subnet.cidr)
        for port in interface_ports(session, router_id):
            for allocation in port.fixed_ips:
                if allocation.subnet_id == subnet.subnet_id:
                    raise errors.RouterInterfaceExists(router_id, subnet.subnet_id)
                other = session.get(Subnet, allocation.subnet_id)
                if other is not None and ipaddress.ip_network(other.cidr).overlaps(cidr):
                    raise errors.BadRouterRequest(
                        f"Cidr {subnet.cidr} of subnet {subnet.subnet_id} overlaps with cidr "
                        f"{other.cidr} of subnet {other.subnet_id}."
                    )

    def _attachable_port(
        self, session: Session, caller: Caller, router_id: str, port_id: str
    ) -> Port:
        port = get_port(session, caller, port_id)
        if port.device_id or port.device_owner:
            raise errors.PortInUse(port.network_id, port_id, port.device_id or port.device_owner)
        if len(port.fixed_ips) != 1:
            raise errors.BadRouterRequest(
                f"Router port {port_id} must have exactly one fixed IP to be an interface."
            )
        subnet = session.get(Subnet, port.fixed_ips[0].subnet_id)
        assert subnet is not None
        self._not_attached(session, router_id, subnet)
        return port

    def remove_interface(
        self, caller: Caller, router_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        subnet_id, port_id = body.get("subnet_id"), body.get("port_id")
        if not subnet_id and not port_id:
            raise errors.BadRouterRequest("Either subnet_id or port_id must be specified.")
        with self.db.reader() as session:
            router = get_router(session, caller, router_id)
            found = self._interface(session, router_id, subnet_id, port_id)
            info = _interface_info(router_id, router.project_id, views.port(found, []))
            self._refuse_if_floating_ips_need(session, router_id, found)
        self.ports.delete(None, found.port_id, by_service=True)
        self.notifier.info("router.interface.delete", {"router_interface": info})
        self.router_changed(router_id)
        return info

    def _interface(self, session: Session, router_id: str, subnet_id: Any, port_id: Any) -> Port:
        for port in interface_ports(session, router_id):
            subnets = {a.subnet_id for a in port.fixed_ips}
            if port_id and port.port_id == port_id:
                if subnet_id and subnet_id not in subnets:
                    raise errors.SubnetMismatchForPort(port.port_id, str(subnet_id))
                return port
            if not port_id and subnet_id in subnets:
                return port
        if port_id:
            raise errors.RouterInterfaceNotFound(router_id, str(port_id))
        raise errors.RouterInterfaceNotFoundForSubnet(router_id, str(subnet_id))

    def _refuse_if_floating_ips_need(self, session: Session, router_id: str, port: Port) -> None:
        subnets = {a.subnet_id for a in port.fixed_ips}
        for fip in session.scalars(select(FloatingIp).where(FloatingIp.router_id == router_id)):
            inner = session.get(Port, fip.port_id) if fip.port_id else None
            if inner is not None and subnets & {a.subnet_id for a in inner.fixed_ips}:
                raise errors.RouterInterfaceInUseByFloatingIP(router_id, fip.floating_ip_id)


def _refuse_unsupported(body: dict[str, Any]) -> None:
    for name in ("distributed", "ha"):
        if body.get(name):
            raise errors.InvalidInput(f"Routers with {name} set are not supported.")


def _interface_info(router_id: str, project_id: str, port: dict[str, Any]) -> dict[str, Any]:
    subnet_ids = [f["subnet_id"] for f in port["fixed_ips"]]
    return {
        "id": router_id,
        "port_id": port["id"],
        "network_id": port["network_id"],
        "subnet_id": subnet_ids[0] if subnet_ids else None,
        "subnet_ids": subnet_ids,
        "project_id": project_id,
        "tenant_id": project_id,
    }
