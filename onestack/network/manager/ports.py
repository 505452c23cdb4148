"""Ports: MAC and fixed-IP allocation, security groups, binding and deletion rules.

Allocation proposes addresses from `ipam` and lets the unique index on (subnet, address)
decide: a create that loses to a concurrent one on that index (or on the MAC index) is
retried as a whole with fresh picks (`base.retrying`), so no address is ever handed out twice.
"""

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
    NetworkDeps,
    Race,
    drop_tags,
    get_network,
    new_id,
    now,
    owner_for,
    retrying,
    stamp,
    tags_of,
)
from onestack.network.manager.plugging import UNPLUG
from onestack.network.manager.quota import NetworkQuotas
from onestack.network.manager.security_groups import SecurityGroupRecords, get_group
from onestack.network.models import (
    FloatingIp,
    IpAllocation,
    Network,
    Port,
    PortSecurityGroup,
    Subnet,
)

ROUTER_INTERFACE = "network:router_interface"
ROUTER_GATEWAY = "network:router_gateway"
FLOATING_IP = "network:floatingip"
DHCP = "network:dhcp"
# Ports the API may not delete directly: their router or floating IP owns them.
SERVICE_OWNERS = (ROUTER_INTERFACE, ROUTER_GATEWAY, FLOATING_IP)
DATAPLANE_NETNS = "onestack-dataplane"
ATTEMPTS = 8


def render(session: Session, rows: list[Port]) -> list[dict[str, Any]]:
    tags = tags_of(session, [p.port_id for p in rows])
    return [views.port(p, tags[p.port_id]) for p in rows]


def port_visible(session: Session, caller: Caller, port: Port) -> bool:
    """Owners see their ports, network owners every port on their network."""
    if caller.owns(port.project_id):
        return True
    network = session.get(Network, port.network_id)
    return network is not None and caller.owns(network.project_id)


def get_port(session: Session, caller: Caller | None, port_id: str) -> Port:
    port = session.get(Port, port_id)
    if port is None or (caller is not None and not port_visible(session, caller, port)):
        raise errors.PortNotFound(port_id)
    return port


def vif_details(network_id: str, port_id: str) -> dict[str, Any]:
    """What the compute driver needs to attach a guest (device names as Linux bridge names
    them, so the next slice's linuxbridge dataplane keeps them)."""
    return {
        "bridge_name": f"brq{network_id[:11]}",
        "devname": f"tap{port_id[:11]}",
        "netns": DATAPLANE_NETNS,
        "port_filter": True,
        "connectivity": "l2",
    }


class PortRecords(NetworkBase):
    def __init__(
        self, deps: NetworkDeps, quotas: NetworkQuotas, groups: SecurityGroupRecords
    ) -> None:
        super().__init__(deps)
        self.quotas = quotas
        self.groups = groups

    def list(self, caller: Caller) -> list[dict[str, Any]]:
        with self.db.reader() as session:
            rows = [p for p in session.scalars(select(Port)) if port_visible(session, caller, p)]
            return render(session, rows)

    def get(self, caller: Caller | None, port_id: str) -> dict[str, Any]:
        with self.db.reader() as session:
            return render(session, [get_port(session, caller, port_id)])[0]

    def create(
        self, caller: Caller | None, body: dict[str, Any], project_id: str | None = None
    ) -> dict[str, Any]:
        """A port per `body` (Neutron's port attributes); `caller` None is the service itself
        (the compute facade, the routers), which names the project."""
        project_id = owner_for(caller, body) if caller is not None else str(project_id)
        _refuse_service_owner(caller, body)
        self.quotas.claim(project_id, "port")
        groups = self._groups_asked(body, project_id)
        port_id = new_id()

        def write() -> dict[str, Any]:
            with self.writing(Race()) as session:
                network = get_network(session, caller, str(body["network_id"]))
                row = self._new(session, port_id, network, project_id, body)
                session.add(row)
                session.flush()
                self._allocate(session, row, network, body.get("fixed_ips"))
                self._set_groups(session, caller, row, groups)
                session.flush()
                session.refresh(row)
                return render(session, [row])[0]

        created = retrying(ATTEMPTS, write)
        self.quotas.recheck(
            project_id, "port", lambda: self.delete(None, port_id, by_service=True, quiet=True)
        )
        self.notify(caller, "create", "port", created)
        return created

    def _groups_asked(self, body: dict[str, Any], project_id: str) -> list[str]:
        asked = body.get("security_groups")
        secured = body.get("port_security_enabled", True)
        if str(body.get("device_owner") or "").startswith("network:"):
            return list(asked or [])
        if asked is None:
            return [self.groups.ensure_default(project_id)] if secured else []
        if asked and not secured:
            raise errors.PortSecurityAndIPRequiredForSecurityGroups()
        return list(asked)

    def _new(
        self,
        session: Session,
        port_id: str,
        network: Network,
        project_id: str,
        body: dict[str, Any],
    ) -> Port:
        mac = body.get("mac_address") or ipam.random_mac()
        if not ipam.valid_mac(mac):
            raise errors.InvalidInput(f"'{mac}' is not a valid MAC address.")
        mac = mac.lower()
        if body.get("mac_address") and _mac_taken(session, network.network_id, mac):
            raise errors.MacAddressInUse(network.network_id, mac)
        host = body.get("binding:host_id") or ""
        moment = now()
        return Port(
            port_id=port_id,
            network_id=network.network_id,
            project_id=project_id,
            name=body.get("name") or "",
            description=body.get("description") or "",
            mac_address=mac,
            admin_state_up=body.get("admin_state_up", True),
            status="DOWN",
            device_id=body.get("device_id") or "",
            device_owner=body.get("device_owner") or "",
            host_id=host,
            vif_type="bridge" if host else "unbound",
            vif_details=vif_details(network.network_id, port_id) if host else {},
            port_security_enabled=body.get("port_security_enabled", True),
            allowed_address_pairs=_pairs(body.get("allowed_address_pairs") or [], mac),
            created_for=body.get("_created_for", ""),
            created_at=moment,
            updated_at=moment,
            revision_number=1,
        )

    def _allocate(
        self, session: Session, port: Port, network: Network, asked: list[dict[str, Any]] | None
    ) -> None:
        """Give the port its addresses; one from the first subnet with room when none asked."""
        subnets = list(
            session.scalars(
                select(Subnet)
                .where(Subnet.network_id == network.network_id)
                .order_by(Subnet.ip_version, Subnet.created_at)
            )
        )
        if asked is None:
            for subnet in subnets:
                address = self._free_address(session, subnet)
                if address is not None:
                    session.add(_allocation(port, subnet, address))
                    return
            if subnets:
                raise errors.IpAddressGenerationFailure(network.network_id)
            return
        for request in asked:
            subnet, address = self._resolve(session, subnets, port, request)
            session.add(_allocation(port, subnet, address))
            session.flush()

    def _resolve(
        self, session: Session, subnets: list[Subnet], port: Port, request: dict[str, Any]
    ) -> tuple[Subnet, str]:
        subnet_id, text = request.get("subnet_id"), request.get("ip_address")
        if subnet_id is None and text is None:
            raise errors.InvalidInput("A fixed_ips entry needs a subnet_id or an ip_address.")
        address = ipam.parse_address(text) if text is not None else None
        subnet = _subnet_for(subnets, subnet_id, address, port.network_id)
        if address is None:
            found = self._free_address(session, subnet)
            if found is None:
                raise errors.IpAddressGenerationFailure(port.network_id)
            return subnet, found
        _check_fixed(subnet, address, port.device_owner)
        if _taken(session, subnet.subnet_id, str(address)):
            raise errors.IpAddressAlreadyAllocated(str(address), subnet.subnet_id)
        return subnet, str(address)

    def _free_address(self, session: Session, subnet: Subnet) -> str | None:
        taken = set(
            session.scalars(
                select(IpAllocation.ip_address).where(IpAllocation.subnet_id == subnet.subnet_id)
            )
        )
        if subnet.gateway_ip:
            taken.add(subnet.gateway_ip)
        for address in ipam.candidates(subnet.allocation_pools, taken, limit=1):
            return address
        return None

    def _set_groups(
        self, session: Session, caller: Caller | None, port: Port, group_ids: list[str]
    ) -> None:
        port.security_groups.clear()
        session.flush()
        for group_id in dict.fromkeys(group_ids):
            group = get_group(session, caller, group_id)
            if group.project_id != port.project_id:
                raise errors.SecurityGroupNotFound(group_id)
            port.security_groups.append(PortSecurityGroup(port_id=port.port_id, group_id=group_id))

    def update(
        self, caller: Caller | None, port_id: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        _refuse_service_owner(caller, changes)

        def write() -> dict[str, Any]:
            with self.writing(Race()) as session:
                row = get_port(session, caller, port_id)
                self._change(session, caller, row, changes)
                session.flush()
                session.refresh(row)
                return render(session, [row])[0]

        updated = retrying(ATTEMPTS, write)
        self.notify(caller, "update", "port", updated)
        return updated

    def _change(
        self, session: Session, caller: Caller | None, row: Port, changes: dict[str, Any]
    ) -> None:
        simple = ("name", "description", "admin_state_up", "device_id", "device_owner")
        values = {
            k: changes[k] or ("" if k != "admin_state_up" else False)
            for k in simple
            if k in changes
        }
        if "admin_state_up" in changes:
            values["admin_state_up"] = bool(changes["admin_state_up"])
        if "binding:host_id" in changes:
            host = changes["binding:host_id"] or ""
            values.update(host_id=host, vif_type="bridge" if host else "unbound")
            values["vif_details"] = vif_details(row.network_id, row.port_id) if host else {}
        if "mac_address" in changes:
            raise errors.InvalidInput("Cannot update read-only attribute mac_address.")
        if "allowed_address_pairs" in changes:
            values["allowed_address_pairs"] = _pairs(
                changes["allowed_address_pairs"] or [], row.mac_address
            )
        secured = changes.get("port_security_enabled", row.port_security_enabled)
        values["port_security_enabled"] = secured
        if "security_groups" in changes:
            groups = list(changes["security_groups"] or [])
            if groups and not secured:
                raise errors.PortSecurityAndIPRequiredForSecurityGroups()
            self._set_groups(session, caller, row, groups)
        elif not secured and row.security_groups:
            raise errors.PortSecurityAndIPRequiredForSecurityGroups()
        if "fixed_ips" in changes:
            self._reallocate(session, row, changes["fixed_ips"] or [])
        stamp(row, **values)

    def _reallocate(self, session: Session, row: Port, asked: list[dict[str, Any]]) -> None:
        """The port's addresses become `asked`: kept where they match, the rest allocated."""
        network = session.get(Network, row.network_id)
        kept = {(a.subnet_id, a.ip_address) for a in row.fixed_ips}
        wanted_exact = {(r.get("subnet_id"), r.get("ip_address")) for r in asked}
        for allocation in list(row.fixed_ips):
            if (allocation.subnet_id, allocation.ip_address) not in wanted_exact and (
                None,
                allocation.ip_address,
            ) not in wanted_exact:
                row.fixed_ips.remove(allocation)
        session.flush()
        new = [
            r
            for r in asked
            if not any(
                r.get("ip_address") == ip and r.get("subnet_id") in (None, s) for s, ip in kept
            )
        ]
        self._allocate(session, row, network, new)  # type: ignore[arg-type]

    def delete(
        self, caller: Caller | None, port_id: str, by_service: bool = False, quiet: bool = False
    ) -> None:
        """Delete the port; `by_service` also a router's or floating IP's, `quiet` without a
        notification (undoing a create that was never announced)."""
        with self.writing() as session:
            row = get_port(session, caller, port_id)
            if row.device_owner in SERVICE_OWNERS and not by_service:
                raise errors.ServicePortInUse(port_id, row.device_owner)
            body = render(session, [row])[0]
            bound = bool(row.host_id)
            _forget(session, row)
            if bound:  # the host's agent removes its device; recorded with the delete
                self.deps.ownership.enqueue(session, UNPLUG, port_id)
        if bound:
            self.deps.waker.wake()
        if not quiet:
            self.notify(caller, "delete", "port", body)


def _refuse_service_owner(caller: Caller | None, body: dict[str, Any]) -> None:
    """Only admins (and the service itself) make ports that routers and floating IPs own."""
    owner = str(body.get("device_owner") or "")
    if caller is not None and not caller.is_admin and owner.startswith("network:"):
        raise errors.PolicyNotAuthorized(f"Only an administrator may set device_owner {owner}.")


def _forget(session: Session, row: Port) -> None:
    """Delete a port in the caller's transaction; its floating IPs are disassociated."""
    for fip in session.scalars(select(FloatingIp).where(FloatingIp.port_id == row.port_id)):
        stamp(fip, port_id=None, fixed_ip_address=None, router_id=None, status="DOWN")
    session.flush()
    drop_tags(session, row.port_id)
    session.delete(row)


def _allocation(port: Port, subnet: Subnet, address: str) -> IpAllocation:
    return IpAllocation(
        port_id=port.port_id,
        subnet_id=subnet.subnet_id,
        ip_address=address,
        network_id=subnet.network_id,
    )


def _subnet_for(
    subnets: list[Subnet], subnet_id: Any, address: ipam.IpAddress | None, network_id: str
) -> Subnet:
    if subnet_id is not None:
        for subnet in subnets:
            if subnet.subnet_id == subnet_id:
                return subnet
        raise errors.InvalidInput(
            f"Failed to create port on network {network_id}, because "
            f"fixed_ips included invalid subnet {subnet_id}."
        )
    for subnet in subnets:
        if address is not None and address in ipaddress.ip_network(subnet.cidr):
            return subnet
    raise errors.InvalidIpForNetwork(str(address))


def _check_fixed(subnet: Subnet, address: ipam.IpAddress, device_owner: str) -> None:
    network = ipaddress.ip_network(subnet.cidr)
    first, last = ipam.hosts(network)
    if address.version != network.version or not (first <= address <= last):
        raise errors.FixedIpNotValid(str(address), subnet.subnet_id)
    if str(address) == subnet.gateway_ip and device_owner != ROUTER_INTERFACE:
        raise errors.IpAddressAlreadyAllocated(str(address), subnet.subnet_id)


def _taken(session: Session, subnet_id: str, address: str) -> bool:
    query = select(IpAllocation.port_id).where(
        IpAllocation.subnet_id == subnet_id, IpAllocation.ip_address == address
    )
    return session.scalar(query) is not None


def _mac_taken(session: Session, network_id: str, mac: str) -> bool:
    query = select(Port.port_id).where(Port.network_id == network_id, Port.mac_address == mac)
    return session.scalar(query) is not None


def _pairs(pairs: list[Any], mac: str) -> list[dict[str, str]]:
    result = []
    for pair in pairs:
        if not isinstance(pair, dict) or "ip_address" not in pair:
            raise errors.InvalidInput(f"Allowed address pair {pair} needs an ip_address.")
        try:
            ipaddress.ip_network(str(pair["ip_address"]), strict=False)
        except ValueError as exc:
            raise errors.InvalidInput(f"'{pair['ip_address']}' is not a valid IP.") from exc
        pair_mac = pair.get("mac_address") or mac
        if not ipam.valid_mac(pair_mac):
            raise errors.InvalidInput(f"'{pair_mac}' is not a valid MAC address.")
        result.append({"ip_address": str(pair["ip_address"]), "mac_address": pair_mac})
    return result
