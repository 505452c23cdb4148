"""The networks every cloud starts with, added when missing on every start (like identity's
bootstrap): the external flat network `public` of the admin project with `public-subnet`
(no DHCP, gateway the first host), and in the demo project `private` with `private-subnet`
10.0.0.0/26 and `router1` (gateway on public, interface on private-subnet).

A `public_cidr` that overlaps a route of the host would hide that part of the host's
network behind the cloud, so it is refused with a message before anything is made.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.network.manager.base import Caller
from onestack.network.models import Network, Port, Router, Subnet

PUBLIC = "public"
PRIVATE_CIDR = "10.0.0.0/26"
# Interfaces the cloud itself makes may route the public range (the linuxbridge dataplane puts
# the public gateway on `ostk<network>` in the host namespace).
OWN_INTERFACES = ("brq", "onestack", "ostk")


class PublicRangeOverlapsHost(SystemExit):
    pass


def check_public_range(cidr: str, routes: list[tuple[str, ipaddress.IPv4Network]]) -> None:
    """Refuse a public range overlapping a host route other than the default route."""
    public = ipaddress.ip_network(cidr)
    for interface, destination in routes:
        if destination.prefixlen == 0 or interface.startswith(OWN_INTERFACES):
            continue
        if destination.overlaps(public):
            raise PublicRangeOverlapsHost(
                f"[network] public_cidr {cidr} overlaps the host's route to {destination} on "
                f"{interface}; choose another range (ONESTACK_NETWORK__PUBLIC_CIDR)."
            )


class Bootstrap:
    """Makes what is missing through the record managers, as the cloud admin would."""

    def __init__(self, manager: Any, cidr: str) -> None:
        self.manager = manager
        self.cidr = cidr

    def run(self, admin_project_id: str, demo_project_id: str) -> None:
        admin = _service_caller(admin_project_id)
        public = self._network(admin, admin_project_id, PUBLIC, external=True)
        public_subnet = self._subnet(admin, public, "public-subnet", self._public_subnet())
        private = self._network(admin, demo_project_id, "private", external=False)
        private_subnet = self._subnet(
            admin, private, "private-subnet", {"cidr": PRIVATE_CIDR, "ip_version": 4}
        )
        router_id = self._router(admin, demo_project_id, public)
        if public_subnet and private_subnet and not self._attached(router_id, private_subnet):
            self.manager.routers.add_interface(admin, router_id, {"subnet_id": private_subnet})

    def _public_subnet(self) -> dict[str, Any]:
        network = ipaddress.ip_network(self.cidr)
        hosts = list(_first_and_last(network))
        return {
            "cidr": self.cidr,
            "ip_version": 4,
            "gateway_ip": str(hosts[0]),
            "allocation_pools": [{"start": str(hosts[0] + 1), "end": str(hosts[1])}],
            "enable_dhcp": False,
        }

    def _network(self, caller: Caller, project_id: str, name: str, external: bool) -> str:
        found = self._find(Network, project_id, name)
        if found is not None:
            return found
        body: dict[str, Any] = {"name": name, "project_id": project_id}
        if external:
            body.update(
                {
                    "router:external": True,
                    "provider:network_type": "flat",
                    "provider:physical_network": PUBLIC,
                }
            )
        return str(self.manager.networks.create(caller, body)["id"])

    def _subnet(
        self, caller: Caller, network_id: str, name: str, fields: dict[str, Any]
    ) -> str | None:
        with self.manager.networks.db.reader() as session:
            found = session.scalar(
                select(Subnet.subnet_id).where(Subnet.network_id == network_id, Subnet.name == name)
            )
        if found is not None:
            return str(found)
        body = {"network_id": network_id, "name": name, **fields}
        return str(self.manager.subnets.create(caller, body)["id"])

    def _router(self, caller: Caller, project_id: str, public_id: str) -> str:
        found = self._find(Router, project_id, "router1")
        if found is not None:
            return found
        body = {
            "name": "router1",
            "project_id": project_id,
            "external_gateway_info": {"network_id": public_id},
        }
        return str(self.manager.routers.create(caller, body)["id"])

    def _attached(self, router_id: str, subnet_id: str) -> bool:
        with self.manager.networks.db.reader() as session:
            ports = session.scalars(select(Port).where(Port.device_id == router_id))
            return any(a.subnet_id == subnet_id for p in ports for a in p.fixed_ips)

    def _find(self, table: Any, project_id: str, name: str) -> str | None:
        with self.manager.networks.db.reader() as session:
            query = select(table).where(table.project_id == project_id, table.name == name)
            row = session.scalar(query)
        if row is None:
            return None
        return str(row.network_id if table is Network else row.router_id)


def _first_and_last(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[Any, Any]:
    return network.network_address + 1, network.broadcast_address - 1


def _service_caller(project_id: str) -> Caller:
    ctx = RequestContext(
        user_id="network-bootstrap", user_domain_id="default", project_id=project_id
    )
    return Caller(ctx, is_admin=True)
