"""Subnets: CIDR, gateway and pools checked through `ipam`, no overlap on one network,
and no deletion while addresses are allocated from them."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.network import errors
from onestack.network.manager import ipam, views
from onestack.network.manager.base import (
    Caller,
    NetworkBase,
    drop_tags,
    get_network,
    new_id,
    now,
    owner_for,
    stamp,
    tags_of,
)
from onestack.network.manager.ports import DHCP as DHCP_OWNER
from onestack.network.manager.quota import NetworkQuotas
from onestack.network.models import IpAllocation, Network, Port, Subnet

UNSET = object()


def render(session: Session, rows: list[Subnet]) -> list[dict[str, Any]]:
    tags = tags_of(session, [s.subnet_id for s in rows])
    return [views.subnet(s, tags[s.subnet_id]) for s in rows]


def subnet_visible(session: Session, caller: Caller, subnet: Subnet) -> bool:
    if caller.owns(subnet.project_id):
        return True
    network = session.get(Network, subnet.network_id)
    return network is not None and network.shared


def get_subnet(session: Session, caller: Caller | None, subnet_id: str) -> Subnet:
    subnet = session.get(Subnet, subnet_id)
    if subnet is None or (caller is not None and not subnet_visible(session, caller, subnet)):
        raise errors.SubnetNotFound(subnet_id)
    return subnet


class SubnetRecords(NetworkBase):
    def __init__(self, deps: Any, quotas: NetworkQuotas) -> None:
        super().__init__(deps)
        self.quotas = quotas

    def list(self, caller: Caller) -> list[dict[str, Any]]:
        with self.db.reader() as session:
            # Subnets of an external network stay hidden unless it is shared, as in Neutron.
            visible = {
                n.network_id
                for n in session.scalars(select(Network))
                if caller.is_admin or n.shared or n.project_id == caller.project_id
            }
            rows = [
                s
                for s in session.scalars(select(Subnet))
                if s.network_id in visible or caller.owns(s.project_id)
            ]
            return render(session, rows)

    def get(self, caller: Caller | None, subnet_id: str) -> dict[str, Any]:
        with self.db.reader() as session:
            return render(session, [get_subnet(session, caller, subnet_id)])[0]

    def create(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        project_id = owner_for(caller, body)
        self.quotas.claim(project_id, "subnet")
        with self.writing() as session:
            network = get_network(session, caller, str(body["network_id"]))
            if not caller.owns(network.project_id):
                raise errors.PolicyNotAuthorized(
                    f"You are not allowed to add a subnet to network {network.network_id}."
                )
            row = self._new(session, network, project_id, body)
            session.add(row)
            session.flush()
            stamp(network)
            created = render(session, [row])[0]
        self.quotas.recheck(project_id, "subnet", lambda: self._undo(created["id"]))
        self.notify(caller, "create", "subnet", created)
        return created

    def _new(
        self, session: Session, network: Network, project_id: str, body: dict[str, Any]
    ) -> Subnet:
        if not body.get("cidr"):
            raise errors.InvalidInput("a cidr is required (subnet pools are not supported).")
        guessed = _version_of(body["cidr"])
        cidr = ipam.parse_cidr(str(body["cidr"]), int(body.get("ip_version") or guessed))
        gateway = self._gateway(cidr, body.get("gateway_ip", UNSET))
        pools = body.get("allocation_pools") or ipam.default_pools(cidr, gateway)
        ipam.check_pools(cidr, pools, gateway)
        others = session.execute(
            select(Subnet.subnet_id, Subnet.cidr).where(Subnet.network_id == network.network_id)
        )
        clash = ipam.overlapping(cidr, list(others))
        if clash is not None:
            raise errors.OverlappingCidr(str(cidr), *clash)
        moment = now()
        return Subnet(
            subnet_id=new_id(),
            network_id=network.network_id,
            project_id=project_id,
            name=body.get("name") or "",
            description=body.get("description") or "",
            ip_version=cidr.version,
            cidr=str(cidr),
            gateway_ip=gateway,
            enable_dhcp=body.get("enable_dhcp", True),
            allocation_pools=[{"start": p["start"], "end": p["end"]} for p in pools],
            dns_nameservers=_nameservers(body.get("dns_nameservers") or []),
            host_routes=_routes(body.get("host_routes") or [], cidr.version),
            created_at=moment,
            updated_at=moment,
            revision_number=1,
        )

    def _undo(self, subnet_id: str) -> None:
        with self.writing() as session:
            row = session.get(Subnet, subnet_id)
            if row is not None:
                session.delete(row)

    def _gateway(self, cidr: ipam.IpNetwork, asked: Any) -> str | None:
        if asked is UNSET:
            return ipam.default_gateway(cidr)
        if asked is None:
            return None
        ipam.check_gateway(cidr, asked)
        return str(ipaddress.ip_address(asked))

    def update(self, caller: Caller, subnet_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        with self.writing() as session:
            row = self._owned(session, caller, subnet_id)
            cidr = ipaddress.ip_network(row.cidr)
            values: dict[str, Any] = {
                k: changes[k] for k in ("name", "description", "enable_dhcp") if k in changes
            }
            if "gateway_ip" in changes:
                values["gateway_ip"] = self._gateway(cidr, changes["gateway_ip"])
            if "allocation_pools" in changes:
                values["allocation_pools"] = [
                    {"start": p["start"], "end": p["end"]} for p in changes["allocation_pools"]
                ]
            pools = values.get("allocation_pools", row.allocation_pools)
            ipam.check_pools(cidr, pools, values.get("gateway_ip", row.gateway_ip))
            if "dns_nameservers" in changes:
                values["dns_nameservers"] = _nameservers(changes["dns_nameservers"] or [])
            if "host_routes" in changes:
                values["host_routes"] = _routes(changes["host_routes"] or [], cidr.version)
            stamp(row, **values)
            session.flush()
            updated = render(session, [row])[0]
        self.notify(caller, "update", "subnet", updated)
        return updated

    def delete(self, caller: Caller, subnet_id: str) -> None:
        with self.writing() as session:
            row = self._owned(session, caller, subnet_id)
            body = render(session, [row])[0]
            held = select(IpAllocation.port_id).join(Port, Port.port_id == IpAllocation.port_id)
            held = held.where(IpAllocation.subnet_id == subnet_id)
            used = session.scalar(held.where(Port.device_owner != DHCP_OWNER).limit(1))
            if used is not None:
                raise errors.SubnetInUse(subnet_id)
            # The DHCP port's address goes with the subnet, as in Neutron.
            session.execute(
                IpAllocation.__table__.delete().where(IpAllocation.subnet_id == subnet_id)
            )
            network = session.get(Network, row.network_id)
            if network is not None:
                stamp(network)
            drop_tags(session, subnet_id)
            session.delete(row)
        self.notify(caller, "delete", "subnet", body)

    def _owned(self, session: Session, caller: Caller, subnet_id: str) -> Subnet:
        row = get_subnet(session, caller, subnet_id)
        if not caller.owns(row.project_id):
            raise errors.PolicyNotAuthorized(f"You are not allowed to change subnet {subnet_id}.")
        return row


def _version_of(cidr: Any) -> int:
    try:
        return ipaddress.ip_network(str(cidr), strict=False).version
    except ValueError as exc:
        raise errors.InvalidInput(f"'{cidr}' is not a valid IP subnet.") from exc


def _nameservers(servers: list[Any]) -> list[str]:
    found = [str(ipam.parse_address(s, "dns_nameservers")) for s in servers]
    if len(set(found)) != len(found):
        raise errors.InvalidInput(f"Duplicate nameserver in {servers}.")
    return found


def _routes(routes: list[Any], version: int) -> list[dict[str, str]]:
    result = []
    for route in routes:
        if not isinstance(route, dict) or set(route) != {"destination", "nexthop"}:
            raise errors.InvalidInput(f"Invalid host route {route}: destination and nexthop.")
        try:
            destination = ipaddress.ip_network(str(route["destination"]), strict=False)
        except ValueError as exc:
            raise errors.InvalidInput(f"'{route['destination']}' is not a valid CIDR.") from exc
        nexthop = ipam.parse_address(route["nexthop"], "nexthop")
        if destination.version != version or nexthop.version != version:
            raise errors.InvalidInput(f"Host route {route} is not of the subnet's IP version.")
        result.append({"destination": str(destination), "nexthop": str(nexthop)})
    return result
